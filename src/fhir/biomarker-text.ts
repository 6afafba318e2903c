/**
 * Reading ALK/ROS1 results from words: result text, lab comments, report conclusions.
 *
 * Free text is common in practice (`valueString "ALK rearrangement detected"`, a pathology
 * conclusion) [terminology.md §1.1], and negation is where a naive matcher goes wrong: "No ALK
 * rearrangement detected" contains "detected". So negative and failed phrasings are tested before
 * positive ones, and a multi-gene conclusion is read sentence by sentence.
 */
import type { BiomarkerMethod, Gene, Specimen } from '../core/model.ts';
import type { Call } from './codings.ts';
import { geneTextPattern } from './codings.ts';

const NO_CALL =
  /\b(insufficient|quantity not sufficient|qns|failed|failure|not evaluable|unevaluable|inadequate|unable to (?:be )?(?:determine|assess|evaluat|interpret)|could not be (?:determined|assessed|evaluated)|no call|no result|test not performed|cancel+ed)\b/i;
const NEGATIVE =
  /\b(negative|not detected|none detected|absent|not identified|not present|not found|not rearranged|non-?rearranged|wild[- ]?type|no (?:evidence of |definitive |detectable )?(?:[\w()-]+\s+){0,4}(?:rearrangements?|fusions?|translocations?|mutations?|alterations?|variants?|amplifications?|expression|staining|break-?apart|split signals?)(?:\s+(?:was|were|is|are))?(?:\s+(?:detected|identified|found|seen|observed|present))?|no (?:\w+\s+){0,2}(?:detected|identified)|without (?:evidence of )?(?:[\w-]+\s+){0,2}(?:rearrangement|fusion))\b/i;
const EQUIVOCAL =
  /\b(equivocal|borderline|indeterminate|weak(?:ly)?(?: positive| staining| expression)?|inconclusive|uncertain|ambiguous)\b/i;
const POSITIVE =
  /\b(positive|detected|present|identified|rearranged|rearrangement (?:is |was )?(?:seen|found)|fusion (?:is |was )?(?:seen|found)|split signals?|break-?apart pattern|strong(?:ly)? (?:positive|staining|expression)|[23]\+)\b|\+\s*$/i;

/** The call a free-text result makes, or undefined when it makes none. */
export function callFromText(text: string): Call | undefined {
  if (!text.trim()) return undefined;
  if (NO_CALL.test(text)) return 'no-call';
  if (NEGATIVE.test(text)) return 'negative';
  if (EQUIVOCAL.test(text)) return 'equivocal';
  if (POSITIVE.test(text)) return 'positive';
  return undefined;
}

/**
 * Sentences, split on `.` followed by a space, `;` and line breaks (so "p.G1202R" and "5.0" stay
 * whole). A `;` inside parentheses does not split: fusion breakpoints are written "(E13;A20)".
 * Commas do not split: "ALK, ROS1 and EGFR negative" is one statement about three genes.
 */
