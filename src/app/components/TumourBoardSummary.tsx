import { groupAvoided } from '../../core/index.ts';
import type { Assessment, DataGap } from '../../core/model.ts';
import { getKnowledge, labelAsOf } from '../../knowledge/index.ts';
import type { AttentionItem } from '../attention.ts';
import {
  ageAt,
  DOMAIN_LABEL,
  formatDate,
  METHOD_LABEL,
  plus,
  SPECIMEN_LABEL,
  STATUS_LABEL,
  shorten,
} from '../format.ts';
import { patientName } from './PatientBanner.tsx';
import { lineStatus } from './TherapyTimeline.tsx';

type Json = Record<string, unknown>;

/** A CSS string literal: quotes, backslashes and line breaks escaped, so a name cannot end it. */
const cssString = (s: string) => `"${s.replace(/[\\"]/g, '\\$&').replace(/[\r\n]+/g, ' ')}"`;

function runningHeader(who: string, date: string): string {
  return `@media print { @page { @top-left { content: ${cssString(who)}; font-size: 8.5pt; } @top-right { content: ${cssString(`ALK/ROS1 summary, ${date}, page `)} counter(page) " of " counter(pages); font-size: 8.5pt; } } }`;
}

/**
 * The printed summary for a tumour board: one or two A4 pages. Patient, date, biomarkers with
 * method and date, disease and CNS status, lines of therapy, the recommendation with its reason,
 * what must be done first, open gaps, and short references; name and date on every page. Shown
 * only in print (styles.css): the screen keeps its own layout.
 */
