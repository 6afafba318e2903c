/**
 * "Bring your own patient" over real HTTP: `POST /sandbox/api/patients` with a FHIR R4 Bundle. A
 * good one is searchable on the sandbox FHIR server, listed by the EHR back end, and gets cards from
 * the CDS service like a sample patient; a bad one is a 400 OperationOutcome naming every problem
 * (413 past 20 MB) and changes nothing. Imported patients come back after a restart on the same
 * data directory, and can be deleted (the samples cannot).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../sandbox/ehr/api.ts';
import { buildHookRequest, patientViewContext, SERVICE_FOR_HOOK } from '../../../sandbox/ehr/hooks.ts';
import type { Card } from '../../../sandbox/ehr/types.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';
import { alkPositiveBundle, LOINC, uuid } from '../../fixtures/sandbox/import-bundles.ts';

type R = Record<string, any>;
interface Outcome {
  resourceType: string;
  issue: { severity: string; code: string; diagnostics: string; expression?: string[] }[];
}

let sandbox: Sandbox;
let base: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, feedbackDataDir: 'memory://', logLevel: 'silent' });
  base = sandbox.base;
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

const postBundle = (body: unknown, at = base) =>
  fetch(`${at}/sandbox/api/patients`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const listPatients = async (at = base) =>
  (await (await fetch(`${at}/sandbox/api/patients`)).json()) as {
    id: string;
    name: string;
    scenario: string;
    imported?: boolean;
  }[];

/** The open FHIR endpoint (no token): what the sandbox serves. */
const fhir = (path: string, at = base) => fetch(`${at}/open/fhir/${path}`);

/** What must not change when an import fails: the sample list, a record's size, one resource. */
async function samplesState() {
  const patients = (await listPatients()).filter((p) => !p.imported);
  const search = (await (await fhir('Observation?patient=alk-naive&_count=1')).json()) as { total: number };
  const potassium = await (await fhir('Observation/alk-naive-wk-k')).json();
  const practitioner = await (await fhir('Practitioner/sandbox-oncologist')).json();
  return { patients, observations: search.total, potassium, practitioner };
}

describe('importing a good Bundle', () => {
  const id = `byo-${uuid().slice(0, 8)}`;
  let answer: Response;
  let body: R;

  beforeAll(async () => {
    answer = await postBundle(alkPositiveBundle(id));
    body = await answer.json();
  });

  it('answers 201 with the id and name', () => {
    expect(answer.status, JSON.stringify(body)).toBe(201);
    expect(body).toEqual({ id, name: 'Ada Importa' });
  });

  it('makes the record searchable on the sandbox FHIR server, references rewritten to Type/id', async () => {
    expect((await fhir(`Patient/${id}`)).status).toBe(200);
    const search = (await (await fhir(`Observation?patient=${id}&code=${LOINC}|78205-2`)).json()) as R;
    expect(search.total).toBe(1);
    expect(search.entry[0].resource.subject.reference).toBe(`Patient/${id}`);
    const conditions = (await (await fhir(`Condition?subject=Patient/${id}`)).json()) as R;
    expect(conditions.total).toBe(1);
    const labs = (await (await fhir(`Observation?patient=${id}&category=laboratory&_count=50`)).json()) as R;
    expect(labs.total).toBe(6);
  });

  it('lists it among the patients, flagged imported, the samples unflagged', async () => {
    const patients = await listPatients();
    const mine = patients.find((p) => p.id === id);
    expect(mine).toMatchObject({ id, name: 'Ada Importa', imported: true });
    expect(patients.find((p) => p.id === 'alk-naive')?.imported).toBeUndefined();
  });

  it('gets an ALK therapy card from the CDS service, as a sample patient does (prefetch and fallback)', async () => {
    const api = createApi({ origin: base });
    const session = await api.session();
    const discovery = await api.discovery(session);
    const serviceId = SERVICE_FOR_HOOK['patient-view'];
    const service = discovery.services.find((s) => s.id === serviceId);
    for (const withPrefetch of [true, false]) {
      const chart = { userId: 'Practitioner/sandbox-oncologist', patientId: id, encounterId: '' };
      const hookFhir = await api.hookFhir({
        patientId: id,
        userId: chart.userId,
        ...(withPrefetch && service?.prefetch ? { prefetch: service.prefetch } : {}),
      });
      const request = buildHookRequest({
        hook: 'patient-view',
        hookInstance: uuid(),
        context: patientViewContext(chart),
        fhir: hookFhir,
        sendPrefetch: withPrefetch,
      });
      const { cards } = await api.callService(session, serviceId, request);
      const therapy = cards.find((c: Card) => c.source.topic?.code === 'therapy-selection');
      expect(therapy?.summary, cards.map((c: Card) => c.summary).join(' | ')).toMatch(/ALK/);
      const offered = (therapy?.suggestions ?? []).map(
        (s) => (s.actions?.[0]?.resource?.medicationCodeableConcept as { text?: string } | undefined)?.text,
      );
      expect(offered).toContain('alectinib');
    }
  });

  it('refuses the same Bundle again (the ids are taken), naming the imported patient', async () => {
    const again = await postBundle(alkPositiveBundle(id));
    expect(again.status).toBe(400);
    const outcome = (await again.json()) as Outcome;
    expect(outcome.issue.map((i) => i.diagnostics).join('\n')).toMatch(
      new RegExp(`Patient/${id} \\(imported patient ${id}'s record`),
    );
  });
});

