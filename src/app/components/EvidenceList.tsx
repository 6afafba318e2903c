import type { Assessment } from '../../core/model.ts';
import { getKnowledge, labelAsOf } from '../../knowledge/index.ts';
import { evidenceAnchor } from '../format.ts';

/** Every evidence id the assessment cites, in order of first use. */
export function citedEvidence(a: Assessment): string[] {
  const ids: string[] = [];
  const add = (xs: readonly string[]) => {
    for (const x of xs) if (!ids.includes(x)) ids.push(x);
  };
  const r = a.recommendation;
  if (r) {
    add(r.situation.evidence);
    for (const o of [...r.preferred, ...r.other]) add(o.evidence);
    for (const o of r.avoid) add(o.evidence);
  }
  for (const g of [a.biomarkers.ALK, a.biomarkers.ROS1]) add(g.evidence);
  for (const t of a.testing) add(t.evidence);
  for (const c of a.checks) for (const s of c.checks) add(s.evidence);
  for (const i of a.interactions) add(i.evidence);
  for (const l of a.localTherapy) add(l.evidence);
  return ids;
}

/** The sources behind the page, with the knowledge-base version. */
export function EvidenceList({ assessment }: { assessment: Assessment }) {
  const kb = getKnowledge();
  const ids = citedEvidence(assessment);
  return (
    <section className="panel evidence" aria-labelledby="evidence-h">
      <h2 id="evidence-h">Evidence</h2>
      <p className="muted">
        Knowledge base version {kb.version} ({kb.date}). {ids.length} source(s) cited on this page.
      </p>
      <ol>
        {ids.map((id) => {
          const e = kb.evidence.get(id);
          return (
            <li key={id} id={evidenceAnchor(id)} tabIndex={-1}>
              <strong>{id}</strong>{' '}
              {e ? (
                <>
                  {e.url ? (
                    <a href={e.url} target="_blank" rel="noreferrer noopener">
                      {e.title}
                    </a>
                  ) : (
                    e.title
                  )}
                  {e.section ? `, ${e.section}` : ''}
                  {labelAsOf(kb, id) ? ` (${labelAsOf(kb, id)})` : ''}.
                  {e.summary ? <span className="muted"> {e.summary}</span> : null}
                  {e.verified ? null : <em> (not yet verified)</em>}
                </>
              ) : (
                'unknown source'
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
