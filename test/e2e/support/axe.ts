/**
 * axe-core in the page: the WCAG 2.1 A/AA rules (wcag2a, wcag2aa, wcag21a, wcag21aa), one readable
 * line per violated rule and node. Shared by the browser tests of the app and the sandbox EHR page.
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

interface AxeSummary {
  violations: AxeViolation[];
  /** Rules that passed, and rules axe could not decide (e.g. contrast over a gradient): for the log. */
  passes: number;
  incomplete: { id: string; nodes: number }[];
}

/** Runs axe on the whole document; returns the violations, one readable line per rule and node. */
export async function axeViolations(page: Page, label: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async (values): Promise<AxeSummary> => {
    const axe = (window as any).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values } });
    return {
      violations: result.violations,
      passes: result.passes.length,
      incomplete: result.incomplete.map((i: any) => ({ id: i.id, nodes: i.nodes.length })),
    };
  }, TAGS);
  console.info(
    `[axe] ${label}: ${r.violations.length} violated rule(s), ${r.passes} passed, incomplete: ${JSON.stringify(r.incomplete)}`,
  );
  // A harness that checks nothing would also report no violations.
  expect(r.passes).toBeGreaterThan(10);
  return r.violations.flatMap((v) =>
    v.nodes.map(
      (n) => `${v.id} (${v.impact}): ${v.help} at ${n.target.join(' ')} — ${n.failureSummary ?? ''}`,
    ),
  );
}
