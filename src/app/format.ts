/** Display helpers shared by the panels: dates, labels for the core's unions, evidence anchors. */
import type {
  BiomarkerMethod,
  BiomarkerStatusValue,
  CheckState,
  DataDomain,
  Severity,
  Specimen,
} from '../core/model.ts';

/** `2026-11-22` from any ISO date or dateTime (unambiguous in every locale). */
export const formatDate = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : 'date not recorded');

export const STATUS_LABEL: Record<BiomarkerStatusValue, string> = {
  positive: 'Positive',
  negative: 'Negative',
  equivocal: 'Equivocal',
  unconfirmed: 'Unconfirmed (screen only)',
  discordant: 'Discordant results',
  unknown: 'Not tested / unknown',
};

export const METHOD_LABEL: Record<BiomarkerMethod, string> = {
  IHC: 'IHC',
  FISH: 'FISH',
  'NGS-DNA': 'NGS (DNA)',
  'NGS-RNA': 'NGS (RNA)',
  NGS: 'NGS',
  PCR: 'RT-PCR',
  unknown: 'method not recorded',
};

export const SPECIMEN_LABEL: Record<Specimen, string> = {
  tissue: 'tissue',
  plasma: 'plasma (liquid biopsy)',
  unknown: 'specimen not recorded',
};

export const CHECK_LABEL: Record<CheckState, string> = {
  current: 'Done',
  stale: 'Out of date',
  missing: 'Not on file',
  abnormal: 'Abnormal',
  'could-not-check': 'Could not check',
};

/** A text mark next to every coloured state, so colour is never the only cue (WCAG 1.4.1). */
export const CHECK_MARK: Record<CheckState, string> = {
  current: '✓',
  stale: '!',
  missing: '?',
  abnormal: '!!',
  'could-not-check': '✕',
};

export const SEVERITY_LABEL: Record<Severity, string> = {
  info: 'Information',
  warning: 'Warning',
  critical: 'Critical',
};

export const evidenceAnchor = (id: string): string => `ev-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** Years between a birth date and `now`, or undefined. */
export function ageAt(birthDate: string | undefined, now: string): number | undefined {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}/.test(birthDate)) return undefined;
  const b = new Date(birthDate.slice(0, 10));
  const n = new Date(now);
  let age = n.getUTCFullYear() - b.getUTCFullYear();
  const m = n.getUTCMonth() - b.getUTCMonth();
  if (m < 0 || (m === 0 && n.getUTCDate() < b.getUTCDate())) age--;
  return age;
}

/** The record's parts in words, for gaps shown to a clinician (the ids are internal). */
export const DOMAIN_LABEL: Record<DataDomain, string> = {
  patient: 'patient details',
  conditions: 'problem list',
  biomarkers: 'biomarker results',
  medications: 'medications',
  labs: 'laboratory results',
  'vital-signs': 'vital signs',
  'cardiac-studies': 'ECG and echocardiogram',
};

/** "carboplatin + pemetrexed + pembrolizumab". */
export const plus = (names: readonly string[]): string => names.join(' + ');

/** Text cut to `n` characters with an ellipsis. */
export const shorten = (s: string, n: number): string =>
  s.length <= n ? s : `${s.slice(0, n - 1).trimEnd()}…`;
