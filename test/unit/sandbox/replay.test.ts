/**
 * A resource as it stood at the end of a past day: recorded later → not there; ended later → still
 * going (no end, no stop reason); resolved later → active; anything else unchanged.
 */
import { describe, expect, it } from 'vitest';
import { asOf, ReplayClock } from '../../../sandbox/replay.ts';

const DAY = '2026-08-15';

describe('asOf', () => {
  it('an Observation recorded after the day is not there; one recorded that day is', () => {
    expect(
      asOf({ resourceType: 'Observation', effectiveDateTime: '2026-08-16T08:00:00Z' }, DAY),
    ).toBeUndefined();
    const same = { resourceType: 'Observation', effectiveDateTime: '2026-08-15T23:00:00-05:00' };
    expect(asOf(same, DAY)).toBe(same);
  });

  it('a MedicationRequest stopped for progression after the day is active, without its end and stop reason', () => {
    const stopped = {
      resourceType: 'MedicationRequest',
      status: 'stopped',
      authoredOn: '2026-05-26',
      statusReason: { text: 'Disease progression' },
      dosageInstruction: [
        { timing: { repeat: { boundsPeriod: { start: '2026-05-26', end: '2026-10-11' } } } },
      ],
    };
    const then = asOf(stopped, DAY);
    expect(then).toMatchObject({ status: 'active' });
    expect(then?.statusReason).toBeUndefined();
    expect(JSON.stringify(then)).not.toContain('2026-10-11');
    // The stored record is not changed.
    expect(stopped.status).toBe('stopped');
  });

  it('an order that ended before the day keeps its status and end', () => {
    const done = {
      resourceType: 'MedicationStatement',
      status: 'completed',
      effectivePeriod: { start: '2025-01-01', end: '2025-06-30' },
    };
    expect(asOf(done, DAY)).toEqual(done);
  });

  it('a Condition resolved after the day is active then; the Patient is unchanged', () => {
    const condition = {
      resourceType: 'Condition',
      recordedDate: '2026-01-10',
      abatementDateTime: '2026-09-01',
      clinicalStatus: { coding: [{ code: 'resolved' }] },
    };
    expect(asOf(condition, DAY)).toMatchObject({ clinicalStatus: { coding: [{ code: 'active' }] } });
    expect(asOf(condition, DAY)?.abatementDateTime).toBeUndefined();
    const patient = { resourceType: 'Patient', birthDate: '1960-01-01' };
    expect(asOf(patient, DAY)).toBe(patient);
  });
});

describe('ReplayClock', () => {
  it('evaluates at the end of the replay day, refuses the future and non-dates, and clears', () => {
    const clock = new ReplayClock();
    expect(clock.get()).toBeUndefined();
    clock.set(DAY);
    expect(clock.now().toISOString()).toBe('2026-08-15T23:59:59.000Z');
    expect(() => clock.set('2999-01-01')).toThrow(/future/);
    expect(() => clock.set('15/08/2026')).toThrow(/not a date/);
    expect(() => clock.set('2024-02-31')).toThrow(/not a date/);
    clock.set(undefined);
    expect(clock.get()).toBeUndefined();
  });
});
