/**
 * The knowledge base holds together: every recommendation has evidence, every TKI has baseline
 * checks, codes are well-formed, and regimens name only known agents. Each rule is also shown to
 * fail on a deliberately broken copy, so the guard cannot pass vacuously.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeProblem, isValidLoinc, isValidSnomed } from '../../../src/knowledge/code-formats.ts';
import {
  bundledSources,
  getKnowledge,
  KnowledgeError,
  type KnowledgeSources,
  loadKnowledge,
} from '../../../src/knowledge/index.ts';

const kb = getKnowledge();
const copy = (): KnowledgeSources => structuredClone(bundledSources);
const expectInvalid = (sources: KnowledgeSources, problem: RegExp) => {
  try {
    loadKnowledge(sources);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect(String(e)).toMatch(problem);
    return;
  }
  throw new Error('the broken knowledge base was accepted');
};
type Raw = any;

describe('knowledge base integrity', () => {
  it('loads and validates the bundled knowledge base', () => {
    expect(kb.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(kb.tkis.map((t) => t.id).sort()).toEqual([
      'alectinib',
      'brigatinib',
      'ceritinib',
      'crizotinib',
      'ensartinib',
      'entrectinib',
      'lorlatinib',
      'repotrectinib',
      'taletrectinib',
    ]);
  });

  it('every recommendation (preferred, other, avoid, gene-wide) cites existing evidence', () => {
    for (const rule of kb.regimenRules) {
      for (const ref of [...rule.preferred, ...rule.other, ...rule.avoid]) {
        expect(ref.evidence.length, `${rule.id}/${ref.id}`).toBeGreaterThan(0);
        for (const e of ref.evidence) expect(kb.evidence.has(e), `${rule.id}/${ref.id} → ${e}`).toBe(true);
      }
    }
    for (const a of kb.regimens.geneWideAvoid) expect(a.evidence.every((e) => kb.evidence.has(e))).toBe(true);
  });

  it('every TKI has baseline checks with evidence; other agents say why they have none', () => {
    for (const agent of kb.agents.values()) {
      if (agent.kind === 'tki') {
        expect(agent.baselineChecks.length, agent.id).toBeGreaterThan(0);
        for (const c of agent.baselineChecks)
          expect(kb.checks.has(c.check), `${agent.id}/${c.check}`).toBe(true);
      } else {
        expect(agent.baselineChecksNote.length, agent.id).toBeGreaterThan(10);
      }
    }
  });

  it('every regimen rule names only known agents or options', () => {
    for (const rule of kb.regimenRules) {
      for (const ref of [...rule.preferred, ...rule.other, ...rule.avoid]) {
        expect(kb.agents.has(ref.id) || kb.nonDrugOptions.has(ref.id), `${rule.id} → ${ref.id}`).toBe(true);
      }
    }
  });

  it('evidence records cite by title, never by a file name or a document number; labels name their section', () => {
    for (const e of kb.evidence.values()) {
      for (const text of [e.id, e.title, e.section, e.citation, e.summary])
        expect(text ?? '', e.id).not.toMatch(/\.txt\b|\bseeds?\b|\bS00\d\b|clinical spec/i);
      if (e.kind === 'label') expect(e.section, e.id).toBeTruthy();
      if (e.kind === 'trial') expect(e.summary, e.id).toBeTruthy();
    }
  });

  it('unverified facts are marked, not hidden: the unverified RxNorm codes are never verified=true without a source', () => {
    const rx = [...kb.agents.values()].flatMap((a) => (a.rxnorm ? [a.rxnorm] : []));
    expect(
      rx
        .filter((r) => r.verified)
        .map((r) => r.code)
        .sort(),
    ).toEqual(['1148495', '1535457', '1727455', '1921217', '2103164', '40048']);
    for (const r of rx) expect(r.source.length).toBeGreaterThan(3);
  });

  it('every TKI whose label warns of ILD/pneumonitis (all but entrectinib) carries an information line citing its own label', () => {
    for (const t of kb.tkis.filter((x) => x.id !== 'entrectinib')) {
      const lines = t.dosingNotes.filter((n) => /pneumonitis|pulmonary/i.test(n.text));
      expect(lines.length, t.id).toBeGreaterThan(0);
      for (const n of lines) {
        const drugs = n.evidence.map((id) => kb.evidence.get(id)?.drug);
        expect(drugs, t.id).toContain(t.id);
        expect(
          drugs.filter((d) => d !== undefined && d !== t.id),
          t.id,
        ).toEqual([]);
      }
    }
  });

  it('src/knowledge/UNVERIFIED.md lists every unverified fact: its count matches the data', () => {
    const dataDir = join(import.meta.dirname, '../../../src/knowledge/data');
    const count = readdirSync(dataDir)
      .filter((f) => f.endsWith('.json'))
      .reduce(
        (n, f) => n + (readFileSync(join(dataDir, f), 'utf8').match(/"verified": false/g) ?? []).length,
        0,
      );
    const doc = readFileSync(join(dataDir, '../UNVERIFIED.md'), 'utf8');
    expect(doc).toContain(`Count: ${count} `);
    expect(doc.split('\n').filter((l) => /^\| [a-z-]+\.json \|/.test(l))).toHaveLength(count);
  });

  it('every TKI records its US label version, and every label section names a drug with one', () => {
    for (const t of kb.tkis) expect(t.label.basis.length, t.id).toBeGreaterThan(10);
    expect(kb.tkis.filter((t) => t.label.asOf === null).map((t) => t.id)).toEqual(['brigatinib']);
    for (const e of kb.evidence.values())
      if (e.kind === 'label') expect(kb.agents.get(e.drug ?? '')?.kind, e.id).toBe('tki');
  });

  it('each spec §2 gene has a first-line rule for both CNS states and an exhausted rule', () => {
    for (const gene of ['ALK', 'ROS1'] as const) {
      for (const cns of [true, false]) {
        expect(kb.regimenRules.some((r) => r.gene === gene && r.when.tkiNaive && r.when.cns === cns)).toBe(
          true,
        );
      }
      expect(kb.regimenRules.some((r) => r.gene === gene && r.when.targetedOptionsExhausted)).toBe(true);
    }
  });
});

describe('code formats', () => {
  it.each(['2345-7', '8636-3', '10230-1', '3084-1', '34534-8', '57698-3', '24326-1', '100019-9', 'LA6576-8'])(
    'LOINC %s is well-formed',
    (c) => {
      expect(isValidLoinc(c)).toBe(true);
    },
  );
  it.each(['2345-6', '8636-4', '10230', '3084-1x', 'LOINC'])(
    'LOINC %s is rejected (bad check digit or shape)',
    (c) => {
      expect(isValidLoinc(c)).toBe(false);
    },
  );
  it('SNOMED CT ids need digits and a concept partition', () => {
    expect(isValidSnomed('254637007')).toBe(true);
    expect(isValidSnomed('25463700')).toBe(false);
    expect(isValidSnomed('254637A07')).toBe(false);
    expect(codeProblem('http://hl7.org/fhir/sid/icd-10-cm', 'C79.31')).toBeUndefined();
    expect(codeProblem('http://hl7.org/fhir/sid/icd-10-cm', 'C7931x')).toMatch(/malformed/);
    expect(codeProblem('http://www.genenames.org', '427')).toMatch(/malformed/);
  });
});

describe('the integrity guard rejects broken copies', () => {
  it('a recommendation without evidence', () => {
    const s = copy();
    (s.regimens as Raw).rules[0].preferred[0].evidence = [];
    expectInvalid(s, /evidence/);
  });

  it('a recommendation citing evidence that does not exist', () => {
    const s = copy();
    (s.regimens as Raw).rules[0].preferred[0].evidence = ['S999-1'];
    expectInvalid(s, /unknown evidence "S999-1"/);
  });

  it('a regimen naming an unknown drug', () => {
    const s = copy();
    (s.regimens as Raw).rules[0].other.push({ id: 'zidesamtinib', evidence: ['ros1-first-line-qa-2025'] });
    expectInvalid(s, /unknown agent "zidesamtinib"/);
  });

  it('a TKI with no baseline checks', () => {
    const s = copy();
    (s.drugs as Raw).agents[0].baselineChecks = [];
    expectInvalid(s, /baselineChecks|too small|at least/i);
  });

  it('a TKI naming a check that does not exist', () => {
    const s = copy();
    (s.drugs as Raw).agents[0].baselineChecks[0].check = 'troponin';
    expectInvalid(s, /unknown check "troponin"/);
  });

  it('a malformed LOINC code (wrong check digit)', () => {
    const s = copy();
    (s.checks as Raw).analytes[0].codes[0].code = '10230-2';
    expectInvalid(s, /malformed http:\/\/loinc.org code "10230-2"/);
  });

  it('a malformed RxNorm code', () => {
    const s = copy();
    (s.drugs as Raw).agents[0].rxnorm.code = '11484-95';
    expectInvalid(s, /rxnorm/);
  });

  it('a renal check whose Cockcroft-Gault inputs are not all analytes', () => {
    const s = copy();
    const checks = s.checks as Raw;
    checks.analytes = checks.analytes.filter((a: Raw) => a.id !== 'body-weight');
    for (const c of checks.checks) c.analytes = c.analytes.filter((a: Raw) => a.analyte !== 'body-weight');
    for (const c of checks.checks)
      for (const o of c.orders) o.covers = o.covers.filter((x: string) => x !== 'body-weight');
    expectInvalid(s, /estimates CrCl but analyte "body-weight" is missing/);
  });

  it('a percent-of-cells biomarker test without its positivity cut-off', () => {
    const s = copy();
    const test = (s.codes as Raw).biomarkerTests.find((t: Raw) => t.quantity === 'percent-cells');
    delete test.positiveAtOrAbovePercent;
    expectInvalid(s, /positivity cut-off/);
  });

  it('the error lists every problem, not just the first', () => {
    const s = copy();
    (s.regimens as Raw).rules[0].preferred[0].evidence = ['nope-1'];
    (s.regimens as Raw).rules[1].preferred[0].evidence = ['nope-2'];
    try {
      loadKnowledge(s);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(KnowledgeError);
      expect((e as KnowledgeError).problems.length).toBeGreaterThanOrEqual(2);
    }
  });
});
