/**
 * Format checks for codes in the knowledge base, so a mistyped code fails at load instead of
 * silently never matching. LOINC carries a check digit; the others have fixed shapes.
 */

/** LOINC "mod 10" check digit (the Luhn scheme) over the number part: `2345-7`. */
export function isValidLoinc(code: string): boolean {
  // Answer, answer-list and part ids (LP29708-2, the US Core "Cardiology" report category).
  if (/^L[ALP]\d{1,7}-\d$/.test(code)) return true;
  const m = /^(\d{1,7})-(\d)$/.exec(code);
  if (!m) return false;
  const digits = (m[1] as string).split('').map(Number).reverse();
  const sum = digits.reduce((acc, d, i) => {
    if (i % 2 !== 0) return acc + d;
    const doubled = d * 2;
    return acc + (doubled > 9 ? doubled - 9 : doubled);
  }, 0);
  return (10 - (sum % 10)) % 10 === Number(m[2]);
}

/**
 * SNOMED CT concept id: 6-18 digits whose partition identifier (2nd and 3rd digits from the right)
 * is 00 (short format) or 10 (extension). The Verhoeff check digit is not verified here: our
 * implementation rejected well-known concept ids, so it is left to a terminology server.
 */
export function isValidSnomed(code: string): boolean {
  return /^[1-9]\d{5,17}$/.test(code) && ['00', '10'].includes(code.slice(-3, -1));
}

export const isValidIcd10cm = (code: string) => /^[A-TV-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/.test(code);
export const isValidRxnorm = (code: string) => /^[1-9]\d{0,8}$/.test(code);
export const isValidHgnc = (code: string) => /^HGNC:\d+$/.test(code);

const CHECKERS: Record<string, (code: string) => boolean> = {
  'http://loinc.org': isValidLoinc,
  'http://snomed.info/sct': isValidSnomed,
  'http://hl7.org/fhir/sid/icd-10-cm': isValidIcd10cm,
  'http://www.nlm.nih.gov/research/umls/rxnorm': isValidRxnorm,
  'http://www.genenames.org': isValidHgnc,
};

/** undefined when well-formed (or the system has no known format), else what is wrong. */
export function codeProblem(system: string, code: string): string | undefined {
  const check = CHECKERS[system];
  if (!check || check(code)) return undefined;
  return `malformed ${system} code "${code}"`;
}
