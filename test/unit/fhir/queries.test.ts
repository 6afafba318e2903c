import { describe, expect, it } from 'vitest';
import {
  dataRequirements,
  prefetchTemplates,
  requirementForUrl,
  toPrefetchTemplate,
  toSearchUrl,
} from '../../../src/fhir/queries.ts';
import { testKnowledge } from './kb.ts';

const reqs = dataRequirements(testKnowledge());
const ALLOWED = /^(patient|code|category|status|clinical-status|_count|_sort|date)$/;

describe('data requirements', () => {
  it('one small wave covering every domain', () => {
    expect(reqs.length).toBeLessThanOrEqual(12);
    const domains = new Set(reqs.flatMap((r) => r.domains));
    for (const d of [
      'patient',
      'conditions',
      'biomarkers',
      'medications',
      'labs',
      'vital-signs',
      'cardiac-studies',
    ]) {
      expect(domains.has(d as never)).toBe(true);
    }
    expect(new Set(reqs.map((r) => r.id)).size).toBe(reqs.length);
  });

  it('Epic: every Observation search has a category or a code', () => {
    for (const r of reqs.filter((x) => x.resourceType === 'Observation')) {
      expect(r.params.category ?? r.params.code, r.id).toBeTruthy();
    }
  });

  it('Epic: medication searches list non-active statuses', () => {
    const mr = reqs.find((r) => r.resourceType === 'MedicationRequest');
    expect(mr?.params.status?.split(',')).toEqual(
      expect.arrayContaining(['active', 'completed', 'stopped', 'cancelled', 'on-hold']),
    );
    const ms = reqs.find((r) => r.resourceType === 'MedicationStatement');
    expect(ms?.params.status?.split(',')).toEqual(expect.arrayContaining(['active', 'completed', 'stopped']));
  });

  it('biomarker search lists the ALK/ROS1 test LOINCs and 69548-6', () => {
    const code = reqs.find((r) => r.id === 'biomarker-observations')?.params.code ?? '';
    for (const c of ['78205-2', '78233-4', '100019-9', '69548-6'])
      expect(code).toContain(`http://loinc.org|${c}`);
  });
});

describe('prefetch templates (CDS Hooks 2.0)', () => {
  it.each(reqs.map((r) => [r.id, r] as const))('%s uses only allowed tokens and parameters', (_id, r) => {
    const t = toPrefetchTemplate(r);
    expect(t).not.toMatch(/_include|:contains|_revinclude/);
    const tokens = [...t.matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1]);
    expect(tokens).toEqual(['context.patientId']);
    const query = t.split('?')[1];
    if (query) for (const [k] of new URLSearchParams(query)) expect(k).toMatch(ALLOWED);
  });

  it('Patient is an instance read', () => {
    expect(prefetchTemplates(reqs).patient).toBe('Patient/{{context.patientId}}');
  });

  it('search URLs substitute the patient and add app-only includes', () => {
    const mr = reqs.find((r) => r.resourceType === 'MedicationRequest');
    if (!mr) throw new Error('no MedicationRequest query');
    const url = toSearchUrl(mr, 'abc 1');
    expect(url).toMatch(/^MedicationRequest\?patient=abc%201&status=active%2Con-hold/);
    const params = new URLSearchParams(url.split('?')[1]);
    expect(params.get('_include')).toBe('MedicationRequest:medication');
    expect(params.get('status')?.split(',')).toContain('stopped');
    expect(toPrefetchTemplate(mr)).not.toContain('_include');
  });

  it('percent-encodes every search value, so a proxy that collapses // cannot change a token', () => {
    for (const req of reqs.filter((r) => r.resourceType !== 'Patient')) {
      const url = toSearchUrl(req, 'p1');
      const query = url.split('?')[1] ?? '';
      // Nothing a path rewrite could touch: no slash, colon or bar left raw in the query.
      expect(query, req.id).not.toMatch(/[/:|]/);
      const collapsed = url.replace(/\/\s*\//g, '/');
      const decoded = Object.fromEntries(new URLSearchParams(collapsed.split('?')[1]));
      expect(decoded, req.id).toEqual({ patient: 'p1', ...req.params, ...(req.searchOnlyParams ?? {}) });
    }
  });

  it('a search URL maps back to its requirement', () => {
    const labs = reqs.find((r) => r.id === 'labs');
    if (!labs) throw new Error('no labs query');
    expect(requirementForUrl(`https://ehr.example/fhir/${toSearchUrl(labs, 'p1')}`, reqs)?.id).toBe('labs');
  });
});
