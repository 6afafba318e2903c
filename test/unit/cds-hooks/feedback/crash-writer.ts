/**
 * Child process for the SIGKILL durability test (run with `node --import tsx`).
 * argv: <dataDir> <prefix>. Opens the store, prints `READY <openMs>`, then saves one record at a
 * time forever, printing `ACK <card> <saveMs>` after each save has resolved. stdout on a pipe is
 * synchronous on Linux, so a printed ACK was written before the next save starts.
 */
import { openFeedbackStore } from '../../../../cds-hooks/feedback/index.ts';

const [dataDir, prefix = 'crash'] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: crash-writer <dataDir> [prefix]\n');
  process.exit(2);
}

const t0 = performance.now();
const store = await openFeedbackStore({ dataDir });
process.stdout.write(`READY ${(performance.now() - t0).toFixed(1)}\n`);

for (let i = 0; ; i++) {
  const card = `${prefix}-${i}`;
  const start = performance.now();
  await store.save([
    {
      serviceId: 'alk-ros1-order-select',
      card,
      outcome: i % 2 === 0 ? 'accepted' : 'overridden',
      acceptedSuggestions: i % 2 === 0 ? [`suggestion-${i}`] : [],
      ...(i % 2 === 0 ? {} : { overrideReason: { userComment: 'crash test' } }),
      outcomeTimestamp: '2026-11-21T10:15:00Z',
      receivedAt: new Date().toISOString(),
    },
  ]);
  process.stdout.write(`ACK ${card} ${(performance.now() - start).toFixed(3)}\n`);
}
