/**
 * The knowledge the FHIR tests run on: the bundled, validated knowledge base when it loads; if it is
 * mid-edit and fails validation, the same data files parsed by the same zod schemas (without the
 * cross-reference checks, which concern evidence and regimens the FHIR layer does not read).
 */

import type { FhirKnowledge } from '../../../src/fhir/codings.ts';
import checks from '../../../src/knowledge/data/checks.json' with { type: 'json' };
import codes from '../../../src/knowledge/data/codes.json' with { type: 'json' };
import drugs from '../../../src/knowledge/data/drugs.json' with { type: 'json' };
import interacting from '../../../src/knowledge/data/interacting-drugs.json' with { type: 'json' };
import { getKnowledge } from '../../../src/knowledge/index.ts';
import {
  ChecksFileSchema,
  CodesSchema,
  DrugsFileSchema,
  InteractingDrugsFileSchema,
} from '../../../src/knowledge/schema.ts';

function fallback(): FhirKnowledge {
  // safeParse then raw: a schema refinement the lead is adding must not block FHIR tests.
  const c = CodesSchema.safeParse(codes);
  const d = DrugsFileSchema.safeParse(drugs);
  const i = InteractingDrugsFileSchema.safeParse(interacting);
  const k = ChecksFileSchema.safeParse(checks);
  const raw = <T>(r: { success: boolean; data?: T }, x: unknown): T => (r.success ? (r.data as T) : (x as T));
  const agents = raw(d, drugs).agents;
  const analytes = raw(k, checks).analytes;
  return {
    codes: raw(c, codes),
    agents: new Map(agents.map((a) => [a.id, a])),
    interactingDrugs: new Map(raw(i, interacting).drugs.map((x) => [x.id, x])),
    analytes: new Map(analytes.map((a) => [a.id, a])),
  };
}

let kb: FhirKnowledge | undefined;

export function testKnowledge(): FhirKnowledge {
  if (kb) return kb;
  try {
    kb = getKnowledge();
  } catch {
    kb = fallback();
  }
  return kb;
}
