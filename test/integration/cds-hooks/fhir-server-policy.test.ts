/**
 * Which `fhirServer` a CDS client may make the service call, over real sockets with JWTs on: an
 * issuer bound by `fhir_servers` gets no request to any other server; an issuer without one gets no
 * request to loopback or link-local targets, whether named as an IP literal, `localhost`, an
 * IPv4-mapped address or a host name whose DNS answer is loopback. The listener that stands for an
 * internal service counts what reaches it: nothing, and never a token.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { isRefusedAddress } from '../../../cds-hooks/http-get.ts';
import { type Client, type JwtService, startJwtService } from './jwt-service.ts';

let feedback: FeedbackStore;
let service: JwtService;
let internal: Server;
let internalPort = 0;
const reached: { path: string; authorization: string | undefined }[] = [];
let allowedEhr: Server;
let allowedBase = '';

const listen = async (s: Server) => {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
};

beforeAll(async () => {
  // Stands for anything internal: it answers JSON, so a 200 would betray it.
  internal = createServer((req, res) => {
    reached.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
  });
  internalPort = await listen(internal);
  // The one EHR the Epic-style client is bound to (on loopback here, allowed by name).
  allowedEhr = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
  });
  allowedBase = `http://127.0.0.1:${await listen(allowedEhr)}/fhir`;
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
  service = await startJwtService({ feedback, fhirServers: { epic: [allowedBase] } });
});

afterAll(async () => {
  await service.close();
  await new Promise<void>((resolve) => internal.close(() => resolve()));
  await new Promise<void>((resolve) => allowedEhr.close(() => resolve()));
  await feedback.close();
});

function hook(client: Client, fhirServer: string) {
  return service.call(client, '/cds-services/alk-ros1-patient-view', {
    hook: 'patient-view',
    hookInstance: crypto.randomUUID(),
    fhirServer,
    fhirAuthorization: {
      access_token: 'attacker-chosen-token',
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'patient/*.read',
      subject: 'x',
    },
    context: { userId: 'Practitioner/1', patientId: 'p1' },
  });
}

const ownName = hostname();
const ownNameIsLoopback = await lookup(ownName, { all: true })
  .then((answers) => answers.length > 0 && answers.every((a) => isRefusedAddress(a.address)))
  .catch(() => false);
if (!ownNameIsLoopback)
  console.warn(`[fhir-server-policy] ${ownName} does not resolve to loopback here: the DNS case is skipped.`);

describe('an issuer without fhir_servers', () => {
  const targets: [string, () => string][] = [
    ['an IPv4 loopback literal', () => `http://127.0.0.1:${internalPort}/fhir`],
    ['another 127/8 address', () => `http://127.0.0.2:${internalPort}/fhir`],
    ['localhost', () => `http://localhost:${internalPort}/fhir`],
    ['an IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${internalPort}/fhir`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data?'],
    ['0.0.0.0', () => `http://0.0.0.0:${internalPort}/fhir`],
  ];

  it.each(targets)(
    'naming %s: no request reaches it, and the answer does not say whether it exists',
    async (_what, target) => {
      reached.length = 0;
      const { status, body } = await hook('sandbox', target());
      expect(status).toBe(412);
      expect(body.resourceType).toBe('OperationOutcome');
      expect(reached).toEqual([]);
    },
  );

  it.skipIf(!ownNameIsLoopback)(
    `naming a host whose DNS answer is loopback (${ownName}): refused on the address, not the name`,
    async () => {
      reached.length = 0;
      const { status } = await hook('sandbox', `http://${ownName}:${internalPort}/fhir`);
      expect(status).toBe(412);
      expect(reached).toEqual([]);
    },
  );
});

describe('an issuer bound by fhir_servers', () => {
  it('gets its own FHIR server called', async () => {
    const { status } = await hook('epic', allowedBase);
    expect(status).toBe(200);
  });

  it('naming any other server gets no request to it (412, since there is no prefetch)', async () => {
    reached.length = 0;
    const { status, body } = await hook('epic', `http://127.0.0.1:${internalPort}/fhir`);
    expect(status).toBe(412);
    expect(body.issue[0].diagnostics).toMatch(/may not be called for this CDS client/);
    expect(reached).toEqual([]);
  });

  it.each([
    ['a longer path', () => `${allowedBase}/../admin`],
    ['credentials', () => allowedBase.replace('http://', 'http://u:p@')],
    ['a query string', () => `${allowedBase}?x=1`],
  ])('a variant of its server with %s is another server', async (_what, target) => {
    const { status } = await hook('epic', target());
    expect(status).toBe(412);
  });
});

describe('isRefusedAddress', () => {
  it('refuses loopback, link-local and unspecified addresses, IPv4 and IPv6, and allows private ranges', () => {
    for (const ip of [
      '127.0.0.1',
      '127.9.9.9',
      '0.0.0.0',
      '169.254.169.254',
      '::1',
      '::',
      'fe80::1',
      '::ffff:127.0.0.1',
    ])
      expect(isRefusedAddress(ip), ip).toBe(true);
    for (const ip of [
      '10.0.0.5',
      '172.16.1.1',
      '192.168.1.10',
      '8.8.8.8',
      '2001:db8::1',
      'fd00::1',
      '::ffff:a00:5',
    ])
      expect(isRefusedAddress(ip), ip).toBe(false);
  });
});
