/**
 * The SMART app as an EHR embeds it: an EHR launch (`launch.html?iss=…&launch=…`) in an iframe,
 * plus the same launch in a new window.
 */

export interface SmartState {
  src?: string;
  /** What was launched: the app itself or a card's link. */
  label?: string;
  loading: boolean;
  error?: string;
  /** When the browser blocked the new window: a link the user can follow instead. */
  newTabUrl?: string;
}

export function SmartPanel({
  state,
  onRelaunch,
  onOpenNewTab,
}: {
  state: SmartState;
  onRelaunch: () => void;
  onOpenNewTab: () => void;
}) {
  return (
    <div className="smart-panel">
      <div className="panel-heading">
        <h2>SMART app{state.label ? `: ${state.label}` : ''}</h2>
        <div className="button-row">
          <button
            type="button"
            className="button button-secondary"
            onClick={onRelaunch}
            disabled={state.loading}
          >
            Relaunch
          </button>
          <button type="button" className="button" onClick={onOpenNewTab}>
            Open in new tab
          </button>
        </div>
      </div>
      {state.loading && <p role="status">Launching the SMART app…</p>}
      {state.error && (
        <p role="alert" className="hook-error">
          The SMART app could not be launched. {state.error}
        </p>
      )}
      {state.newTabUrl && (
        <p role="status">
          The browser blocked the new window.{' '}
          <a href={state.newTabUrl} target="_blank" rel="noopener noreferrer">
            Open the SMART app in a new tab
          </a>
        </p>
      )}
      {state.src ? (
        <iframe className="smart-frame" title="SMART app" src={state.src} />
      ) : (
        !state.loading && !state.error && <p className="muted">The app launches when this tab is opened.</p>
      )}
    </div>
  );
}
