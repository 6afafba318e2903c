/**
 * Date arithmetic for the rules. The clock is always an input (`now`), never read here, so every
 * result is reproducible in tests.
 */
import type { IsoDate } from './model.ts';

const DAY_MS = 86_400_000;

/** Milliseconds since epoch, or undefined for a missing or unparseable date. Dates without a time are UTC midnight. */
export function toTime(date: IsoDate | undefined): number | undefined {
  if (!date) return undefined;
  const t = Date.parse(date.length === 4 ? `${date}-01-01` : date.length === 7 ? `${date}-01` : date);
  return Number.isNaN(t) ? undefined : t;
}

/** Whole days from `date` to `now` (negative when `date` is in the future). */
export function daysBefore(date: IsoDate | undefined, now: IsoDate): number | undefined {
  const t = toTime(date);
  const n = toTime(now);
  if (t === undefined || n === undefined) return undefined;
  return Math.floor((n - t) / DAY_MS);
}

/** Completed years between a birth date and `now`. */
export function ageInYears(birthDate: IsoDate | undefined, now: IsoDate): number | undefined {
  const b = toTime(birthDate);
  const n = toTime(now);
  if (b === undefined || n === undefined) return undefined;
  const birth = new Date(b);
  const at = new Date(n);
  let age = at.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    at.getUTCMonth() < birth.getUTCMonth() ||
    (at.getUTCMonth() === birth.getUTCMonth() && at.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) age -= 1;
  return age;
}

/** Sort comparator: latest date first, undated last. */
export function byDateDesc<T extends { date?: IsoDate }>(a: T, b: T): number {
  return (toTime(b.date) ?? Number.NEGATIVE_INFINITY) - (toTime(a.date) ?? Number.NEGATIVE_INFINITY);
}

export function addDays(date: IsoDate, days: number): number | undefined {
  const t = toTime(date);
  return t === undefined ? undefined : t + days * DAY_MS;
}

/** The date part (YYYY-MM-DD) for display. */
export function dayOf(date: IsoDate | undefined): string {
  return date ? date.slice(0, 10) : 'undated';
}
