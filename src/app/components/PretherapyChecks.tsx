import { displayName } from '../../core/index.ts';
import type { AgentChecks, CheckStatus } from '../../core/model.ts';
import { getKnowledge } from '../../knowledge/index.ts';
import { CHECK_LABEL, CHECK_MARK, formatDate } from '../format.ts';
import { EvidenceRefs } from './EvidenceRefs.tsx';

function CheckRow({ c }: { c: CheckStatus }) {
  return (
    <tr className={`check-${c.state}`}>
      <th scope="row">
        {c.name}
        <div className="muted small">within {c.windowDays} days</div>
      </th>
      <td>
        <span className={`state state-${c.state}`}>
          <span aria-hidden="true">{CHECK_MARK[c.state]} </span>
          {CHECK_LABEL[c.state]}
        </span>
      </td>
      <td>
        <ul className="readings">
          {c.readings.map((r) =>
            r.measurement || r.state === 'missing' || r.state === 'could-not-check' ? (
              <li key={r.analyte}>
                {r.name}:{' '}
                {r.measurement
                  ? `${r.measurement.originalValue ?? (r.measurement.value !== undefined ? `${r.measurement.value} ${r.measurement.unit ?? ''}` : (r.measurement.call ?? '—'))}, ${formatDate(r.measurement.date)}`
                  : r.state === 'could-not-check'
                    ? 'could not check'
                    : 'none on file'}
                {r.measurement?.derivedFrom && r.state !== 'abnormal' ? (
                  <span className="muted small"> ({r.measurement.derivedFrom})</span>
                ) : null}
                {r.threshold ? <span className="muted"> (limit {r.threshold})</span> : null}
                {r.state === 'abnormal' ? <strong className="flag"> {r.why}</strong> : null}
              </li>
            ) : (
              // A problem-list hint: no value of its own, only what it says.
              <li key={r.analyte}>
                {r.state === 'abnormal' ? <strong className="flag">{r.why}</strong> : r.why}
              </li>
            ),
          )}
        </ul>
        {c.doseNotes?.map((n) => (
          <p key={n.agent} className="dose-note">
            <strong>Dose per label ({displayName(getKnowledge(), n.agent)}):</strong> {n.text}
            {n.verified ? null : <span className="muted"> (label wording not yet verified)</span>}
          </p>
        ))}
      </td>
      <td>{c.orders.length ? c.orders.map((o) => o.display).join('; ') : '—'}</td>
    </tr>
  );
}

/** Baseline checks per candidate agent: state, last value and date, threshold, and what to order. */
export function PretherapyChecks({ checks }: { checks: readonly AgentChecks[] }) {
  const kb = getKnowledge();
  return (
    <section className="panel" aria-labelledby="checks-h">
      <h2 id="checks-h">Before the first dose</h2>
      {!checks.length ? <p>No candidate agent, so no pre-therapy checks.</p> : null}
      {checks.map((a, i) => {
        const open = a.checks.filter((c) => c.state !== 'current');
        return (
          <details key={a.agent} className="agent-checks" open={i === 0}>
            <summary>
              <strong>{displayName(kb, a.agent)}</strong>:{' '}
              {open.length
                ? `${open.length} of ${a.checks.length} checks need attention`
                : 'all checks current'}
            </summary>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">
                  Pre-therapy checks for {displayName(kb, a.agent)}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Check</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last value and date</th>
                    <th scope="col">To order</th>
                  </tr>
                </thead>
                <tbody>
                  {a.checks.map((c) => (
                    <CheckRow key={c.check} c={c} />
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted small">
              <EvidenceRefs ids={[...new Set(a.checks.flatMap((c) => c.evidence))]} />
            </p>
          </details>
        );
      })}
    </section>
  );
}
