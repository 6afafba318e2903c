import type { DataGap } from '../../core/model.ts';
import { DOMAIN_LABEL } from '../format.ts';

const REASON: Record<DataGap['reason'], string> = {
  error: 'the server returned an error',
  forbidden: 'access was refused',
  unauthorized: 'the session was not accepted',
  'not-found': 'not found',
  timeout: 'no answer in time',
  truncated: 'too many results: only part was read',
  'not-requested': 'not requested',
  'invalid-response': 'the answer was not usable',
  'unresolved-reference': 'a referenced resource could not be found',
};

/**
 * What could not be read, said plainly and near the top: a failed query is never a reassuring blank
 * [issue 4]. Each gap names the parts of the record it affects.
 */
export function DataGaps({ gaps }: { gaps: readonly DataGap[] }) {
  if (!gaps.length) return null;
  return (
    <section className="panel gaps" aria-labelledby="gaps-h" role="alert">
      <h2 id="gaps-h">
        <span aria-hidden="true">✕ </span>Parts of the record could not be read
      </h2>
      <p>
        Findings that depend on them show <strong>“could not check”</strong>. An empty section below does not
        mean “nothing on file”.
      </p>
      <ul>
        {gaps.map((g) => (
          <li key={`${g.query}-${g.reason}-${g.detail}`}>
            <strong>{g.domains.map((d) => DOMAIN_LABEL[d]).join(', ')}</strong>: {REASON[g.reason]}{' '}
            <span className="muted">
              ({g.query}: {g.detail})
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
