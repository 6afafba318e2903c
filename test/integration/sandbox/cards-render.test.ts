/**
 * Every card of every sample patient as a clinician's screen shows it: patient-view, and
 * order-select for each drug the catalog drafts (`expect.orders`), called over HTTP through the
 * sandbox the way sample-patients-over-http.test.ts does, with and without prefetch. Each detail
 * goes through a CommonMark renderer (markdown-it), and the text a reader sees is checked:
 * no markdown left over, no evidence ids, short enough to read at a glance, the most severe card
 * first, a class of drugs named once, and an interaction's drug not repeated on every line.
 */
import MarkdownIt from 'markdown-it';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIDENCE_EXTENSION } from '../../../cds-hooks/cards/card-kit.ts';
import { patientViewContext } from '../../../sandbox/ehr/hooks.ts';
import type { Card } from '../../../sandbox/ehr/types.ts';
import { SAMPLE_CATALOG, type SampleCatalogEntry } from '../../../sandbox/patients/load.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import { chartOf, openSandboxEhr, type SandboxEhr } from '../../support/sandbox-ehr.ts';

const kb = getKnowledge();

/**
 * At most 12 lines of detail: about what a CDS card panel shows beside the chart without
 * scrolling (the ALK first-line therapy card, the longest, needs 10: situation, two tiers, their
 * notes, the avoid list and one line of sources). A card that needs more belongs in the SMART app.
 */
const MAX_LINES = 12;
/** The therapy card, the longest, stays under this many characters of markdown (it was ~11,000). */
const MAX_THERAPY_CHARS = 1_500;
const RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

// Strict CommonMark, raw HTML off: anything a card's markdown fails to express shows up as text.
const markdown = new MarkdownIt('commonmark', { html: false });

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
/** The text a reader sees: the rendered HTML without its tags, character references decoded. */
const visibleText = (html: string) =>
  html.replace(/<[^>]*>/g, '').replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITIES[e] ?? '');

const renderedText = (c: Card) => visibleText(markdown.render(c.detail ?? ''));
const detailLines = (c: Card) => (c.detail ?? '').split('\n').filter((l) => l.trim() !== '');
const citedIds = (c: Card): string[] => {
  const ids = (c as Card & { extension?: Record<string, unknown> }).extension?.[EVIDENCE_EXTENSION];
  return Array.isArray(ids) ? (ids as string[]) : [];
};
const topicOf = (c: Card) => c.source.topic?.code;

const immunotherapyNames = [...kb.agents.values()].filter((a) => a.kind === 'immunotherapy').map((a) => a.id);

let sandbox: Sandbox;
let ehr: SandboxEhr;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, feedbackDataDir: 'memory://', logLevel: 'silent' });
  ehr = await openSandboxEhr(sandbox.base);
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

/** What is wrong with one response as a clinician reads it (empty when nothing is). */
function problems(where: string, cards: readonly Card[]): string[] {
  const out: string[] = [];
  const say = (c: Card, what: string) => out.push(`${where} · ${c.summary}: ${what}`);

  // Severity first: critical, then warning, then info.
  const ranks = cards.map((c) => RANK[c.indicator] ?? 3);
  if (ranks.some((r, i) => i > 0 && r < (ranks[i - 1] as number)))
    out.push(`${where}: cards not in severity order (${cards.map((c) => c.indicator).join(', ')})`);

  for (const c of cards) {
    const html = markdown.render(c.detail ?? '');
    const text = visibleText(html);
    for (const [name, leftover] of [
      ['**', /\*\*/],
      ['__', /__/],
      ['](', /\]\(/],
      ['a backslash escape', /\\[!-/:-@[-`{-~]/],
    ] as const) {
      if (leftover.test(text)) say(c, `${name} survives rendering: ${text}`);
    }
    const lines = detailLines(c).length;
    if (lines > MAX_LINES) say(c, `${lines} lines of detail (at most ${MAX_LINES})`);
    if (topicOf(c) === 'therapy-selection' && (c.detail ?? '').length >= MAX_THERAPY_CHARS)
      say(c, `${(c.detail ?? '').length} characters of detail (under ${MAX_THERAPY_CHARS})`);

    // Sources are short titles: the evidence ids stay in the extension, out of the text.
    const ids = citedIds(c);
    if (c.detail?.includes('**Sources**') && ids.length === 0) say(c, 'sources without evidence ids');
    for (const id of ids) if (text.includes(id)) say(c, `shows the evidence id ${id}`);
    // A label's revision ("US label as of …") stays reachable, in its link's title.
    for (const [anchor, label] of html.matchAll(/<a [^>]*>([^<]*)<\/a>/g)) {
      if (/ label$/.test(label ?? '') && !/ title="[^"]*US label/.test(anchor))
        say(c, `label link without its revision: ${anchor}`);
    }

    // A class of drugs is named once, not one bullet per drug.
    const iciLines = detailLines(c).filter(
      (l) => l.startsWith('- ') && immunotherapyNames.some((n) => l.toLowerCase().includes(n)),
    );
    if (iciLines.length > 1) say(c, `${iciLines.length} bullets name immune checkpoint inhibitors`);

    // The interaction's drug is in the summary, not repeated on every line.
    if (topicOf(c) === 'drug-interaction' && /: (avoid|caution with) /.test(c.summary)) {
      const drug = c.summary.replace(/: (avoid|caution with) .*$/, '');
      const repeats = renderedText(c)
        .split('\n')
        .filter((l) => l.includes(drug));
      if (repeats.length > 0) say(c, `repeats "${drug}" in ${repeats.length} lines`);
    }
  }
  return out;
}

const modes = [
  ['with prefetch', true],
  ['without prefetch (fallback through fhirServer)', false],
] as const;

describe.each(modes)(
  'every card of every sample patient, rendered as CommonMark, %s',
  (_mode, withPrefetch) => {
    it.each(SAMPLE_CATALOG.map((e) => [e.id, e] as const))('%s', async (_id, entry) => {
      const chart = chartOf(entry);
      const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), withPrefetch);
      const found = problems('patient-view', view);
      for (const drug of Object.keys(entry.expect.orders ?? {})) {
        found.push(...problems(`order-select ${drug}`, await ehr.selectDrug(chart, drug, withPrefetch)));
      }
      expect(found).toEqual([]);
    });
  },
);

describe('the ALK first-line therapy card (alk-naive)', () => {
  it('names immune checkpoint inhibitors once as a class, and the ROS1-only TKIs on one line', async () => {
    const entry = SAMPLE_CATALOG.find((e) => e.id === 'alk-naive') as SampleCatalogEntry;
    const chart = chartOf(entry);
    const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), true);
    const therapy = view.find((c) => topicOf(c) === 'therapy-selection') as Card;
    const text = renderedText(therapy);
    expect(text).toMatch(/Immune checkpoint inhibitors \(pembrolizumab, nivolumab, …\): /);
    expect(text.match(/Immune checkpoint inhibitors \(/g)).toHaveLength(1);
    expect(detailLines(therapy).filter((l) => /Not an inhibitor of ALK/.test(l))).toEqual([
      expect.stringMatching(/Entrectinib .*Repotrectinib .*Taletrectinib .*: Not an inhibitor of ALK/),
    ]);
    // Every source the card rests on is still named, by id, for machines.
    expect(citedIds(therapy)).toEqual(
      expect.arrayContaining(['trial-alex', 'label-entrectinib-indications']),
    );
    expect(text).toMatch(/Sources: .*ALEX trial/);
  });
});
