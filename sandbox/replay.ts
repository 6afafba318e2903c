/**
 * "Today is": the sandbox replays every chart as it stood at a past date. Its FHIR server hides what
 * was recorded later, and shows what ended later as still going (a drug stopped afterwards is
 * active again, without its stop reason; a condition resolved afterwards is active); its CDS
 * service and the SMART app it launches evaluate at that date. Sandbox only: a developer's tool to
 * see what a clinician would have seen then.
 */
import { z } from 'zod';

type R = Record<string, unknown>;

/** The replay date, when one is set (YYYY-MM-DD); shared by the FHIR server, the CDS service and the app. */
export class ReplayClock {
  private day: string | undefined;

  constructor(day?: string) {
    if (day) this.set(day);
  }

  get(): string | undefined {
    return this.day;
  }

  /** Sets the day (YYYY-MM-DD, not in the future), or clears it with undefined. */
  set(day: string | undefined): void {
    if (day === undefined) {
      this.day = undefined;
      return;
    }
    // A calendar day (zod's ISO date, as SANDBOX_TODAY is read): Date.parse takes 2024-02-31 as 2 March.
    if (!z.iso.date().safeParse(day).success) throw new RangeError(`"${day}" is not a date (YYYY-MM-DD)`);
    if (Date.parse(`${day}T00:00:00Z`) > Date.now()) throw new RangeError(`${day} is in the future`);
    this.day = day;
  }

  /** The evaluation time: the end of the replay day, or now. */
  now(): Date {
    return this.day ? new Date(`${this.day}T23:59:59Z`) : new Date();
  }
}

const get = (r: R, path: string): unknown =>
  path.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as R)[k] : undefined), r);

/** When the resource came into the record, per type (absent: always there). */
const STARTS: Record<string, string[]> = {
  Observation: ['effectiveDateTime', 'effectivePeriod.start', 'effectiveInstant', 'issued'],
  DiagnosticReport: ['effectiveDateTime', 'effectivePeriod.start', 'issued'],
  Condition: ['recordedDate', 'onsetDateTime', 'onsetPeriod.start'],
  MedicationRequest: ['authoredOn'],
  MedicationStatement: ['effectiveDateTime', 'effectivePeriod.start', 'dateAsserted'],
  MedicationAdministration: ['effectiveDateTime', 'effectivePeriod.start'],
  Encounter: ['period.start'],
  Procedure: ['performedDateTime', 'performedPeriod.start'],
  ServiceRequest: ['authoredOn'],
  Specimen: ['collection.collectedDateTime', 'receivedTime'],
};

const dayOf = (v: unknown) => (typeof v === 'string' && v.length >= 10 ? v.slice(0, 10) : undefined);

/** The end dates a medication record may carry. */
function medicationEnds(r: R): { holder: R; key: string }[] {
  const out: { holder: R; key: string }[] = [];
  const period = (holder: unknown) => {
    if (holder && typeof holder === 'object' && dayOf((holder as R).end))
      out.push({ holder: holder as R, key: 'end' });
  };
  period(r.effectivePeriod);
  period(get(r, 'dispenseRequest.validityPeriod'));
  for (const d of [r.dosageInstruction, r.dosage].flat())
    if (d && typeof d === 'object') period(get(d as R, 'timing.repeat.boundsPeriod'));
  return out;
}

/**
 * The resource as it stood at the end of `day`: undefined when it was recorded later; otherwise a
 * copy without what happened later (an end, a stop reason, an abatement).
 */
export function asOf(resource: R, day: string): R | undefined {
  const type = String(resource.resourceType);
  const start = (STARTS[type] ?? []).map((p) => dayOf(get(resource, p))).find(Boolean);
  if (start && start > day) return undefined;
  if (type.startsWith('Medication') && type !== 'Medication') {
    const copy = structuredClone(resource);
    const later = medicationEnds(copy).filter(({ holder, key }) => (dayOf(holder[key]) ?? '') > day);
    if (!later.length) return copy;
    for (const { holder, key } of later) delete holder[key];
    copy.status = type === 'MedicationAdministration' ? 'in-progress' : 'active';
    delete copy.statusReason;
    return copy;
  }
  if (type === 'Condition' && (dayOf(resource.abatementDateTime) ?? '') > day) {
    const copy = structuredClone(resource);
    delete copy.abatementDateTime;
    copy.clinicalStatus = {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    };
    return copy;
  }
  return resource;
}
