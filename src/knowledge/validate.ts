/**
 * Parses each knowledge data file with its zod schema. Kept apart from `index.ts` so the app build can
 * run this at build time and ship the parsed data without zod (`scripts/app-bundle.ts`).
 */
import type { z } from 'zod';
import {
  ChecksFileSchema,
  CodesSchema,
  DrugsFileSchema,
  EvidenceFileSchema,
  GuidanceFileSchema,
  InteractingDrugsFileSchema,
  KnowledgeMetaSchema,
  RegimensFileSchema,
} from './schema.ts';

export const SOURCE_SCHEMAS = {
  meta: KnowledgeMetaSchema,
  codes: CodesSchema,
  drugs: DrugsFileSchema,
  interacting: InteractingDrugsFileSchema,
  checks: ChecksFileSchema,
  regimens: RegimensFileSchema,
  guidance: GuidanceFileSchema,
  evidence: EvidenceFileSchema,
} as const;

/** Raw data files, so tests can load modified copies through the same validation. */
export type KnowledgeSources = Record<keyof typeof SOURCE_SCHEMAS, unknown>;

export type ParsedSources = { [K in keyof typeof SOURCE_SCHEMAS]: z.infer<(typeof SOURCE_SCHEMAS)[K]> };

/** Throws a ZodError naming the first file and field that does not match its schema. */
export function parseSources(sources: KnowledgeSources): ParsedSources {
  return {
    meta: KnowledgeMetaSchema.parse(sources.meta),
    codes: CodesSchema.parse(sources.codes),
    drugs: DrugsFileSchema.parse(sources.drugs),
    interacting: InteractingDrugsFileSchema.parse(sources.interacting),
    checks: ChecksFileSchema.parse(sources.checks),
    regimens: RegimensFileSchema.parse(sources.regimens),
    guidance: GuidanceFileSchema.parse(sources.guidance),
    evidence: EvidenceFileSchema.parse(sources.evidence),
  };
}