describe('a Bundle that cannot be loaded: 400 naming every problem, nothing changed', () => {
  let before: Awaited<ReturnType<typeof samplesState>>;
  beforeAll(async () => {
    before = await samplesState();
  });

  const withEntries = (id: string, edit: (entries: any[]) => void) => {
    const bundle = alkPositiveBundle(id);
    edit(bundle.entry);
    return bundle;
  };
  const cases: [string, (id: string) => unknown, RegExp[]][] = [
    [
      'broken references (an unknown urn:uuid and an unknown Type/id)',
      (id) =>
        withEntries(id, (entries) => {
          entries[3].resource.subject = { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' };
          entries[4].resource.hasMember = [{ reference: 'Observation/not-in-the-bundle' }];
        }),
      [
        /Bundle\.entry\[3\] \(Observation\/[^)]+\) subject: "urn:uuid:00000000-0000-4000-8000-000000000000" resolves neither inside the Bundle/,
        /Bundle\.entry\[4\] .*hasMember\[0\]: "Observation\/not-in-the-bundle" resolves neither/,
      ],
    ],
    [
      'a bare Patient',
      (id) => alkPositiveBundle(id).entry[0].resource,
      [/the body is a Patient: send a FHIR R4 Bundle/],
    ],
    ['not JSON', () => '{"resourceType": "Bundle", "entry": [', [/the body is not JSON/]],
    ['no Patient', (id) => withEntries(id, (entries) => entries.splice(0, 1)), [/the Bundle has no Patient/]],
    [
      'two Patients',
      (id) =>
        withEntries(id, (entries) =>
          entries.push({ resource: { resourceType: 'Patient', id: `${id}-twin` } }),
        ),
      [/the Bundle has 2 Patients/],
    ],
    [
      'a resource type the sandbox does not serve',
      (id) =>
        withEntries(id, (entries) =>
          entries.push({
            fullUrl: `urn:uuid:${uuid()}`,
            resource: { resourceType: 'Organization', name: 'Lab' },
          }),
        ),
      [/Organization is not a resource type the sandbox serves/],
    ],
    [
      "ids of a sample patient's resources",
      (id) =>
        withEntries(id, (entries) => {
          entries[4].resource.id = 'alk-naive-wk-k';
        }),
      [
        /the sandbox already has Observation\/alk-naive-wk-k \(sample patient alk-naive's record\); refused, not renamed/,
      ],
    ],
    [
      'a resource about another (sample) patient',
      (id) =>
        withEntries(id, (entries) => {
          entries[5].resource.subject = { reference: 'Patient/alk-naive' };
        }),
      [/"Patient\/alk-naive" is about another patient \(sample patient alk-naive's record\)/],
    ],
    [
      'a structurally invalid resource',
      (id) =>
        withEntries(id, (entries) => {
          delete entries[4].resource.status;
          entries[4].resource.effectiveDateTime = 'last Tuesday';
        }),
      [/Bundle\.entry\[4\] \(Observation\/[^)]+\) status: Missing required property/, /Invalid dateTime/],
    ],
  ];

  it.each(cases)('%s', async (_name, make, problems) => {
    const id = `byo-bad-${uuid().slice(0, 8)}`;
    const res = await postBundle(make(id));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    const outcome = (await res.json()) as Outcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    const text = outcome.issue.map((i) => i.diagnostics).join('\n');
    for (const problem of problems) expect(text).toMatch(problem);
    for (const issue of outcome.issue) {
      expect(issue.severity).toBe('error');
      expect(issue.code).toBeTruthy();
    }
    // All or nothing: not the patient, not its good resources, and the samples as they were.
    expect((await fhir(`Patient/${id}`)).status).toBe(404);
    const search = (await (await fhir(`Observation?patient=${id}`)).json()) as { total?: number };
    expect(search.total ?? 0).toBe(0);
    expect((await listPatients()).some((p) => p.id === id)).toBe(false);
    expect(await samplesState()).toEqual(before);
  });

  it('gives each problem a FHIRPath into the Bundle', async () => {
    const res = await postBundle(cases[0]?.[1]('byo-paths'));
    const outcome = (await res.json()) as Outcome;
    expect(outcome.issue.flatMap((i) => i.expression ?? [])).toEqual(
      expect.arrayContaining([
        'Bundle.entry[3].resource.subject.reference',
        'Bundle.entry[4].resource.hasMember[0].reference',
      ]),
    );
  });

  it('answers 413 past 20 MB, with or without a Content-Length, and changes nothing', async () => {
    const bundle = alkPositiveBundle('byo-huge');
    bundle.entry[0].resource.text = {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(21 * 1024 * 1024)}</div>`,
    };
    const json = JSON.stringify(bundle);
    const declared = await postBundle(json);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as Outcome).issue[0]?.diagnostics).toMatch(/over 20 MB/);

    // Streamed in chunks with no Content-Length: the server counts as it reads, and stops.
    const bytes = new TextEncoder().encode(json);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= bytes.length) return controller.close();
        const chunk = bytes.subarray(sent, sent + 256 * 1024);
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const chunked = await fetch(`${base}/sandbox/api/patients`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as Outcome).resourceType).toBe('OperationOutcome');
    expect((await fhir('Patient/byo-huge')).status).toBe(404);
    expect(await samplesState()).toEqual(before);
  }, 60_000);
});

describe("another site's page", () => {
  it('cannot import into the sandbox (its Origin is not the sandbox), the sandbox page can', async () => {
    const id = `byo-origin-${uuid().slice(0, 8)}`;
    const send = (origin: string) =>
      fetch(`${base}/sandbox/api/patients`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', origin },
        body: JSON.stringify(alkPositiveBundle(id)),
      });
    expect((await send('https://evil.example')).status).toBe(403);
    expect((await fhir(`Patient/${id}`)).status).toBe(404);
    expect((await send(base)).status).toBe(201);
  });
});

describe('deleting', () => {
  it('removes an imported patient and its record, and refuses a sample patient', async () => {
    const id = `byo-del-${uuid().slice(0, 8)}`;
    expect((await postBundle(alkPositiveBundle(id))).status).toBe(201);
    const del = await fetch(`${base}/sandbox/api/patients/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await fhir(`Patient/${id}`)).status).toBe(404);
    expect(((await (await fhir(`Observation?patient=${id}`)).json()) as { total?: number }).total ?? 0).toBe(
      0,
    );
    expect((await listPatients()).some((p) => p.id === id)).toBe(false);
    // The same Bundle loads again once it is gone: nothing of it was left behind.
    expect((await postBundle(alkPositiveBundle(id))).status).toBe(201);

    const sample = await fetch(`${base}/sandbox/api/patients/alk-naive`, { method: 'DELETE' });
    expect(sample.status).toBe(403);
    expect(((await sample.json()) as Outcome).issue[0]?.diagnostics).toMatch(/built-in sample patient/);
    expect((await fhir('Patient/alk-naive')).status).toBe(200);
  });
});

