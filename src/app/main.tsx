/**
 * Entry for `index.html`. One page, routed on the query string:
 * - `?iss=…&launch=…` (EHR launch) or `?iss=…` (standalone): start the SMART authorization;
 * - anything else (`?code=&state=` on return, or a reload): complete it and show the summary.
 * `public/launch.html` forwards its query string here, so `/launch.html` is the launch URL.
 *
 * Never a blank screen [issue 6]: `index.html` carries a static "loading" text until React renders;
 * an ErrorBoundary catches rendering exceptions; React's own error callbacks and the global `error` /
 * `unhandledrejection` handlers log a redacted one-liner and, while the app has not rendered yet (or
 * after React gave up on the tree), show the unexpected-error page.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ErrorBoundary, logAppError, UnexpectedErrorPage } from './components/ErrorBoundary.tsx';
import { ErrorPage } from './components/ErrorPage.tsx';
import { loadLaunchConfig } from './config.ts';
import { AppError, toAppError } from './smart/errors.ts';
import { startLaunch } from './smart/launch.ts';
import { readyOnce } from './smart/ready.ts';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');

/** True once the App (inside its ErrorBoundary) is on screen: from then on it shows its own errors. */
let appRendered = false;
const showUnexpected = () => {
  appRendered = false;
  // Outside React's callback: rendering from inside one is not allowed.
  setTimeout(() => root.render(<UnexpectedErrorPage />), 0);
};

const root = createRoot(container, {
  // Replace React's default reporting (full error and component stack): the ErrorBoundary logs the
  // redacted one-liner for errors it catches.
  onCaughtError: () => {},
  onUncaughtError: (e) => {
    logAppError('render failed (uncaught)', e);
    showUnexpected();
  },
  onRecoverableError: (e) => logAppError('recoverable render error', e),
});

const onGlobalError = (where: string, e: unknown) => {
  logAppError(where, e);
  if (!appRendered) showUnexpected();
};
window.addEventListener('error', (ev) => onGlobalError('uncaught error', ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => onGlobalError('unhandled rejection', ev.reason));

const url = new URL(window.location.href);
const isLaunch = ['iss', 'launch', 'fhirServiceUrl', 'patientId'].some((p) => url.searchParams.has(p));

const fail = (e: unknown) => {
  appRendered = true;
  root.render(<ErrorPage error={e instanceof AppError ? e : toAppError(e, 'config')} />);
};

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
    .then((config) => {
      root.render(
        <StrictMode>
          <ErrorBoundary>
            <App
              getClient={readyOnce}
              now={config.evaluateAt ? `${config.evaluateAt}T23:59:59Z` : new Date().toISOString()}
              formularyUnavailable={config.formularyUnavailable}
              pageCap={config.pageCap}
              requestTimeoutMs={config.requestTimeoutMs}
            />
          </ErrorBoundary>
        </StrictMode>,
      );
      appRendered = true;
    })
    .catch(fail);
}
