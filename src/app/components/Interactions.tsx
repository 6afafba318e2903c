import { displayName } from '../../core/index.ts';
import type { InteractionFinding } from '../../core/model.ts';
import { getKnowledge } from '../../knowledge/index.ts';
import { SEVERITY_LABEL } from '../format.ts';
import { EvidenceRefs } from './EvidenceRefs.tsx';

/** Interactions between candidate agents and the patient's current medications. */
export function Interactions({
  interactions,
  couldNotCheck,
}: {
  interactions: readonly InteractionFinding[];
  couldNotCheck: boolean;
}) {
  const kb = getKnowledge();
  return (
    <section className="panel" aria-labelledby="ix-h">
      <h2 id="ix-h">Interactions with current medications</h2>
      {couldNotCheck ? (
        <p className="warn">
          <span aria-hidden="true">✕ </span>Could not check: the medication list could not be read completely.
        </p>
      ) : null}
      {interactions.length ? (
        <ul>
          {interactions.map((i) => (
            <li key={`${i.agent}-${i.with.drug}-${i.interactionClass}`} className={`sev-${i.severity}`}>
              <strong>
                {SEVERITY_LABEL[i.severity]}: {displayName(kb, i.agent)} + {i.with.display}
              </strong>{' '}
              ({i.interactionClass}). {i.message} <EvidenceRefs ids={i.evidence} />
            </li>
          ))}
        </ul>
      ) : !couldNotCheck ? (
        <p>None found among the current medications.</p>
      ) : null}
    </section>
  );
}
