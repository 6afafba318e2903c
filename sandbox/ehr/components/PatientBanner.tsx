/** The patient banner of the chart: name, sex, date of birth, ids and the sandbox scenario. */
import { useEffect, useRef } from 'react';
import type { SandboxPatient } from '../types.ts';

function age(birthDate: string | undefined, now = new Date()): number | undefined {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return undefined;
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let years = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) years--;
  return years >= 0 ? years : undefined;
}

export function PatientBanner({
  patient,
  onChange,
  focusOnMount = false,
}: {
  patient: SandboxPatient;
  onChange: () => void;
  /** The chart was just opened from the picker: keyboard and screen-reader users land on its heading. */
  focusOnMount?: boolean;
}) {
  const years = age(patient.birthDate);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusOnMount) heading.current?.focus();
  }, [focusOnMount]);
  return (
    <section className="patient-banner" aria-label="Patient" data-testid="patient-banner">
      <div>
        <h2 className="patient-name" tabIndex={-1} ref={heading} data-testid="chart-heading">
          {patient.name}
        </h2>
        <dl className="banner-facts">
          {patient.gender && (
            <div>
              <dt>Sex</dt>
              <dd>{patient.gender}</dd>
            </div>
          )}
          {patient.birthDate && (
            <div>
              <dt>Born</dt>
              <dd>
                {patient.birthDate}
                {years !== undefined ? ` (${years} y)` : ''}
              </dd>
            </div>
          )}
          <div>
            <dt>Patient id</dt>
            <dd>
              <code>{patient.id}</code>
            </dd>
          </div>
          {patient.encounterId && (
            <div>
              <dt>Encounter</dt>
              <dd>
                <code>{patient.encounterId}</code>
              </dd>
            </div>
          )}
          <div>
            <dt>Scenario</dt>
            <dd>{patient.scenario}</dd>
          </div>
        </dl>
      </div>
      <button type="button" className="button button-secondary" onClick={onChange}>
        Change patient
      </button>
    </section>
  );
}
