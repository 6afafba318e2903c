import type { LocalTherapyInfo, Notice } from '../../core/model.ts';
import { EvidenceRefs } from './EvidenceRefs.tsx';

const KIND = {
  oligometastatic: 'Oligometastatic disease',
  'cns-lesions': 'Brain lesions',
  oligoprogression: 'Oligoprogression',
} as const;

export function LocalTherapy({ info }: { info: readonly LocalTherapyInfo[] }) {
  if (!info.length) return null;
  return (
    <section className="panel" aria-labelledby="local-h">
      <h2 id="local-h">Local therapy</h2>
      <ul>
        {info.map((l) => (
          <li key={l.kind}>
            <strong>{KIND[l.kind]}:</strong> {l.message} <EvidenceRefs ids={l.evidence} />
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Notices({ notices }: { notices: readonly Notice[] }) {
  const shown = notices.filter((n) => !n.message.startsWith('Could not read'));
  if (!shown.length) return null;
  return (
    <section className="panel" aria-labelledby="notices-h">
      <h2 id="notices-h">Notes on the record</h2>
      <ul>
        {shown.map((n) => (
          <li key={n.message} className={`sev-${n.severity}`}>
            {n.message}
            {n.sources.length ? <span className="muted"> — {n.sources.join(', ')}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
