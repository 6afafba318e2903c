/**
 * The sandbox EHR page: a header that says plainly this is a local sandbox with synthetic patients,
 * the patient picker, then the chart of the chosen patient. Session and patients come from the
 * sandbox routes; discovery is fetched once and reused for every hook call's prefetch templates.
 * With `hashRouting` (the real page), each patient and tab has its own URL, `#/patient/<id>/<tab>`:
 * a reload, a bookmark or the back button returns there.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi, type Exchange, errorText } from './api.ts';
import { Chart, TAB_KEYS, type TabKey } from './components/Chart.tsx';
import { DeveloperPanel } from './components/DeveloperPanel.tsx';
import { ImportPatient } from './components/ImportPatient.tsx';
import { PatientPicker } from './components/PatientPicker.tsx';
import { TodayIs } from './components/TodayIs.tsx';
import { redact } from './hooks.ts';
import type { Discovery, SandboxPatient, Session } from './types.ts';

/** `#/patient/<id>/<tab>` → its parts; anything else is the patient picker. */
export function parseRoute(hash: string): { patientId?: string; tab?: TabKey } {
  const m = /^#\/patient\/([^/]+)(?:\/([a-z]+))?\/?$/.exec(hash);
  if (!m?.[1]) return {};
  let patientId: string;
  try {
    patientId = decodeURIComponent(m[1]);
  } catch {
    return {};
  }
  const tab = TAB_KEYS.find((t) => t === m[2]);
  return { patientId, ...(tab ? { tab } : {}) };
}

export const routeOf = (patientId: string, tab: TabKey): string =>
  `#/patient/${encodeURIComponent(patientId)}/${tab}`;

interface Loaded {
  session: Session;
  patients: SandboxPatient[];
}

export function App({
  origin,
  fetchImpl,
  hashRouting = false,
}: {
  origin?: string;
  fetchImpl?: typeof fetch;
  hashRouting?: boolean;
} = {}) {
  const [exchanges, setExchanges] = useState<{ hook?: Exchange; feedback?: Exchange }>({});
  const api = useMemo(
    () =>
      createApi({
        ...(origin ? { origin } : {}),
        ...(fetchImpl ? { fetchImpl } : {}),
        onExchange: (kind, exchange) => {
          // Kept redacted: no token stays in page state longer than the call.
          if (kind !== 'discovery')
            setExchanges((e) => ({
              ...e,
              [kind]: {
                ...exchange,
                requestBody: redact(exchange.requestBody),
                responseBody: redact(exchange.responseBody),
              },
            }));
        },
      }),
    [origin, fetchImpl],
  );
  const [loaded, setLoaded] = useState<Loaded>();
  const [loadError, setLoadError] = useState<string>();
  const [route, setRoute] = useState<{ patientId?: string; tab?: TabKey }>(() =>
    hashRouting ? parseRoute(window.location.hash) : {},
  );
  const patientId = route.patientId;
  /** Set when the patient was just chosen in the picker: focus then moves to the chart heading. */
  const [picked, setPicked] = useState(false);
  useEffect(() => {
    if (!hashRouting) return;
    const follow = () => {
      setPicked(false);
      setRoute(parseRoute(window.location.hash));
    };
    window.addEventListener('hashchange', follow);
    window.addEventListener('popstate', follow);
    return () => {
      window.removeEventListener('hashchange', follow);
      window.removeEventListener('popstate', follow);
    };
  }, [hashRouting]);
  const pickPatient = useCallback(
    (id: string) => {
      setPicked(true);
      setRoute({ patientId: id, tab: 'summary' });
      if (hashRouting) window.history.pushState(null, '', routeOf(id, 'summary'));
    },
    [hashRouting],
  );
  const changePatient = useCallback(() => {
    setPicked(false);
    setRoute({});
    if (hashRouting)
      window.history.pushState(null, '', `${window.location.pathname}${window.location.search}`);
  }, [hashRouting]);
  const changeTab = useCallback(
    (tab: TabKey) => {
      setRoute((r) => (r.patientId && r.tab !== tab ? { ...r, tab } : r));
      // A tab is a place in the same chart: replaced, so Back leaves the chart rather than the tab.
      if (hashRouting && patientId) window.history.replaceState(null, '', routeOf(patientId, tab));
    },
    [hashRouting, patientId],
  );
  const [sendPrefetch, setSendPrefetch] = useState(true);
  const discoveryRef = useRef<Promise<Discovery> | undefined>(undefined);

  const load = useCallback(async () => {
    setLoadError(undefined);
    try {
      const [session, patients] = await Promise.all([api.session(), api.patients()]);
      setLoaded({ session, patients: Array.isArray(patients) ? patients : [] });
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const session = loaded?.session;
  const discovery = useCallback((): Promise<Discovery> => {
    if (!session) return Promise.reject(new Error('No sandbox session yet.'));
    if (!discoveryRef.current) {
      discoveryRef.current = api.discovery(session).catch((e: unknown) => {
        discoveryRef.current = undefined;
        throw new Error(`CDS discovery failed: ${errorText(e)}`);
      });
    }
    return discoveryRef.current;
  }, [api, session]);

  const patient = loaded?.patients.find((p) => p.id === patientId);

  return (
    <div className="app">
      <header className="ehr-header">
        <div>
          <p className="sandbox-flag">Local sandbox · synthetic patients only · not for clinical use</p>
          <h1>Sandbox EHR</h1>
          <p className="muted">
            A stand-in EHR for the ALK/ROS1 NSCLC decision support: it fires CDS Hooks, shows the cards and
            launches the SMART app.
            {session && (
              <>
                {' '}
                Signed in as {session.user.name} (<code>{session.user.reference}</code>).
              </>
            )}
          </p>
        </div>
        <div className="header-controls">
          <label className="toggle">
            <input
              type="checkbox"
              checked={sendPrefetch}
              onChange={(e) => setSendPrefetch(e.target.checked)}
            />
            Send prefetch
          </label>
          <p className="muted toggle-help">
            {sendPrefetch
              ? 'Hook calls carry prefetch filled from the sandbox FHIR server.'
              : 'Hook calls carry no prefetch: the service queries the FHIR server itself.'}
          </p>
          <TodayIs api={api} onChange={() => void load()} />
        </div>
      </header>
      <main className="ehr-main">
        {!loaded && !loadError && <p role="status">Loading the sandbox…</p>}
        {loadError && (
          <div role="alert" className="hook-error">
            <p>The sandbox could not be loaded. {loadError}</p>
            <button type="button" className="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        )}
        {loaded && patientId && !patient && (
          <p role="alert" className="hook-error">
            There is no sample patient “{patientId}” in this sandbox. Choose one below.
          </p>
        )}
        {loaded && !patient && <PatientPicker patients={loaded.patients} onPick={pickPatient} />}
        {loaded && !patient && (
          <ImportPatient
            onImported={(id) => {
              // The new patient joins the list, and its chart opens.
              void load().then(() => pickPatient(id));
            }}
          />
        )}
        {loaded && patient && (
          <Chart
            key={patient.id}
            api={api}
            session={loaded.session}
            patient={patient}
            sendPrefetch={sendPrefetch}
            discovery={discovery}
            onChangePatient={changePatient}
            {...(route.tab ? { tab: route.tab } : {})}
            onTabChange={changeTab}
            focusHeading={picked}
          />
        )}
        <DeveloperPanel hook={exchanges.hook} feedback={exchanges.feedback} />
      </main>
    </div>
  );
}
