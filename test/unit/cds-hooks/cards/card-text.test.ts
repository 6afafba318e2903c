/**
 * Card text: record-supplied strings render literally (no HTML, no markdown links or images), and
 * every summary template stays under 140 characters with the longest names.
 */
import { describe, expect, it } from 'vitest';
import { md, plain, stableUuid, summary } from '../../../../cds-hooks/cards/card-kit.ts';
import { orderCards } from '../../../../cds-hooks/cards/order-findings.ts';
import type { OrderFinding, OrderFindingCode } from '../../../../src/core/model.ts';
import { getKnowledge } from '../../../../src/knowledge/index.ts';

const kb = getKnowledge();
const ctx = {
  kb,
  serviceId: 'alk-ros1-order-select',
  hookInstance: 'h-1',
  patientId: 'p1',
  appLaunchUrl: 'https://cds.example/launch.html',
};

describe('markdown from the record is inert', () => {
  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[click me](javascript:alert(1))',
    '![x](https://evil.example/pixel.png)',
    '**bold** _it_ `code` # heading | table |',
    'line one\nline two\u0000\u0007',
  ])('%s', (hostile) => {
    const out = md(hostile);
    expect(out).not.toMatch(/<[a-z/!]/i);
    expect(out).not.toMatch(/(^|[^\\])\[[^\]]*(^|[^\\])\]\(/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that none get through
    expect(out).not.toMatch(/[\u0000-\u0008\n]/);
    expect(out).not.toMatch(/(^|[^\\])[*_`#|]/);
  });

  it('a hostile draft display reaches the card only escaped', () => {
    const finding: OrderFinding = {
      draft: 'MedicationRequest/d1',
      drug: null,
      topic: 'order-concordance',
      code: 'no-confirmed-biomarker',
      severity: 'warning',
      message: 'x',
      evidence: ['aslan-ch11-2'],
      alternatives: [],
    };
    const [card] = orderCards(
      [finding],
      [{ ref: 'MedicationRequest/d1', drug: null, display: '<script>alert(1)</script>' }],
      null,
      ctx,
    );
    expect(card?.detail).not.toContain('<script>');
    expect(card?.summary).not.toContain('<script>');
  });
});

describe('summaries stay under 140 characters', () => {
  const codes: OrderFindingCode[] = [
    'wrong-gene',
    'less-effective',
    'not-preferred',
    'not-listed',
    'poor-cns',
    'prior-progression',
    'resistance',
    'no-standard-tki',
    'immunotherapy',
    'no-confirmed-biomarker',
    'interaction',
  ];
  const longest = [...kb.agents.keys()].sort((a, b) => b.length - a.length).slice(0, 3);
  it.each(codes)('%s with the longest agent names and three alternatives', (code) => {
    for (const severity of ['warning', 'critical'] as const) {
      const finding: OrderFinding = {
        draft: 'MedicationRequest/d1',
        drug: longest[0] ?? null,
        topic: code === 'interaction' ? 'drug-interaction' : 'order-concordance',
        code,
        severity,
        message: 'm',
        evidence: ['aslan-ch11-2'],
        alternatives: longest,
        ...(code === 'interaction'
          ? {
              interaction: {
                agent: 'x',
                with: {
                  drug: 'st-johns-wort',
                  display: 'Hypericum perforatum (St John’s wort) 300 mg extended-release capsule, one daily',
                  sources: [],
                },
                interactionClass: 'strong-cyp3a-inducer',
                severity,
                message: 'm',
                className: 'strong CYP3A inducer',
                ruleMessage: 'm',
                evidence: ['fda-ddi-table'],
                verified: false,
              },
            }
          : {}),
      };
      const [card] = orderCards(
        [finding],
        [{ ref: 'MedicationRequest/d1', drug: longest[0] ?? null, display: 'x'.repeat(300) }],
        'ROS1',
        ctx,
      );
      expect(card?.summary.length).toBeLessThan(140);
    }
  });

  it('summary() shortens with an ellipsis, never past 139 characters', () => {
    expect(summary('a'.repeat(500))).toHaveLength(139);
    expect(summary('short')).toBe('short');
  });

  it('stable uuids are valid RFC 4122 version-5 layout and deterministic', () => {
    const a = stableUuid('h', 'k');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('h', 'k')).toBe(a);
    expect(stableUuid('h', 'k2')).not.toBe(a);
  });
});

describe('plain-text summaries', () => {
  it('record text in a summary is cleaned, not markdown-escaped', () => {
    expect(plain('Lorbrena [100 mg] *tablet*\u202e')).toBe('Lorbrena [100 mg] *tablet*');
    expect(plain('<b>x</b>\n\ty')).toBe('‹b›x‹/b› y');
    expect(plain('[click](javascript:alert(1)) ![img](https://evil.example/p.png)')).toBe(
      '[click] (javascript:alert(1)) ! [img] (https://evil.example/p.png)',
    );
  });
});