describe('imported patients across restarts', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are kept as one JSON file each and loaded again by a sandbox started on the same directory', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-patients-'));
    const id = `byo-kept-${uuid().slice(0, 8)}`;
    const first = await startSandbox({
      port: 0,
      feedbackDataDir: 'memory://',
      patientsDataDir: dir,
      logLevel: 'silent',
    });
    try {
      expect((await postBundle(alkPositiveBundle(id), first.base)).status).toBe(201);
      // A failed import writes nothing.
      expect((await postBundle({ resourceType: 'Bundle', type: 'collection' }, first.base)).status).toBe(400);
    } finally {
      await first.close();
    }
    expect(await readdir(dir)).toEqual([`${id}.json`]);

    const second = await startSandbox({
      port: 0,
      feedbackDataDir: 'memory://',
      patientsDataDir: dir,
      logLevel: 'silent',
    });
    try {
      const patients = await listPatients(second.base);
      expect(patients.find((p) => p.id === id)).toMatchObject({ name: 'Ada Importa', imported: true });
      const fish = (await (
        await fhir(`Observation?patient=${id}&code=${LOINC}|78205-2`, second.base)
      ).json()) as R;
      expect(fish.total).toBe(1);
      const del = await fetch(`${second.base}/sandbox/api/patients/${id}`, { method: 'DELETE' });
      expect(del.status).toBe(204);
      expect(existsSync(join(dir, `${id}.json`))).toBe(false);
    } finally {
      await second.close();
    }
  }, 120_000);
});