export function sentences(text: string): string[] {
  return text
    .split(/(?:\.(?=\s|$)|;(?![^()]*\))|[\n\r•]|\s-\s)+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The sentences of `text` that speak about `gene`. */
export function sentencesAbout(text: string, gene: Gene): string[] {
  const re = geneTextPattern(gene);
  return sentences(text).filter((s) => re.test(s));
}

/** The call `text` makes about `gene`, reading only the sentences that name it. */
export function callForGene(text: string, gene: Gene): Call | undefined {
  for (const s of sentencesAbout(text, gene)) {
    // Cut at the next gene name of another driver so "ALK positive, EGFR negative" reads positive.
    const call = callFromText(clauseFor(s, gene));
    if (call) return call;
  }
  return undefined;
}

const OTHER_GENE =
  /\b(EGFR|KRAS|BRAF|MET|RET|NTRK[123]?|ERBB2|HER2|PD-?L1|NRAS|KIT|TP53|STK11|KEAP1|PIK3CA|ALK|ROS1)\b/gi;

/** The part of a sentence from `gene` up to the next other gene name (or the whole sentence). */
function clauseFor(sentence: string, gene: Gene): string {
  const re = geneTextPattern(gene);
  const m = re.exec(sentence);
  if (!m) return sentence;
  // Genes listed before the verb ("ALK and ROS1 negative"): if nothing but gene names and
  // conjunctions follow, the shared predicate applies to all.
  const start = m.index;
  const after = sentence.slice(start + m[0].length);
  OTHER_GENE.lastIndex = 0;
  let end = sentence.length;
  for (let g = OTHER_GENE.exec(after); g; g = OTHER_GENE.exec(after)) {
    const between = after.slice(0, g.index);
    if (/^[\s,/&]*(?:and|or)?[\s,/&]*$/i.test(between)) continue;
    if (g[0].toUpperCase() === gene) continue;
    end = start + m[0].length + g.index;
    break;
  }
  // Text before the gene ("Negative for ALK", "No ALK rearrangement") belongs to it, unless it
  // speaks about another gene.
  let begin = 0;
  const before = sentence.slice(0, start);
  OTHER_GENE.lastIndex = 0;
  for (let g = OTHER_GENE.exec(before); g; g = OTHER_GENE.exec(before)) {
    if (g[0].toUpperCase() === gene) continue;
    const between = before.slice(g.index + g[0].length);
    if (/^[\s,/&]*(?:and|or)?[\s,/&]*$/i.test(between)) continue;
    // Start after the last clause break between that gene and ours ("EGFR negative, ALK positive").
    const breaks = [...between.matchAll(/[,:(]|\b(?:but|while|whereas)\b/gi)];
    const last = breaks[breaks.length - 1];
    begin = g.index + g[0].length + (last ? last.index + last[0].length : 0);
  }
  return sentence.slice(begin, end);
}

// ---------------------------------------------------------------------------------------------
// Method and specimen
// ---------------------------------------------------------------------------------------------

/** The test method words name; IHC antibody clones D5F3, SP384 (ALK) and D4D6 (ROS1) mean IHC. */
export function methodFromText(text: string): BiomarkerMethod {
  if (/\b(IHC|D5F3|5A4|SP384|D4D6|SP384|immunohisto\w*|immunostain\w*|immune stain)\b/i.test(text))
    return 'IHC';
  if (/\b(FISH|break-?apart|in situ hybridi[sz]ation)\b/i.test(text)) return 'FISH';
  // Sequencing words win over "PCR": anchored multiplex PCR (Archer) is an RNA NGS library method.
  const ngs =
    /\b(NGS|next[- ]generation|sequencing|seq|panel|FoundationOne|Oncomine|Guardant\w*|Tempus|hybrid capture|Archer\w*|anchored multiplex|FusionPlex)\b/i.test(
      text,
    );
  const rna = /\b(RNA|RNA-?seq|fusion transcripts?|Archer\w*|anchored multiplex|FusionPlex)\b/i.test(text);
  if (ngs && rna) return 'NGS-RNA';
  if (ngs && /\bDNA\b/i.test(text)) return 'NGS-DNA';
  if (ngs) return 'NGS';
  if (/\b(RT-?PCR|qPCR|PCR)\b/i.test(text)) return 'PCR';
  if (rna) return 'NGS-RNA';
  return 'unknown';
}

/**
 * Plasma when the specimen or test says so. LOINC's own "in Blood or Tissue" names the property's
 * allowed systems, not the specimen, so it is removed before testing for "blood".
 */
export function specimenFromText(text: string): Specimen {
  const cleaned = text.replace(/\bin blood or tissue\b/gi, ' ').replace(/\bblood or tissue\b/gi, ' ');
  if (
    /\b(plasma|ctDNA|cfDNA|cell-free|circulating tumou?r|liquid biopsy|peripheral blood|whole blood|blood|Guardant\w*)\b/i.test(
      cleaned,
    )
  ) {
    return 'plasma';
  }
  if (
    /\b(tissue|FFPE|paraffin|biopsy|block|tumou?r specimen|resection|cytology|cell block|lymph node|pleural)\b/i.test(
      cleaned,
    )
  ) {
    return 'tissue';
  }
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Mutations and fusion partners
// ---------------------------------------------------------------------------------------------

const AA3: Record<string, string> = {
  ala: 'A',
  arg: 'R',
  asn: 'N',
  asp: 'D',
  cys: 'C',
  gln: 'Q',
  glu: 'E',
  gly: 'G',
  his: 'H',
  ile: 'I',
  leu: 'L',
  lys: 'K',
  met: 'M',
  phe: 'F',
  pro: 'P',
  ser: 'S',
  thr: 'T',
  trp: 'W',
  tyr: 'Y',
  val: 'V',
};

function oneLetter(aa: string): string | undefined {
  if (aa.length === 1) return /[ACDEFGHIKLMNPQRSTVWY]/.test(aa.toUpperCase()) ? aa.toUpperCase() : undefined;
  return AA3[aa.toLowerCase()];
}

const HGVS_P = /p\.\(?([A-Z][a-z]{2}|[A-Z])(\d{2,4})([A-Z][a-z]{2}|[A-Z])\)?/g;
const SHORT = /(?<![A-Za-z0-9.])([ACDEFGHIKLMNPQRSTVWY])(\d{3,4})([ACDEFGHIKLMNPQRSTVWY])(?![A-Za-z0-9])/g;
const THREE = /(?<![A-Za-z])([A-Z][a-z]{2})(\d{3,4})([A-Z][a-z]{2})(?![a-z])/g;

/** Missense changes in short protein notation (`G1202R`) from pHGVS or free text. */
export function mutationsFromText(text: string): string[] {
  const out = new Set<string>();
  const add = (a: string | undefined, pos: string | undefined, b: string | undefined) => {
    const x = a ? oneLetter(a) : undefined;
    const y = b ? oneLetter(b) : undefined;
    if (x && y && pos && x !== y) out.add(`${x}${pos}${y}`);
  };
  for (const m of text.matchAll(HGVS_P)) add(m[1], m[2], m[3]);
  for (const m of text.matchAll(THREE)) add(m[1], m[2], m[3]);
  for (const m of text.matchAll(SHORT)) add(m[1], m[2], m[3]);
  return [...out];
}

/** The fusion partner named as `EML4-ALK`, `CD74::ROS1`, `EML4/ALK` or `ALK-EML4`. */
export function fusionPartnerFromText(text: string, gene: Gene): string | undefined {
  const before = new RegExp(`\\b([A-Z][A-Z0-9]{1,9})(?:-|::|/|–)${gene}\\b`).exec(text);
  const cand = before?.[1];
  if (cand && cand !== gene && !/^(NON|ANTI|IHC|FISH|NGS|RNA|DNA|PCR|ALK|ROS1)$/.test(cand)) return cand;
  const after = new RegExp(`\\b${gene}(?:::|–)([A-Z][A-Z0-9]{1,9})\\b`).exec(text);
  const cand2 = after?.[1];
  if (cand2 && cand2 !== gene) return cand2;
  return undefined;
}
