/**
 * The app build's size savings must not change what the app computes: the stripped UCUM table converts
 * every unit exactly like the full one, and the knowledge base the browser gets is the zod-parsed data
 * that loads into the same Knowledge as the server's.
 */
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  appBundle,
  parsedKnowledgeFiles,
  stripUcumDefinitions,
  UCUM_FIELDS_NOT_FOR_CONVERSION,
} from '../../../scripts/app-bundle.ts';
import {
  bundledSources,
  type KnowledgeSources,
  loadKnowledge,
  SOURCE_FILES,
} from '../../../src/knowledge/index.ts';
import { parseSources as parsedAtBuild } from '../../../src/knowledge/parsed-at-build.ts';
import { parseSources } from '../../../src/knowledge/validate.ts';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFS_PATH = require.resolve('@lhncbc/ucum-lhc/data/ucumDefs.min.json');
const UCUM_DIR = dirname(dirname(DEFS_PATH));

interface Converter {
  convertUnitTo(
    from: string,
    value: number,
    to: string,
    opts?: object,
  ): { status: string; toVal: number | null; msg: string[] };
}

/** A fresh ucum-lhc instance (its unit tables are module singletons) reading the given definitions. */
function ucumWith(defs: unknown): Converter {
  for (const key of Object.keys(require.cache)) if (key.startsWith(UCUM_DIR)) delete require.cache[key];
  const defsModule = new Module(DEFS_PATH);
  defsModule.filename = DEFS_PATH;
  defsModule.loaded = true;
  defsModule.exports = defs;
  require.cache[DEFS_PATH] = defsModule;
  const ucum = require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): Converter } };
  const utils = ucum.UcumLhcUtils.getInstance();
  for (const key of Object.keys(require.cache)) if (key.startsWith(UCUM_DIR)) delete require.cache[key];
  return utils;
}

/** Status and value, or the exception (ucum-lhc throws on some mass-to-molar pairs; units.ts catches). */
function outcome(utils: Converter, from: string, to: string, opts: object): string {
  try {
    const r = utils.convertUnitTo(from, 1, to, opts);
    return `${r.status} ${r.toVal}`;
  } catch (e) {
    return `threw ${(e as Error).message}`;
  }
}

const rawDefs = () => JSON.parse(readFileSync(DEFS_PATH, 'utf8'));

describe('stripped UCUM definitions', () => {
  const full = ucumWith(rawDefs());
  const stripped = ucumWith(stripUcumDefinitions(rawDefs()));
  const defs = rawDefs();
  const codeColumn = defs.units.config.indexOf('csCode_');
  const unitCodes: string[] = defs.units.data.map((row: unknown[]) => row[codeColumn] as string);
  const analytes = [...loadKnowledge().analytes.values()];
  const labUnits = ['mg/dL', 'umol/L', 'mmol/L', 'meq/L', 'U/L', 'g/dL', '%', 'ms', 's', '/min', 'mm[Hg]'];

  it('are smaller and drop only the fields conversion never reads', () => {
    const strippedDefs = stripUcumDefinitions(rawDefs());
    expect(JSON.stringify(strippedDefs).length).toBeLessThan(JSON.stringify(rawDefs()).length * 0.7);
    const config = strippedDefs.units.config;
    for (const [i, field] of config.entries()) {
      const kept = strippedDefs.units.data.some((row) => row[i] !== null);
      if (UCUM_FIELDS_NOT_FOR_CONVERSION.includes(field as string)) expect(kept, String(field)).toBe(false);
    }
    expect(strippedDefs.units.data).toHaveLength(defs.units.data.length);
  });

  it('convert every UCUM unit to every analyte unit exactly like the full table', () => {
    let compared = 0;
    let succeeded = 0;
    for (const analyte of analytes) {
      const opts = analyte.molecularWeight ? { molecularWeight: analyte.molecularWeight } : {};
      for (const from of [...unitCodes, ...labUnits.map((u) => `m${u}`), ...labUnits]) {
        const a = outcome(full, from, analyte.unit, opts);
        const b = outcome(stripped, from, analyte.unit, opts);
        expect([from, analyte.unit, b]).toEqual([from, analyte.unit, a]);
        compared += 1;
        if (a.startsWith('succeeded')) succeeded += 1;
      }
    }
    // The comparison must cover real conversions, not only failures on both sides.
    expect(succeeded).toBeGreaterThan(analytes.length * 5);
    expect(compared).toBeGreaterThan(10_000);
  });

  it('refuse what the full table refuses', () => {
    for (const bad of ['mg/dl/', 'furlongs', '10*3/uL/', 'beats/min']) {
      expect(stripped.convertUnitTo(bad, 1, 'mg/dL').status).toBe(full.convertUnitTo(bad, 1, 'mg/dL').status);
      expect(stripped.convertUnitTo(bad, 1, 'mg/dL').status).not.toBe('succeeded');
    }
  });

  it('refuse an ucum-lhc release whose columns changed', () => {
    const defs = rawDefs();
    defs.units.config = defs.units.config.map((c: unknown) => (c === 'guidance_' ? 'guidance' : c));
    expect(() => stripUcumDefinitions(defs)).toThrow(/guidance_/);
  });
});

