/**
 * Entry for `index.html`. One page, routed on the query string:
 * - `?iss=…&launch=…` (EHR launch) or `?iss=…` (standalone): start the SMART authorization;
 * - anything else (`?code=&state=` on return, or a reload): complete it and show the summary.
 * `public/launch.html` forwards its query string here, so `/launch.html` is the launch URL.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ErrorPage } from './components/ErrorPage.tsx';
import { loadLaunchConfig } from './config.ts';
import { AppError, toAppError } from './smart/errors.ts';
import { startLaunch } from './smart/launch.ts';
import { readyOnce } from './smart/ready.ts';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');
const root = createRoot(container);
const url = new URL(window.location.href);
const isLaunch = ['iss', 'launch', 'fhirServiceUrl', 'patientId'].some((p) => url.searchParams.has(p));

const fail = (e: unknown) =>
  root.render(<ErrorPage error={e instanceof AppError ? e : toAppError(e, 'config')} />);

if (isLaunch) {
  root.render(
    <main className="loading-page">
      <p role="status">Connecting to the EHR…</p>
    </main>,
  );
  loadLaunchConfig()
    .then((config) => startLaunch(url, config))
    .catch(fail);
} else {
  loadLaunchConfig()
    .then((config) =>
      root.render(
        <StrictMode>
          <App
            getClient={readyOnce}
            now={new Date().toISOString()}
            formularyUnavailable={config.formularyUnavailable}
            pageCap={config.pageCap}
          />
        </StrictMode>,
      ),
    )
    .catch(fail);
}
