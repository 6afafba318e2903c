import { evidenceAnchor } from '../format.ts';

/** Inline citations: each id links to its entry in the evidence list at the bottom of the page. */
export function EvidenceRefs({ ids, label = 'Evidence' }: { ids: readonly string[]; label?: string }) {
  if (!ids.length) return null;
  return (
    <span className="evidence-refs">
      <span className="muted">{label}: </span>
      {ids.map((id, i) => (
        <span key={id}>
          {i > 0 ? ', ' : ''}
          <a href={`#${evidenceAnchor(id)}`}>{id}</a>
        </span>
      ))}
    </span>
  );
}
