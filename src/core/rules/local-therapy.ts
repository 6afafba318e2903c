/**
 * Local therapy, shown as information and never as an order: oligometastatic
 * disease, brain lesions, and oligoprogression on a TKI [aslan-ch11-5.3, ros1-first-line-qa-2025, ros1ders-2022].
 */
import type { Knowledge } from '../../knowledge/index.ts';
import type { DiseaseSummary, Gene, LocalTherapyInfo, TherapyHistorySummary } from '../model.ts';

export function localTherapyInfo(
  kb: Knowledge,
  disease: DiseaseSummary,
  history: TherapyHistorySummary,
  driver: Gene | null,
): LocalTherapyInfo[] {
  if (!driver && !disease.nsclc) return [];
  const info: LocalTherapyInfo[] = [];
  const add = (kind: LocalTherapyInfo['kind']) => {
    const g = kb.guidance.localTherapy[kind];
    info.push({ kind, message: g.message, evidence: g.evidence });
  };
  if (disease.oligometastatic === 'yes') add('oligometastatic');
  if (disease.cnsDisease) add('cns-lesions');
  const oligoprogressing = history.lines.some(
    (l) =>
      l.kind === 'tki' &&
      l.status === 'active' &&
      l.progressionPattern === 'oligo' &&
      l.progressionDate !== undefined,
  );
  if (oligoprogressing) add('oligoprogression');
  return info;
}
