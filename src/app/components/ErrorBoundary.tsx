/**
 * The last line of defence against a blank screen [issue 6]: a rendering exception anywhere below
 * the boundary replaces the page with a plain-words error page (what happened, what to do), never a
 * stack trace. The console gets the error's name and a redacted message only: no stack, no props, no
 * token, no record data.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { redact } from '../smart/errors.ts';

/** Name and a redacted, shortened message: enough to find the fault, nothing from the record. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${redact(e.message).slice(0, 200)}`;
  if (typeof e === 'string') return redact(e).slice(0, 200);
  return typeof e;
}

/** The only console output for unexpected errors (boundary, React root callbacks, global handlers). */
export function logAppError(where: string, e: unknown): void {
  console.error(`[alk-ros1-app] ${where}: ${describeError(e)}`);
}

/** What the clinician sees when the app itself failed (as opposed to the EHR or the record). */
export function UnexpectedErrorPage() {
  return (
    <main className="error-page" aria-labelledby="unexpected-h">
      <div role="alert">
        <h1 id="unexpected-h">The app stopped because of an unexpected problem</h1>
        <p>
          Something went wrong inside the app while it was preparing this page, so nothing from the patient’s
          record is shown. Nothing was changed in the record.
        </p>
        <p className="hint">
          <strong>What to do:</strong> reload the page. If this page comes back, close this window and
          relaunch the app from the EHR (from the patient’s chart). If it keeps happening, tell your app
          administrator the time it happened.
        </p>
        <p>
          <button type="button" onClick={() => window.location.reload()}>
            Reload the page
          </button>
        </p>
      </div>
      <p className="muted small">Error type: unexpected</p>
    </main>
  );
}

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidCatch(error: unknown, _info: ErrorInfo): void {
    // The component stack is not logged either: it names components, and adds nothing the name does not.
    logAppError('render failed', error);
  }

  override render(): ReactNode {
    return this.state.failed ? <UnexpectedErrorPage /> : this.props.children;
  }
}