export function TumourBoardSummary({
  a,
  patient,
  gaps,
  attention,
  now,
}: {
  a: Assessment;
  patient: Json | undefined;
  gaps: readonly DataGap[];
  attention: readonly AttentionItem[];
  now: string;
}) {
  const kb = getKnowledge();
  const name = patientName(patient);
  const birthDate = typeof patient?.birthDate === 'string' ? patient.birthDate : undefined;
  const age = ageAt(birthDate, now);
  const sex = typeof patient?.gender === 'string' ? patient.gender : 'sex not recorded';
  const r = a.recommendation;
  const preferredIds = new Set(r?.preferred.map((o) => o.id) ?? []);
  const toDo = a.checks
    .filter((c) => preferredIds.has(c.agent))
    .flatMap((c) => c.checks.filter((s) => s.state === 'missing' || s.state === 'stale'));
  const orders = [...new Map(toDo.map((s) => [s.check, s])).values()];
  const refs = [
    ...new Set([
      ...(r?.situation.evidence ?? []),
      ...(r?.preferred.flatMap((o) => o.evidence) ?? []),
      ...a.biomarkers.ALK.evidence,
      ...a.biomarkers.ROS1.evidence,
    ]),
  ];
  const avoidGroups = groupAvoided(kb, r?.avoid ?? []);
  return (
    <div className="tumour-board">
      {/* Name and date on every printed page: CSS page-margin boxes (Chromium 131+). */}
      <style>
        {runningHeader(`${name}${birthDate ? `, born ${formatDate(birthDate)}` : ''}`, formatDate(now))}
      </style>
      <h1>ALK/ROS1 tumour board summary</h1>
      <p>
        <strong>{name}</strong>
        {age !== undefined ? `, ${age} y` : ''}, {sex}. Prepared {formatDate(now)}; knowledge base{' '}
        {kb.version}. Decision support: the clinician decides.
      </p>

      <section>
        <h2>Biomarkers</h2>
        <ul>
          {[a.biomarkers.ALK, a.biomarkers.ROS1].map((g) => (
            <li key={g.gene}>
              <strong>
                {g.gene}: {STATUS_LABEL[g.status]}
              </strong>
              {g.basis.length
                ? ` — ${g.basis.map((b) => `${METHOD_LABEL[b.method]}, ${SPECIMEN_LABEL[b.specimen]}, ${formatDate(b.date)}`).join('; ')}`
                : ''}
              {g.resistanceMutations.length
                ? `; resistance: ${g.resistanceMutations.map((m) => m.mutation).join(', ')}`
                : ''}
            </li>
          ))}
        </ul>
      </section>

      <section>
        <h2>Disease</h2>
        <p>
          {a.disease.nsclc
            ? `${a.disease.nsclc.display} (stage ${a.disease.nsclc.stage})`
            : 'NSCLC not recorded'}
          .{' '}
          {a.disease.cnsDisease
            ? `CNS: ${a.disease.cnsFindings.map((f) => `${f.display} (${f.clinicalStatus})`).join('; ')}.`
            : 'No active CNS disease recorded.'}
        </p>
      </section>

      <section>
        <h2>Lines of therapy</h2>
        {a.therapy.regimens.length ? (
          <ol>
            {a.therapy.regimens.map((x) => (
              <li key={`${x.number}-${x.start ?? ''}-${plus(x.displays)}`}>
                Line {x.number}: {plus(x.displays)} ({formatDate(x.start)} –{' '}
                {x.status === 'active' ? 'ongoing' : formatDate(x.end)})
                {x.maintenance ? `; maintenance ${plus(x.maintenance.displays)}` : ''}
                {x.progressed
                  ? `; progression${x.presumedProgression ? ' presumed (no reason recorded)' : ''}`
                  : ''}
              </li>
            ))}
          </ol>
        ) : (
          <p>No systemic therapy recorded.</p>
        )}
        <p>{a.therapy.couldNotCheck ?? lineStatus(a.therapy)}</p>
      </section>

      <section>
        <h2>Recommendation</h2>
        {r ? (
          <ul>
            <li>
              <strong>Preferred: {r.preferred.map((o) => o.name).join(', ') || 'none'}</strong> —{' '}
              {r.situation.label}
            </li>
            {r.other.length ? <li>Other: {r.other.map((o) => o.name).join(', ')}</li> : null}
            {avoidGroups.map((g) => (
              <li key={g.why}>
                Avoid{' '}
                {g.checkpointInhibitors
                  ? `immune checkpoint inhibitors (${g.options.map((x) => x.id).join(', ')})`
                  : g.options.map((x) => x.name).join(', ')}
                : {shorten(g.why, 140)}
              </li>
            ))}
          </ul>
        ) : (
          <p>No targeted therapy suggested: no confirmed positive ALK or ROS1 result.</p>
        )}
      </section>

      <section>
        <h2>Before the first dose</h2>
        {attention.length || orders.length ? (
          <ul>
            {attention.map((i) => (
              <li key={`${i.anchor}|${i.text}`}>
                <strong>{i.severity === 'critical' ? 'Critical' : 'Warning'}:</strong> {shorten(i.text, 220)}
                {i.concerns ? ` (${i.concerns})` : ''}
              </li>
            ))}
            {orders.map((s) => (
              <li key={s.check}>
                {s.name}: {s.state === 'missing' ? 'missing' : 'out of date'}
                {s.orders.length ? ` — order ${s.orders.map((o) => o.display).join(' + ')}` : ''}
              </li>
            ))}
          </ul>
        ) : (
          <p>Nothing outstanding for the preferred agents.</p>
        )}
      </section>

      <section>
        <h2>Open gaps in the record</h2>
        {gaps.length ? (
          <ul>
            {gaps.map((g) => (
              <li key={`${g.query}|${g.detail}`}>
                {g.domains.map((d) => DOMAIN_LABEL[d]).join(', ')}: {shorten(g.detail || g.reason, 160)}
              </li>
            ))}
          </ul>
        ) : (
          <p>None: every search answered.</p>
        )}
      </section>

      <section className="tb-refs">
        <h2>References</h2>
        <ol>
          {refs.map((id) => {
            const e = kb.evidence.get(id);
            const asOf = labelAsOf(kb, id);
            return (
              <li key={id}>
                {e ? shorten(e.title, 110) : id}
                {e?.section ? `, ${shorten(e.section, 60)}` : ''}
                {asOf ? ` (${asOf})` : ''}
                {e && !e.verified ? ' (not yet verified)' : ''}
              </li>
            );
          })}
        </ol>
      </section>
    </div>
  );
}
