/**
 * The timeline's biomarker row: ALK and ROS1 reported on the same day share one marker and one
 * label ("ALK · ROS1"), instead of two labels printed over each other ("RAOS1"); tests months apart
 * keep their own markers.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { TherapyTimeline } from '../../../src/app/components/TherapyTimeline.tsx';
import type { BiomarkerResult, Gene } from '../../../src/core/model.ts';
import { summariseTherapy } from '../../../src/core/rules/therapy-history.ts';
import { daysAgo, line } from '../core/builders.ts';

const NOW = '2026-11-22T09:00:00Z';
const result = (gene: Gene, date: string): BiomarkerResult => ({
  gene,
  kind: 'rearrangement',
  method: 'NGS-RNA',
  specimen: 'tissue',
  call: gene === 'ALK' ? 'negative' : 'positive',
  status: 'final',
  resistanceMutations: [],
  display: `${gene} fusion panel`,
  sources: [`Observation/${gene}-${date}`],
  date,
});

const labels = (html: string) =>
  [...html.matchAll(/<text[^>]*class="tl-mark-label"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('therapy timeline: biomarker labels', () => {
  const therapy = summariseTherapy([]).summary;

  it('ALK and ROS1 on the same date: one marker labelled "ALK · ROS1", both results in its title', () => {
    const html = renderToStaticMarkup(
      <TherapyTimeline
        therapy={therapy}
        tests={[result('ALK', '2026-10-01'), result('ROS1', '2026-10-01')]}
        cns={[]}
        now={NOW}
      />,
    );
    expect(labels(html)).toEqual(['ALK · ROS1']);
    expect(html.match(/class="tl-test"/g)).toHaveLength(1);
    expect(html).toMatch(/<title>ALK test[^<]*; ROS1 test[^<]*<\/title>/);
  });

  it('tests a year apart keep their own markers and labels', () => {
    const html = renderToStaticMarkup(
      <TherapyTimeline
        therapy={therapy}
        tests={[result('ALK', '2025-06-01'), result('ROS1', '2026-10-01')]}
        cns={[]}
        now={NOW}
      />,
    );
    expect(labels(html)).toEqual(['ALK', 'ROS1']);
  });

  it('carboplatin dropped for maintenance in line 1 is not "treated as progression" because carboplatin in line 2 is', () => {
    const lines = [
      line('carboplatin', { start: daysAgo(700), status: 'ended', end: daysAgo(610) }),
      line('pemetrexed', {
        start: daysAgo(700),
        status: 'ended',
        end: daysAgo(400),
        endReason: 'progression',
      }),
      line('pembrolizumab', {
        start: daysAgo(700),
        status: 'ended',
        end: daysAgo(400),
        endReason: 'progression',
      }),
      line('carboplatin', { start: daysAgo(380), status: 'ended', end: daysAgo(100) }),
      line('paclitaxel', { start: daysAgo(380), status: 'ended', end: daysAgo(100) }),
    ];
    const summary = summariseTherapy(lines).summary;
    const html = renderToStaticMarkup(<TherapyTimeline therapy={summary} tests={[]} cns={[]} now={NOW} />);
    const titles = [...html.matchAll(/<title>(Line \d[^<]*)<\/title>/g)].map((m) => m[1] ?? '');
    const line1 = titles.find((t) => t.startsWith('Line 1')) ?? '';
    const line2 = titles.find((t) => t.startsWith('Line 2')) ?? '';
    expect(line1).toMatch(/carboplatin/);
    expect(line1).not.toMatch(/treated as progression/);
    expect(line2).toMatch(/carboplatin[^;]*\(treated as progression\)/);
  });
});
