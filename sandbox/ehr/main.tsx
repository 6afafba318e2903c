/** Entry of the sandbox EHR page (`/`). */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');

createRoot(container).render(
  <StrictMode>
    <ErrorBoundary>
      <App hashRouting />
    </ErrorBoundary>
  </StrictMode>,
);
