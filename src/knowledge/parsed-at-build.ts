/**
 * Browser stand-in for `validate.ts`. The app build (`scripts/app-bundle.ts`) parses the bundled data
 * files with the zod schemas, runs every cross-reference check, fails on any problem and ships the
 * parsed output, so the browser has nothing left to parse and does not carry zod (about 27 KB gzip).
 */
import type { KnowledgeSources, ParsedSources } from './validate.ts';

export function parseSources(sources: KnowledgeSources): ParsedSources {
  return sources as ParsedSources;
}
