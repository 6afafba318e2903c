/**
 * Vite plugin for the SMART app's production build: keeps what the browser downloads small without
 * changing what it computes (issue 4: JavaScript under 200 KB gzip).
 *
 * - Knowledge base: parsed and cross-checked here, at build time (the build fails on any problem); the
 *   bundle gets each data file in its parsed form and `parsed-at-build.ts` in place of the zod parser.
 * - UCUM: @lhncbc/ucum-lhc's definitions without the fields that only its synonym search and unit
 *   pickers read (synonyms, guidance, LOINC property, category); conversions are unchanged
 *   (test/unit/build/app-bundle.test.ts compares every unit against the full table).
 * - fhirclient's "pure" build (`FHIRCLIENT_PURE`): no fetch and AbortController polyfills, and the
 *   Web Crypto polyfill it falls back to when `globalThis.crypto` is missing replaced by a clear error
 *   (PKCE needs the browser's Web Crypto; every browser an EHR embeds has it).
 *
 * Dev server and tests are untouched (`apply: 'build'`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import {
  bundledSources,
  type KnowledgeSources,
  loadKnowledge,
  SOURCE_FILES,
} from '../src/knowledge/index.ts';
import { parseSources } from '../src/knowledge/validate.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KNOWLEDGE_DIR = join(ROOT, 'src', 'knowledge');
const UCUM_DEFS_SUFFIX = '/@lhncbc/ucum-lhc/data/ucumDefs.min.json';
const WEBCRYPTO_SHIM_ID = '\0app-bundle:no-webcrypto-polyfill';

/** Unit fields ucum-lhc reads only for suggestions, synonym search and unit lists, never to convert. */
export const UCUM_FIELDS_NOT_FOR_CONVERSION = ['synonyms_', 'guidance_', 'loincProperty_', 'category_'];

interface PackedTable {
  config: (string | string[])[];
  data: unknown[][];
}

/** ucum-lhc's packed definitions with the non-conversion unit fields set to null. */
export function stripUcumDefinitions(defs: { units: PackedTable }): typeof defs {
  const drop = UCUM_FIELDS_NOT_FOR_CONVERSION.map((field) => {
    const i = defs.units.config.indexOf(field);
    if (i < 0)
      throw new Error(`ucum-lhc definitions have no "${field}" column: re-check the stripped fields`);
    return i;
  });
  const data = defs.units.data.map((row) => row.map((value, i) => (drop.includes(i) ? null : value)));
  return { ...defs, units: { ...defs.units, data } };
}

/**
 * Parses and cross-checks the knowledge base (throws on any problem), and returns each data file's
 * parsed content keyed by its absolute path.
 */
export function parsedKnowledgeFiles(sources: KnowledgeSources = bundledSources): Map<string, unknown> {
  loadKnowledge(sources);
  const parsed = parseSources(sources);
  const files = new Map<string, unknown>();
  for (const [key, file] of Object.entries(SOURCE_FILES) as [keyof KnowledgeSources, string][])
    files.set(join(KNOWLEDGE_DIR, 'data', file), parsed[key]);
  const unlisted = readdirSync(join(KNOWLEDGE_DIR, 'data')).filter(
    (f) => f.endsWith('.json') && !files.has(join(KNOWLEDGE_DIR, 'data', f)),
  );
  if (unlisted.length)
    throw new Error(`knowledge data files missing from SOURCE_FILES: ${unlisted.join(', ')}`);
  return files;
}

export function appBundle(): Plugin {
  let knowledgeFiles = new Map<string, unknown>();
  return {
    name: 'alk-ros1-app-bundle',
    apply: 'build',
    enforce: 'pre',
    config: () => ({ define: { FHIRCLIENT_PURE: 'true' } }),
    buildStart() {
      knowledgeFiles = parsedKnowledgeFiles();
    },
    resolveId(source, importer) {
      if (source === 'isomorphic-webcrypto') return WEBCRYPTO_SHIM_ID;
      if (source === './validate.ts' && importer && resolve(importer) === join(KNOWLEDGE_DIR, 'index.ts'))
        return join(KNOWLEDGE_DIR, 'parsed-at-build.ts');
      return null;
    },
    load(id) {
      if (id === WEBCRYPTO_SHIM_ID)
        return `export default { get subtle() { throw new Error('This browser has no Web Crypto (crypto.subtle); SMART launch needs it.'); } };`;
      const path = id.split('?')[0] ?? id;
      const knowledge = knowledgeFiles.get(resolve(path));
      if (knowledge !== undefined) return JSON.stringify(knowledge);
      if (path.replaceAll('\\', '/').endsWith(UCUM_DEFS_SUFFIX))
        return JSON.stringify(stripUcumDefinitions(JSON.parse(readFileSync(path, 'utf8'))));
      return null;
    },
  };
}
