import type {
  AvoidedOption,
  AvoidReason,
  Gene,
  GeneStatus,
  TherapyOption,
  TherapyRecommendation,
} from '../../core/model.ts';
import { type AttentionItem, optionBadge } from '../attention.ts';
import { STATUS_LABEL } from '../format.ts';
import { EvidenceRefs } from './EvidenceRefs.tsx';

function OptionItem({ o, badge }: { o: TherapyOption; badge?: AttentionItem | undefined }) {
  return (
    <li className="option">
      <strong className="option-name">{o.name}</strong>
      {badge ? (
        <a href={`#${badge.anchor}`} className={`badge sev-badge sev-badge-${badge.severity}`}>
          <span aria-hidden="true">{badge.severity === 'critical' ? '!! ' : '! '}</span>
          {badge.severity === 'critical' ? 'Critical' : 'Warning'}:{' '}
          {badge.text.length > 60 ? `${badge.text.slice(0, 59)}…` : badge.text}
        </a>
      ) : null}
      {o.promoted ? <span className="badge status-equivocal">moved up: preferred unavailable</span> : null}
      {o.notes.map((n) => (
        <div key={n} className="note">
          {n}
        </div>
      ))}
      <div className="meta">
        <span className="muted">Rule: {o.rule}</span> <EvidenceRefs ids={o.evidence} />
      </div>
    </li>
  );
}

const AVOID_REASON: Record<AvoidReason, string> = {
  'wrong-gene': 'wrong target',
  'less-effective': 'less effective',
  'poor-cns': 'poor CNS activity',
  'prior-progression': 'progressed on it',
  resistance: 'resistance mutation',
  immunotherapy: 'immunotherapy',
  'no-standard-tki': 'no standard TKI',
};

/** Avoided agents that share one reason are listed together ("why not" said once). */
function groupAvoid(avoid: readonly AvoidedOption[]) {
  const groups = new Map<
    string,
    { why: string; rule: string; reason: AvoidReason; severity: string; names: string[]; evidence: string[] }
  >();
  for (const a of avoid) {
    const key = `${a.rule}|${a.why}`;
    const g = groups.get(key) ?? {
      why: a.why,
      rule: a.rule,
      reason: a.reason,
      severity: a.severity,
      names: [],
      evidence: [],
    };
    if (!g.names.includes(a.name)) g.names.push(a.name);
    for (const e of a.evidence) if (!g.evidence.includes(e)) g.evidence.push(e);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** Preferred / other / avoid, each with the rule and evidence, and formulary notes. */
export function Recommendations({
  recommendation,
  biomarkers,
  attention = [],
}: {
  recommendation: TherapyRecommendation | null;
  /** Findings to badge on the options they concern. */
  attention?: readonly AttentionItem[];
  biomarkers: Record<Gene, GeneStatus>;
}) {
  if (!recommendation)
    return (
      <section className="panel" aria-labelledby="rec-h">
        <h2 id="rec-h">Therapy options</h2>
        <p className="no-rec">
          <strong>No targeted therapy is suggested:</strong> there is no confirmed positive ALK or ROS1 result
          (ALK {STATUS_LABEL[biomarkers.ALK.status].toLowerCase()}, ROS1{' '}
          {STATUS_LABEL[biomarkers.ROS1.status].toLowerCase()}
          ). See “Testing to consider”.
        </p>
      </section>
    );
  const r = recommendation;
  return (
    <section className="panel" aria-labelledby="rec-h">
      <h2 id="rec-h">Therapy options ({r.gene}+)</h2>
      <p className="situation">
        {r.situation.label} <EvidenceRefs ids={r.situation.evidence} />
      </p>
      {r.notes.length ? (
        <ul className="formulary">
          {r.notes.map((n) => (
            <li key={n}>
              <span aria-hidden="true">! </span>
              {n}
            </li>
          ))}
        </ul>
      ) : null}
      <h3 className="tier tier-preferred">Preferred</h3>
      {r.preferred.length ? (
        <ul className="options" aria-label="Preferred options">
          {r.preferred.map((o) => (
            <OptionItem key={o.id} o={o} badge={optionBadge(attention, o.id)} />
          ))}
        </ul>
      ) : (
        <p>None for this situation.</p>
      )}
      {r.other.length ? (
        <>
          <h3 className="tier">Other recommended</h3>
          <ul className="options" aria-label="Other options">
            {r.other.map((o) => (
              <OptionItem key={o.id} o={o} badge={optionBadge(attention, o.id)} />
            ))}
          </ul>
        </>
      ) : null}
      {r.avoid.length ? (
        <>
          <h3 className="tier tier-avoid">Avoid — why not</h3>
          <ul className="options avoid" aria-label="Agents to avoid">
            {groupAvoid(r.avoid).map((g) => (
              <li key={`${g.rule}-${g.why}`} className="option">
                <strong>{g.names.join(', ')}</strong>{' '}
                <span className="reason-tag">{AVOID_REASON[g.reason]}</span>
                <div className="note">{g.why}</div>
                <div className="meta">
                  <span className="muted">Rule: {g.rule}</span> <EvidenceRefs ids={g.evidence} />
                </div>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
