/**
 * A test double of the CDS Hooks sandbox (cds-hooks/sandbox) as it behaves against a CDS service:
 * a page on its own origin that fetches discovery cross-origin without a token, fills the prefetch
 * templates itself from an open FHIR server (POST `_search` first, then GET), calls the service
 * cross-origin with an ES384 JWT (`iss` https://sandbox.cds-hooks.org, `jku` its public JWKS URL,
 * `aud` the exact URL called), shows the cards, and takes a suggestion the way its reducer does:
 * actions in order, stopping at the first it can apply (a `create` whose medication has text and a
 * code replaces the draft; a `delete` clears it). Its JWKS is served from its own origin, as a local
 * build serves it. Facts from running the real sandbox locally; none of its code is used here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwksOf, makeKey, type TestKey } from '../../fixtures/cds-jwt/keys.ts';
import { sandboxStyleToken } from '../../fixtures/cds-jwt/tokens.ts';

export const PUBLIC_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';

export interface CdsHooksSandboxDouble {
  server: Server;
  /** Its origin, e.g. http://127.0.0.1:41234 (trust it with CDS_HOOKS_SANDBOX_URL). */
  origin: string;
  /** The page for one run: `hook` is patient-view or order-select; `drug` the drafted one. */
  pageUrl(params: {
    fhirServiceUrl: string;
    serviceDiscoveryURL: string;
    patientId: string;
    hook: 'patient-view' | 'order-select';
    drug?: { name: string; rxnorm: string };
  }): string;
  close(): Promise<void>;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CDS Hooks sandbox double</title></head>
<body>
<p id="status">starting</p>
<ul id="cards"></ul>
<p>Draft: <span id="draft">none</span></p>
<script type="module">
const q = new URLSearchParams(location.search);
const fhir = q.get('fhirServiceUrl');
const discoveryUrl = q.get('serviceDiscoveryURL');
const patientId = q.get('patientId');
const hook = q.get('hook');
const status = (t) => { document.getElementById('status').textContent = t; };
const token = async (aud) => (await (await fetch('/token?aud=' + encodeURIComponent(aud))).text());

async function fill(template) {
  const url = template.replaceAll('{{context.patientId}}', patientId);
  const [path, query] = url.split('?');
  if (query) {
    const viaPost = await fetch(fhir + '/' + path + '/_search', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query,
    }).catch(() => undefined);
    if (viaPost && viaPost.ok) return viaPost.json();
  }
  const viaGet = await fetch(fhir + '/' + url);
  return viaGet.ok ? viaGet.json() : undefined;
}

let draft = null;
const showDraft = () => {
  document.getElementById('draft').textContent = draft ? draft.medicationCodeableConcept.text : 'none';
};

function takeSuggestion(suggestion) {
  for (const action of suggestion.actions || []) {
    if (action.type === 'create' || action.type === 'update') {
      const med = action.resource && action.resource.medicationCodeableConcept;
      const same = draft && JSON.stringify(med) === JSON.stringify(draft.medicationCodeableConcept);
      if (med && !same && med.text && med.coding && med.coding[0] && med.coding[0].code) {
        draft = { ...draft, medicationCodeableConcept: med };
        return;
      }
    } else if (action.type === 'delete') {
      draft = null;
      return;
    }
  }
}

try {
  const discovery = await (await fetch(discoveryUrl)).json();
  const service = discovery.services.find((s) => s.hook === hook);
  const prefetch = {};
  for (const [key, template] of Object.entries(service.prefetch || {})) {
    const value = await fill(template);
    if (value !== undefined) prefetch[key] = value;
  }
  const context = { userId: 'Practitioner/example', patientId };
  if (hook === 'order-select') {
    draft = {
      resourceType: 'MedicationRequest', id: 'request-123', status: 'draft', intent: 'order',
      subject: { reference: 'Patient/' + patientId },
      medicationCodeableConcept: {
        text: q.get('drug'),
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: q.get('rxnorm'), display: q.get('drug') }],
      },
    };
    context.selections = ['MedicationRequest/request-123'];
    context.draftOrders = { resourceType: 'Bundle', entry: [{ resource: draft }] };
  }
  showDraft();
  const url = discoveryUrl.replace(/\\/$/, '') + '/' + service.id;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + (await token(url)) },
    body: JSON.stringify({ hook, hookInstance: crypto.randomUUID(), fhirServer: fhir, context, prefetch }),
  });
  const body = await res.json();
  const list = document.getElementById('cards');
  for (const card of body.cards || []) {
    const li = document.createElement('li');
    li.dataset.indicator = card.indicator;
    li.dataset.topic = card.source && card.source.topic ? card.source.topic.code : '';
    li.append(card.summary);
    for (const s of card.suggestions || []) {
      const b = document.createElement('button');
      b.textContent = s.label;
      b.addEventListener('click', () => { takeSuggestion(s); showDraft(); });
      li.append(' ', b);
    }
    list.append(li);
  }
  status('HTTP ' + res.status);
} catch (e) {
  status('failed: ' + e);
}
</script>
</body></html>`;

export async function startCdsHooksSandboxDouble(): Promise<CdsHooksSandboxDouble> {
  const key: TestKey = await makeKey('ES384');
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    if (url.pathname === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(jwksOf(key)));
    }
    if (url.pathname === '/token') {
      const token = await sandboxStyleToken({
        key,
        aud: url.searchParams.get('aud') ?? '',
        nowSec: Math.floor(Date.now() / 1000),
        jku: PUBLIC_JKU,
      });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(token);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    origin,
    pageUrl(p) {
      const u = new URL(`${origin}/`);
      u.searchParams.set('fhirServiceUrl', p.fhirServiceUrl);
      u.searchParams.set('serviceDiscoveryURL', p.serviceDiscoveryURL);
      u.searchParams.set('patientId', p.patientId);
      u.searchParams.set('hook', p.hook);
      if (p.drug) {
        u.searchParams.set('drug', p.drug.name);
        u.searchParams.set('rxnorm', p.drug.rxnorm);
      }
      return u.href;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
