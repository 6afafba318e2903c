/**
 * The sandbox EHR page: a header that says plainly this is a local sandbox with synthetic patients,
 * the patient picker, then the chart of the chosen patient. Session and patients come from the
 * sandbox routes; discovery is fetched once and reused for every hook call's prefetch templates.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi, type Exchange, errorText } from './api.ts';
import { Chart } from './components/Chart.tsx';
import { DeveloperPanel } from './components/DeveloperPanel.tsx';
import { PatientPicker } from './components/PatientPicker.tsx';
import { redact } from './hooks.ts';
import type { Discovery, SandboxPatient, Session } from './types.ts';

interface Loaded {
  session: Session;
  patients: SandboxPatient[];
}

export function App({ origin, fetchImpl }: { origin?: string; fetchImpl?: typeof fetch } = {}) {
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
  const [patientId, setPatientId] = useState<string>();
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
        {loaded && !patient && <PatientPicker patients={loaded.patients} onPick={setPatientId} />}
        {loaded && patient && (
          <Chart
            key={patient.id}
            api={api}
            session={loaded.session}
            patient={patient}
            sendPrefetch={sendPrefetch}
            discovery={discovery}
            onChangePatient={() => setPatientId(undefined)}
          />
        )}
        <DeveloperPanel hook={exchanges.hook} feedback={exchanges.feedback} />
      </main>
    </div>
  );
}
