import type { BiomarkerResult, Gene, GeneStatus, TestingRecommendation } from '../../core/model.ts';
import { formatDate, METHOD_LABEL, SPECIMEN_LABEL, STATUS_LABEL } from '../format.ts';
import { EvidenceRefs } from './EvidenceRefs.tsx';

function ResultLine({ r }: { r: BiomarkerResult }) {
  return (
    <li>
      <span className={`call call-${r.call}`}>{r.call}</span> {METHOD_LABEL[r.method]},{' '}
      {SPECIMEN_LABEL[r.specimen]}, {formatDate(r.date)}
      {r.fusionPartner ? `, partner ${r.fusionPartner}` : ''}
      {r.status !== 'final' ? <span className="muted"> (status: {r.status})</span> : null}
      <div className="source">
        “{r.display}” <span className="muted">— {r.sources.join(', ')}</span>
      </div>
    </li>
  );
}

function GeneCard({ status }: { status: GeneStatus }) {
  const main = status.basis[0];
  return (
    <article className={`gene gene-${status.status}`} aria-labelledby={`gene-${status.gene}`}>
      <h3 id={`gene-${status.gene}`}>
        {status.gene}: <span className={`badge status-${status.status}`}>{STATUS_LABEL[status.status]}</span>
      </h3>
      {main ? (
        <p className="gene-basis">
          {METHOD_LABEL[main.method]} on {SPECIMEN_LABEL[main.specimen]}, {formatDate(main.date)}
        </p>
      ) : null}
      {status.couldNotCheck ? (
        <p className="warn">
          <span aria-hidden="true">✕ </span>Could not check: the biomarker search failed, so this status may
          be incomplete.
        </p>
      ) : null}
      <ul className="reasons">
        {status.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      {status.resistanceMutations.length ? (
        <p>
          <strong>Resistance mutations:</strong>{' '}
          {status.resistanceMutations.map((m) => `${m.mutation} (${formatDate(m.date)})`).join(', ')}
        </p>
      ) : null}
      <EvidenceRefs ids={status.evidence} />
      {status.basis.length || status.ignored.length ? (
        <details className="sources">
          <summary>
            Source results ({status.basis.length}
            {status.ignored.length ? ` + ${status.ignored.length} set aside` : ''})
          </summary>
          <ul>
            {status.basis.map((r) => (
              <ResultLine key={r.sources.join()} r={r} />
            ))}
          </ul>
          {status.ignored.length ? (
            <>
              <h4>Set aside</h4>
              <ul>
                {status.ignored.map(({ result, why }) => (
                  <li key={result.sources.join()}>
                    {why}{' '}
                    <span className="muted">
                      — “{result.display}”, {result.sources.join(', ')}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </details>
      ) : null}
    </article>
  );
}

export function TestingAdvice({ testing }: { testing: readonly TestingRecommendation[] }) {
  if (!testing.length) return null;
  return (
    <div className="testing">
      <h3>Testing to consider</h3>
      <ul>
        {testing.map((t) => (
          <li key={`${t.kind}-${t.genes.join()}`} className={`sev-${t.severity}`}>
            <strong>{t.test}</strong> ({t.genes.join(', ')}). {t.why} <EvidenceRefs ids={t.evidence} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** ALK and ROS1 status: how sure we are, on what, and the results a click away. */
export function BiomarkerPanel({
  biomarkers,
  testing,
}: {
  biomarkers: Record<Gene, GeneStatus>;
  testing: readonly TestingRecommendation[];
}) {
  return (
    <section className="panel" aria-labelledby="biomarkers-h">
      <h2 id="biomarkers-h">Biomarkers</h2>
      <div className="genes">
        <GeneCard status={biomarkers.ALK} />
        <GeneCard status={biomarkers.ROS1} />
      </div>
      <TestingAdvice testing={testing} />
    </section>
  );
}
