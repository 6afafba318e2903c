import type { DiseaseSummary } from '../../core/model.ts';
import { formatDate } from '../format.ts';

const TRI = { yes: 'yes', no: 'no', unknown: 'not recorded' } as const;

/** NSCLC histology and stage, and whether the disease has reached the brain or the meninges. */
export function DiseasePanel({
  disease,
  couldNotCheck,
}: {
  disease: DiseaseSummary;
  couldNotCheck: boolean;
}) {
  const n = disease.nsclc;
  return (
    <section className="panel" aria-labelledby="disease-h">
      <h2 id="disease-h">Disease</h2>
      {couldNotCheck ? (
        <p className="warn">
          <span aria-hidden="true">✕ </span>Could not check: the diagnoses could not be read.
        </p>
      ) : null}
      <dl className="facts">
        <div>
          <dt>Diagnosis</dt>
          <dd>
            {n ? (
              <>
                {n.display}{' '}
                <span className="muted">
                  ({n.histology}, stage {n.stage}
                  {n.onsetDate ? `, since ${formatDate(n.onsetDate)}` : ''})
                </span>
              </>
            ) : (
              'No NSCLC diagnosis found in the problem list'
            )}
          </dd>
        </div>
        <div>
          <dt>Advanced / metastatic</dt>
          <dd>{TRI[disease.advanced]}</dd>
        </div>
        <div>
          <dt>CNS disease</dt>
          <dd>
            <strong className={disease.cnsDisease ? 'flag' : undefined}>
              {disease.cnsDisease
                ? disease.leptomeningeal
                  ? 'Yes, including leptomeningeal disease'
                  : 'Yes: brain metastases'
                : disease.cnsFindings.length
                  ? 'Not active (see history)'
                  : 'None recorded'}
            </strong>
          </dd>
        </div>
        <div>
          <dt>Oligometastatic</dt>
          <dd>{TRI[disease.oligometastatic]}</dd>
        </div>
      </dl>
      {disease.cnsFindings.length ? (
        <ul className="cns">
          {disease.cnsFindings.map((f) => (
            <li key={f.sources.join() || f.display}>
              {f.display}: {f.clinicalStatus}
              {f.symptomatic !== undefined ? (f.symptomatic ? ', symptomatic' : ', asymptomatic') : ''}
              {f.lesionCount !== undefined ? `, ${f.lesionCount} lesion(s)` : ''}, {formatDate(f.date)}{' '}
              <span className="muted">— {f.sources.join(', ')}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
