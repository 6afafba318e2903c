import { useEffect } from 'react';
import { displayName } from '../core/index.ts';
import type { Assessment, DataDomain } from '../core/model.ts';
import { getKnowledge } from '../knowledge/index.ts';
import { type AttentionItem, attentionItems } from './attention.ts';
import { BiomarkerPanel } from './components/BiomarkerPanel.tsx';
import { DataGaps } from './components/DataGaps.tsx';
import { DiseasePanel } from './components/DiseasePanel.tsx';
import { ErrorPage } from './components/ErrorPage.tsx';
import { EvidenceList } from './components/EvidenceList.tsx';
import { Interactions } from './components/Interactions.tsx';
import { LocalTherapy, Notices } from './components/LocalTherapy.tsx';
import { NeedsAttention } from './components/NeedsAttention.tsx';
import { PatientBanner } from './components/PatientBanner.tsx';
import { PretherapyChecks } from './components/PretherapyChecks.tsx';
import { Recommendations } from './components/Recommendations.tsx';
import { lineStatus, TherapyTimeline } from './components/TherapyTimeline.tsx';
import { TumourBoardSummary } from './components/TumourBoardSummary.tsx';
import { formatDate, METHOD_LABEL, STATUS_LABEL } from './format.ts';
import { type Ready, useAssessment } from './hooks/use-assessment.ts';
import type { SmartClient } from './smart/load-patient-data.ts';
import { applySmartStyle } from './smart/style.ts';

