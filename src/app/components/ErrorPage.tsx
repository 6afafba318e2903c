import { type AppError, errorTitle, relaunchHelps } from '../smart/errors.ts';

/** A readable page for launch, auth and loading failures; never a blank screen [§6 items 52–53]. */
export function ErrorPage({ error }: { error: AppError }) {
  return (
    <main className="error-page" aria-labelledby="error-h">
      <div role="alert">
        <h1 id="error-h">{errorTitle(error.kind)}</h1>
        <p>{error.message}</p>
        {relaunchHelps(error.kind) ? (
          <p className="hint">
            <strong>What to do:</strong> close this window and relaunch the app from the EHR (from the
            patient’s chart).
          </p>
        ) : (
          <p className="hint">
            <strong>What to do:</strong> ask your EHR or app administrator to check the app’s launch
            configuration.
          </p>
        )}
      </div>
      <p className="muted small">Error type: {error.kind}</p>
    </main>
  );
}
