import type { AttentionItem } from '../attention.ts';

const MARK: Record<AttentionItem['severity'], string> = { critical: '!!', warning: '!' };
const WORD: Record<AttentionItem['severity'], string> = { critical: 'Critical', warning: 'Warning' };

/** Every critical and warning finding with its value, worst first, above everything else. */
export function NeedsAttention({ items }: { items: readonly AttentionItem[] }) {
  return (
    <section className="panel attention" aria-labelledby="attention-h">
      <h2 id="attention-h">Needs attention</h2>
      {items.length ? (
        <ul className="attention-list">
          {items.map((i) => (
            <li key={`${i.anchor}|${i.text}`} className={`attention-item sev-${i.severity}`}>
              <span className={`badge sev-badge sev-badge-${i.severity}`}>
                <span aria-hidden="true">{MARK[i.severity]} </span>
                {WORD[i.severity]}
              </span>{' '}
              {i.text}
              {i.concerns ? <span className="muted"> — {i.concerns}</span> : null}{' '}
              <a href={`#${i.anchor}`} className="small">
                details
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No critical or warning findings.</p>
      )}
    </section>
  );
}
