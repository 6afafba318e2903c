/**
 * Disease state the recommendations depend on: NSCLC and whether it is advanced, and CNS disease
 * (brain or leptomeningeal metastases), which changes the preference to CNS-active agents [aslan-ch11-5.3].
 */
import type { DiseaseSummary, Notice, PatientSnapshot, Tristate } from '../model.ts';

/**
 * Treated brain metastases (inactive, in remission) still count: a CNS-penetrant TKI stays preferred.
 * Only "resolved" ends it, and the assessment says so.
 */
const CNS_NOT_ACTIVE = new Set(['resolved']);

export function summariseDisease(snapshot: PatientSnapshot): { summary: DiseaseSummary; notices: Notice[] } {
  const notices: Notice[] = [];
  const nsclc = snapshot.nsclc;
  const activeCns = snapshot.cns.filter((f) => !CNS_NOT_ACTIVE.has(f.clinicalStatus));
  for (const f of snapshot.cns.filter((x) => CNS_NOT_ACTIVE.has(x.clinicalStatus))) {
    notices.push({
      severity: 'info',
      message: `${f.display} is recorded as resolved${f.date ? ` (${f.date.slice(0, 10)})` : ''}: not counted as current CNS disease.`,
      sources: f.sources,
    });
  }

  let advanced: Tristate = 'unknown';
  if (nsclc && (nsclc.stage === 'IV' || nsclc.metastatic || nsclc.recurrent || activeCns.length > 0))
    advanced = 'yes';
  else if (activeCns.length > 0) advanced = 'yes';
  else if (nsclc && (nsclc.stage === 'I' || nsclc.stage === 'II' || nsclc.stage === 'III')) advanced = 'no';

  if (!nsclc) {
    notices.push({ severity: 'info', message: 'No NSCLC diagnosis found in the record.', sources: [] });
  } else {
    if (nsclc.histology === 'unknown') {
      notices.push({
        severity: 'info',
        message: `Histology not recorded for "${nsclc.display}".`,
        sources: nsclc.sources,
      });
    }
    if (advanced === 'unknown') {
      notices.push({
        severity: 'info',
        message: 'Stage not recorded: the recommendations assume advanced (stage IV or recurrent) disease.',
        sources: nsclc.sources,
      });
    }
  }

  return {
    summary: {
      ...(nsclc ? { nsclc } : {}),
      advanced,
      cnsDisease: activeCns.length > 0,
      leptomeningeal: activeCns.some((f) => f.site === 'leptomeningeal'),
      cnsFindings: snapshot.cns,
      oligometastatic: snapshot.oligometastatic,
    },
    notices,
  };
}
