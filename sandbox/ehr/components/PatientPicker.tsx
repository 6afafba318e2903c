/** The synthetic patients, each with its scenario: choosing one opens the chart. */
import type { SandboxPatient } from '../types.ts';

export function PatientPicker({
  patients,
  onPick,
}: {
  patients: readonly SandboxPatient[];
  onPick: (id: string) => void;
}) {
  return (
    <section className="panel" aria-labelledby="picker-heading">
      <h2 id="picker-heading">Choose a patient</h2>
      <p className="muted">Every patient here is synthetic. Opening a chart fires patient-view.</p>
      {patients.length === 0 ? (
        <p>The sandbox has no patients.</p>
      ) : (
        <ul className="patient-list" data-testid="patient-list">
          {patients.map((p) => (
            <li key={p.id} className="patient-item">
              <button
                type="button"
                className="patient-button"
                data-testid={`patient-${p.id}`}
                aria-describedby={`patient-${p.id}-about`}
                onClick={() => onPick(p.id)}
              >
                {p.name}
              </button>
              <div id={`patient-${p.id}-about`} className="patient-about">
                <span className="scenario">{p.scenario}</span>
                <span className="patient-description">{p.description}</span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
