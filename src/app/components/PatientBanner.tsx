import { ageAt, formatDate } from '../format.ts';

type Json = Record<string, unknown>;

const asArray = (x: unknown): Json[] =>
  Array.isArray(x) ? x.filter((v): v is Json => typeof v === 'object' && v !== null) : [];

export function patientName(patient: Json | undefined): string {
  const names = asArray(patient?.name);
  const name = names.find((n) => n.use === 'official') ?? names[0];
  if (!name) return 'Name not available';
  if (typeof name.text === 'string' && name.text) return name.text;
  const given = Array.isArray(name.given) ? name.given.filter((g) => typeof g === 'string').join(' ') : '';
  const family = typeof name.family === 'string' ? name.family : '';
  return [given, family].filter(Boolean).join(' ') || 'Name not available';
}

function mrn(patient: Json | undefined): string | undefined {
  const ids = asArray(patient?.identifier);
  const isMr = (id: Json) =>
    asArray((id.type as Json | undefined)?.coding).some((c) => c.code === 'MR') ||
    /\bMRN\b/i.test(String((id.type as Json | undefined)?.text ?? ''));
  const found = ids.find(isMr) ?? ids[0];
  return typeof found?.value === 'string' ? found.value : undefined;
}

/** Who this is [§6 item 50]: name, date of birth (age), sex, MRN. Hidden when the EHR shows its own banner. */
export function PatientBanner({ patient, now }: { patient: Json | undefined; now: string }) {
  const birthDate = typeof patient?.birthDate === 'string' ? patient.birthDate : undefined;
  const age = ageAt(birthDate, now);
  const id = mrn(patient);
  return (
    <section className="patient-banner" aria-label="Patient">
      <h2 className="patient-name">{patientName(patient)}</h2>
      <dl className="inline-dl">
        <div>
          <dt>Born</dt>
          <dd>
            {birthDate ? formatDate(birthDate) : 'not recorded'}
            {age !== undefined ? ` (${age} y)` : ''}
          </dd>
        </div>
        <div>
          <dt>Sex</dt>
          <dd>{typeof patient?.gender === 'string' ? patient.gender : 'not recorded'}</dd>
        </div>
        {id ? (
          <div>
            <dt>MRN</dt>
            <dd>{id}</dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}