/** The answers first: driver and certainty, brain, line, what to give. */
function AtAGlance({ a }: { a: Assessment }) {
  const kb = getKnowledge();
  const driver = a.driver ? a.biomarkers[a.driver] : undefined;
  const basis = driver?.basis[0];
  const r = a.recommendation;
  // Every preferred agent, not only the first: a renal dose rule for the second one matters too.
  const preferred = new Set(r?.preferred.map((o) => o.id) ?? []);
  const candidates = orderedChecks(a).filter((c) => preferred.has(c.agent));
  const checkLine = (candidates.length ? candidates : orderedChecks(a).slice(0, 1)).map((c) => {
    const open = c.checks.filter((s) => s.state !== 'current');
    const abnormal = open.filter((s) => s.state === 'abnormal').map((s) => s.name.replace(/ \(.*\)$/, ''));
    const name = displayName(kb, c.agent).replace(/ \(.*\)$/, '');
    if (!open.length) return `${name}: checks current`;
    return `${name}: ${abnormal.length ? `${abnormal.join(', ')} abnormal` : `${open.length} to complete`}${abnormal.length && open.length > abnormal.length ? `, ${open.length - abnormal.length} to complete` : ''}`;
  });
  return (
    <section className="panel glance" aria-labelledby="glance-h">
      <h2 id="glance-h">At a glance</h2>
      <dl className="facts">
        <div>
          <dt>Driver</dt>
          <dd>
            {driver ? (
              <>
                <strong>{driver.gene} positive</strong>
                {basis ? ` (${METHOD_LABEL[basis.method]}, ${formatDate(basis.date)})` : ''}
              </>
            ) : (
              `None confirmed — ALK ${STATUS_LABEL[a.biomarkers.ALK.status].toLowerCase()}, ROS1 ${STATUS_LABEL[a.biomarkers.ROS1.status].toLowerCase()}`
            )}
          </dd>
        </div>
        <div>
          <dt>Brain</dt>
          <dd>
            {a.disease.cnsDisease ? (
              <strong>{a.disease.leptomeningeal ? 'Leptomeningeal disease' : 'Brain metastases'}</strong>
            ) : (
              'No active CNS disease recorded'
            )}
          </dd>
        </div>
        <div>
          <dt>Therapy so far</dt>
          <dd>
            {a.therapy.couldNotCheck ? (
              <strong className="warn">
                Could not check: the medication record could not be read completely
              </strong>
            ) : (
              lineStatus(a.therapy)
            )}
          </dd>
        </div>
        <div>
          <dt>Preferred now</dt>
          <dd>
            {r?.preferred.length ? (
              <strong>{r.preferred.map((o) => o.name).join(' or ')}</strong>
            ) : (
              'No targeted therapy suggested'
            )}
          </dd>
        </div>
        {checkLine.length ? (
          <div>
            <dt>Before first dose</dt>
            <dd>{checkLine.join(' · ')}</dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}

/** Checks for the preferred agents first, in the order the recommendation lists them. */
function orderedChecks(a: Assessment) {
  const order = [...(a.recommendation?.preferred ?? []), ...(a.recommendation?.other ?? [])].map((o) => o.id);
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  return [...a.checks].sort((x, y) => rank(x.agent) - rank(y.agent));
}

export function Summary({ ready, now }: { ready: Ready; now: string }) {
  const { assessment: a, data } = ready;
  const gapDomains = new Set<DataDomain>(data.gaps.flatMap((g) => g.domains));
  const tests = [...a.biomarkers.ALK.basis, ...a.biomarkers.ROS1.basis];
  for (const g of [a.biomarkers.ALK, a.biomarkers.ROS1])
    for (const m of g.resistanceMutations)
      if (!tests.some((t) => t.sources.join() === m.sources.join()))
        tests.push({
          gene: g.gene,
          kind: 'mutation',
          method: 'unknown',
          specimen: 'unknown',
          call: 'positive',
          status: 'final',
          resistanceMutations: [m.mutation],
          display: m.mutation,
          sources: m.sources,
          ...(m.date ? { date: m.date } : {}),
        });
  const attention: AttentionItem[] = attentionItems(a, getKnowledge());
  return (
    <div className="summary" data-testid="summary">
      {data.context.needPatientBanner ? <PatientBanner patient={data.patient} now={now} /> : null}
      <NeedsAttention items={attention} />
      <DataGaps gaps={data.gaps} />
      <AtAGlance a={a} />
      <div className="columns">
        <div className="col">
          <Recommendations
            recommendation={a.recommendation}
            biomarkers={a.biomarkers}
            attention={attention}
          />
          <PretherapyChecks checks={orderedChecks(a)} />
          <Interactions interactions={a.interactions} couldNotCheck={gapDomains.has('medications')} />
          <LocalTherapy info={a.localTherapy} />
        </div>
        <div className="col">
          <BiomarkerPanel biomarkers={a.biomarkers} testing={a.testing} />
          <DiseasePanel disease={a.disease} couldNotCheck={gapDomains.has('conditions')} />
          <TherapyTimeline therapy={a.therapy} tests={tests} cns={a.disease.cnsFindings} now={now} />
          <Notices notices={a.notices} />
        </div>
      </div>
      <EvidenceList assessment={a} />
      <TumourBoardSummary a={a} patient={data.patient} gaps={data.gaps} attention={attention} now={now} />
    </div>
  );
}

export interface AppProps {
  getClient: () => Promise<SmartClient>;
  now: string;
  formularyUnavailable?: string[];
  pageCap?: number;
  requestTimeoutMs?: number;
}

export function App({ getClient, now, formularyUnavailable, pageCap, requestTimeoutMs }: AppProps) {
  const state = useAssessment(getClient, {
    now,
    ...(formularyUnavailable ? { formularyUnavailable } : {}),
    ...(pageCap ? { pageCap } : {}),
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
  });
  const styleUrl = state.phase === 'ready' ? state.data.context.smartStyleUrl : undefined;
  useEffect(() => {
    if (styleUrl) void applySmartStyle(styleUrl);
  }, [styleUrl]);
  useEffect(() => {
    // Printing shows every collapsed section (source results, checks for other agents).
    const open = () => {
      for (const d of document.querySelectorAll('details')) d.setAttribute('open', '');
    };
    window.addEventListener('beforeprint', open);
    return () => window.removeEventListener('beforeprint', open);
  }, []);

  if (state.phase === 'error') return <ErrorPage error={state.error} />;
  const kb = getKnowledge();
  return (
    <>
      <header className="app-header">
        <h1>ALK / ROS1 NSCLC decision support</h1>
        <div className="header-actions">
          <span className="muted small">Knowledge base {kb.version}</span>
          {state.phase === 'ready' ? (
            <button type="button" onClick={() => window.print()}>
              Print tumour board summary
            </button>
          ) : null}
        </div>
      </header>
      <main aria-busy={state.phase === 'loading'}>
        {state.phase === 'loading' ? (
          <p className="loading" role="status">
            {state.step === 'authorising' ? 'Signing in to the EHR…' : 'Reading the record…'}
          </p>
        ) : (
          <Summary ready={state} now={now} />
        )}
      </main>
      <footer className="app-footer small muted">
        Decision support only: the clinician decides. Knowledge base {kb.version} ({kb.date}).
        {state.phase === 'ready'
          ? ` Evaluated ${state.assessment.evaluatedAt.slice(0, 16).replace('T', ' ')} UTC from ${state.data.requests} FHIR request(s) in ${state.data.waves} wave(s).`
          : ''}
      </footer>
    </>
  );
}
