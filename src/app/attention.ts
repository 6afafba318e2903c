/**
 * What needs the clinician's attention, worst first: every critical and warning finding of the
 * assessment, each with its value (contraindication, QTc 512 ms, LVEF 38 %, could not check). One
 * place for the screen's "Needs attention" block, the option badges and the printed summary.
 */
import { displayName } from '../core/index.ts';
import type { Assessment, CheckStatus, Severity } from '../core/model.ts';
import { SEVERITY_RANK } from '../core/model.ts';
import type { Knowledge } from '../knowledge/index.ts';

export interface AttentionItem {
  severity: Exclude<Severity, 'info'>;
  /** What to look at, with the value: "QTc 512 ms on 2026-11-20 (≥ 500 ms)". */
  text: string;
  /** Who it concerns, by agent: "critical before Crizotinib, Ceritinib; warning before Alectinib". */
  concerns?: string;
  /** Agents it concerns (badges on the therapy options). */
  agents: string[];
  /** Where the details are on the page. */
  anchor: 'ix-h' | 'checks-h' | 'timeline-h' | 'notices-h' | 'biomarkers-h';
}

const firstSentence = (s: string) => {
  const m = /^(.+?[.!?])(\s|$)/.exec(s);
  return m?.[1] ?? s;
};

/** Agents grouped by severity: "critical before A, B; warning before C". */
function bySeverity(kb: Knowledge, pairs: readonly [string, Severity][], word: string): string {
  return (['critical', 'warning'] as const)
    .map((sev) => {
      const names = [...new Set(pairs.filter(([, s]) => s === sev).map(([a]) => displayName(kb, a)))];
      return names.length ? `${sev} ${word} ${names.join(', ')}` : '';
    })
    .filter(Boolean)
    .join('; ');
}

export function attentionItems(a: Assessment, kb: Knowledge): AttentionItem[] {
  const items: AttentionItem[] = [];

  // Interactions: each critical one on its own line with the label's words; warnings per drug.
  const warnByDrug = new Map<string, { display: string; agents: string[] }>();
  for (const i of a.interactions) {
    if (i.severity === 'critical') {
      items.push({
        severity: 'critical',
        text: `${displayName(kb, i.agent)} + ${i.with.display}: ${firstSentence(i.ruleMessage)}`,
        agents: [i.agent],
        anchor: 'ix-h',
      });
    } else if (i.severity === 'warning') {
      const g = warnByDrug.get(i.with.display) ?? { display: i.with.display, agents: [] };
      if (!g.agents.includes(i.agent)) g.agents.push(i.agent);
      warnByDrug.set(i.with.display, g);
    }
  }
  for (const g of warnByDrug.values())
    items.push({
      severity: 'warning',
      text: `${g.display} interacts with ${g.agents.map((x) => displayName(kb, x)).join(', ')}`,
      agents: g.agents,
      anchor: 'ix-h',
    });

  // Abnormal and unreadable pre-therapy checks, once per check, with the agents they concern.
  const byCheck = new Map<string, { status: CheckStatus; pairs: [string, Severity][] }>();
  for (const agent of a.checks)
    for (const c of agent.checks) {
      if (c.state !== 'abnormal' && c.state !== 'could-not-check') continue;
      const entry = byCheck.get(c.check) ?? { status: c, pairs: [] };
      const sev: Severity = c.state === 'abnormal' ? c.severity : 'warning';
      entry.pairs.push([agent.agent, sev]);
      if (SEVERITY_RANK[sev] > SEVERITY_RANK[entry.status.severity]) entry.status = c;
      byCheck.set(c.check, entry);
    }
  for (const { status, pairs } of byCheck.values()) {
    const shown = status.readings.filter((r) => r.state === status.state);
    const worst = pairs.some(([, s]) => s === 'critical') ? 'critical' : 'warning';
    const dose = [
      ...new Set(
        a.checks
          .flatMap((x) => x.checks.filter((c) => c.check === status.check))
          .flatMap((c) => c.doseNotes ?? [])
          .map((n) => displayName(kb, n.agent)),
      ),
    ];
    items.push({
      severity: worst,
      text:
        status.state === 'abnormal'
          ? `${shown.map((r) => r.why.replace(/\.$/, '')).join('; ')}`
          : `Could not check ${status.name}: ${shown.map((r) => r.why.replace(/\.$/, '')).join('; ')}`,
      concerns: [bySeverity(kb, pairs, 'before'), dose.length ? `label dose rule for ${dose.join(', ')}` : '']
        .filter(Boolean)
        .join('; '),
      agents: pairs.map(([x]) => x),
      anchor: 'checks-h',
    });
  }

  // Biomarker testing the plan depends on (discordant, unconfirmed screen, failed test).
  for (const t of a.testing)
    if (t.severity !== 'info')
      items.push({ severity: t.severity, text: `${t.test}: ${t.why}`, agents: [], anchor: 'biomarkers-h' });

  // A result out of date that was abnormal when last measured is still a warning.
  const staleAbnormal = new Map<string, string>();
  for (const agent of a.checks)
    for (const c of agent.checks)
      if (c.state === 'stale')
        for (const r of c.readings)
          if (r.state === 'stale' && r.threshold)
            staleAbnormal.set(`${c.check}|${r.analyte}`, r.why.replace(/\.$/, ''));
  for (const why of staleAbnormal.values())
    items.push({
      severity: 'warning',
      text: `Out of date and abnormal when last measured: ${why}`,
      agents: [],
      anchor: 'checks-h',
    });

  if (a.therapy.couldNotCheck)
    items.push({ severity: 'warning', text: a.therapy.couldNotCheck, agents: [], anchor: 'timeline-h' });
  for (const n of a.notices)
    if (n.severity !== 'info')
      items.push({ severity: n.severity, text: n.message, agents: [], anchor: 'notices-h' });

  // Worst first; the order found within a severity.
  return items
    .map((item, i) => ({ item, i }))
    .sort((x, y) => SEVERITY_RANK[y.item.severity] - SEVERITY_RANK[x.item.severity] || x.i - y.i)
    .map(({ item }) => item);
}

/** The worst finding about one therapy option, for its badge. */
export function optionBadge(items: readonly AttentionItem[], agent: string): AttentionItem | undefined {
  return items.find((i) => i.agents.includes(agent));
}