describe('knowledge base parsed at build time', () => {
  it('ships each data file as zod parsed it, and the browser loads the same knowledge', () => {
    const files = parsedKnowledgeFiles();
    const fromBuild = Object.fromEntries(
      Object.entries(SOURCE_FILES).map(([key, file]) => [
        key,
        JSON.parse(JSON.stringify(files.get(join(ROOT, 'src/knowledge/data', file)))),
      ]),
    ) as KnowledgeSources;
    const browser = parsedAtBuild(fromBuild);
    const server = loadKnowledge();
    expect(isDeepStrictEqual(loadKnowledge(browser), server)).toBe(true);
    // The parsed form drops what the schema does not know (the files' $comment notes).
    expect(JSON.stringify(fromBuild)).not.toContain('$comment');
    expect(JSON.stringify(bundledSources)).toContain('$comment');
  });

  it('fails the build on a knowledge base that does not validate', () => {
    const broken = structuredClone(bundledSources) as { drugs: { agents: { id: string }[] } };
    const first = broken.drugs.agents[0];
    if (!first) throw new Error('no agents');
    first.id = 'Not Kebab Case';
    expect(() => parsedKnowledgeFiles(broken as unknown as KnowledgeSources)).toThrow(/kebab-case/);
  });

  it('fails the build on a cross-reference to unknown evidence', () => {
    const broken = structuredClone(bundledSources) as {
      drugs: { agents: { indicationEvidence: string[] }[] };
    };
    broken.drugs.agents[0]?.indicationEvidence.push('no-such-evidence');
    expect(() => parsedKnowledgeFiles(broken as unknown as KnowledgeSources)).toThrow(/no-such-evidence/);
  });
});

describe('app bundle plugin', () => {
  const plugin = appBundle();
  const call = <A extends unknown[]>(hook: unknown, ...args: A) =>
    (typeof hook === 'function' ? hook : (hook as { handler: (...a: A) => unknown }).handler).apply({}, args);

  it('applies to production builds only', () => {
    expect(plugin.apply).toBe('build');
  });

  it('swaps the zod parser for the build-time stand-in only where the knowledge loader imports it', () => {
    const index = join(ROOT, 'src/knowledge/index.ts');
    expect(call(plugin.resolveId, './validate.ts', index, {})).toBe(
      join(ROOT, 'src/knowledge/parsed-at-build.ts'),
    );
    expect(call(plugin.resolveId, './validate.ts', join(ROOT, 'src/other/index.ts'), {})).toBeNull();
  });

  it('serves parsed knowledge files and the stripped UCUM table', () => {
    call(plugin.buildStart, {});
    const drugs = JSON.parse(String(call(plugin.load, join(ROOT, 'src/knowledge/data/drugs.json'))));
    expect(drugs).toEqual(JSON.parse(JSON.stringify(parseSources(bundledSources).drugs)));
    expect(drugs.agents.length).toBeGreaterThan(5);
    expect(drugs.$comment).toBeUndefined();
    const ucum = JSON.parse(String(call(plugin.load, DEFS_PATH)));
    expect(ucum.units.data).toHaveLength(rawDefs().units.data.length);
    expect(call(plugin.load, join(ROOT, 'src/app/App.tsx'))).toBeNull();
  });
});
