/**
 * The enforcement point end to end over HTTP: a hospital (and a pharmacy) retrieve a patient's data from a GP's
 * node with real OAuth tokens (private_key_jwt → node-issued access token), the real consent registry asked over
 * HTTP, the authorisation table, narrowing and the audit log.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { registerAuthServer, createClientAssertion, generateSigningKey, staticClientRegistry, tokenRequestBody } from '../../../src/gf/auth/token-server.ts';
import { nodeEnforcement, LOCAL_DIRECTORY_TENANT } from '../../../src/gf/authorisation/node-enforcement.ts';
import { ConsentRegistry, registerConsentRoutes } from '../../../src/gf/consent/index.ts';
import { startServer, type RunningServer } from '../../../src/http/server.ts';
import { freshEngine, type EngineTarget } from '../../helpers/engines.ts';
import { consent } from '../consent/helpers.ts';

const GP = '90000001';
const HOSPITAL = '90000002';
const PHARMACY = '90000003';
const STRANGER = '90000009';
const BSN = '999911120';
const NODE_SECRET = 'Bearer node-secret-for-tests';
const ADMIN = 'Bearer admin-for-tests';

interface Client {
  ura: string;
  key: KeyObject;
  kid: string;
  jwk: JWK;
}

async function client(ura: string): Promise<Client> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(await exportJWK(publicKey)), kid: `k-${ura}`, alg: 'ES256', use: 'sig' };
  return { ura, key: privateKey, kid: jwk.kid, jwk };
}

describe('enforcement point (GP node, hospital and pharmacy asking)', () => {
  let s: RunningServer;
  let target: EngineTarget;
  const signing = generateSigningKey();
  const clients: Record<string, Client> = {};
  const security: Record<string, unknown>[] = [];
  let unreachableConsent = false;

  before(async () => {
    for (const ura of [HOSPITAL, PHARMACY, STRANGER]) clients[ura] = await client(ura);
    target = await freshEngine('sqlite');
    s = await startServer({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      ...target.opts,
      plugins: async (app, node, url) => {
        await registerAuthServer(app, {
          baseUrl: url,
          hasTenant: (t) => Boolean(node.tenants.get(t)),
          resolveClient: staticClientRegistry(Object.values(clients).map((c) => ({ clientId: c.ura, ura: c.ura, jwks: { keys: [c.jwk] } }))),
          signingKeys: [signing],
        });
        const registry = await ConsentRegistry.open({ dispatch: node.dispatch, tenants: node.tenants });
        await registerConsentRoutes(app, {
          registry,
          verifyToken: (a) => (a === NODE_SECRET ? { ura: GP, role: 'node' } : a === ADMIN ? { ura: '00000000', role: 'admin' } : undefined),
        });
      },
      enforcement: (node, url) =>
        nodeEnforcement({
          baseUrl: url,
          jwks: { keys: [signing.publicJwk] },
          dispatch: node.dispatch,
          consentBase: () => (unreachableConsent ? 'http://127.0.0.1:9/national/consent' : `${url()}/national/consent`),
          consentAuthorization: () => NODE_SECRET,
          security: (e) => security.push(e),
        }),
    });
    const node = s.node;
    await node.tenants.add({ tenant: 'gp', ura: GP, name: 'Huisartsenpraktijk', settings: { organizationType: 'Z3' } });
    await node.tenants.ensure({ tenant: LOCAL_DIRECTORY_TENANT });
    const local = { tenant: LOCAL_DIRECTORY_TENANT, base: `${s.url}/fhir/${LOCAL_DIRECTORY_TENANT}`, strict: false };
    for (const [ura, type] of [[HOSPITAL, 'V4'], [PHARMACY, 'J8']]) {
      await node.dispatch(local, {
        method: 'PUT',
        path: `Organization/org-${ura}`,
        query: [],
        headers: {},
        body: { resourceType: 'Organization', id: `org-${ura}`, active: true, identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: ura }], type: [{ coding: [{ system: 'http://nictiz.nl/fhir/NamingSystem/organization-type', code: type }] }] },
      });
    }
    const gp = { tenant: 'gp', base: `${s.url}/fhir/gp`, strict: false };
    const put = (path: string, body: object) => node.dispatch(gp, { method: 'PUT', path, query: [], headers: {}, body });
    await put('Patient/p1', { resourceType: 'Patient', id: 'p1', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: BSN }], name: [{ family: 'Jansen' }] });
    await put('Condition/c1', { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Diabetes mellitus type 2' } });
    await put('MedicationRequest/m1', { resourceType: 'MedicationRequest', id: 'm1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { text: 'metformine' } });
    await put('Encounter/e1', { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'Patient/p1' } });
    await put('Patient/p2', { resourceType: 'Patient', id: 'p2', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999911132' }] });
    await put('Condition/c2', { resourceType: 'Condition', id: 'c2', subject: { reference: 'Patient/p2' }, code: { text: 'other patient' } });
  });
  after(async () => {
    await s?.close();
    await target?.cleanup();
  });

  async function token(c: Client, o: { role?: string; purpose?: 'treatment' | 'emergency'; tenant?: string; relation?: boolean } = {}): Promise<string> {
    const tokenEndpoint = `${s.url}/auth/${o.tenant ?? 'gp'}/token`;
    const assertion = await createClientAssertion({ clientId: c.ura, tokenEndpoint, privateKey: c.key, kid: c.kid, person: { uziNr: '123456789', uziRolcode: o.role ?? '01.010' }, purposeOfUse: o.purpose ?? 'treatment', treatmentRelation: o.relation ?? (o.purpose ?? 'treatment') === 'treatment' });
    const res = await fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenRequestBody(assertion, 'system/*.read') });
    const body = (await res.json()) as { access_token?: string; error_description?: string };
    assert.ok(body.access_token, body.error_description);
    return body.access_token;
  }

  const get = async (path: string, tok?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${s.url}/fhir/gp/${path}`, { headers: { accept: 'application/fhir+json', ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...headers } });
    return { status: res.status, json: (await res.json()) as { entry?: { resource: { resourceType: string; id: string } }[]; issue?: { diagnostics: string }[] } };
  };
  const types = (b: { entry?: { resource: { resourceType: string } }[] }) => (b.entry ?? []).map((e) => e.resource.resourceType).sort();
  const permitHospital = () =>
    fetch(`${s.url}/national/consent/Consent`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/fhir+json' }, body: JSON.stringify(consent({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } })) });

  it('no token, a forged token and an expired token are refused with 401', async () => {
    assert.equal((await get('Condition?patient=p1')).status, 401);
    const forged = await new SignJWT({ ura: HOSPITAL }).setProtectedHeader({ alg: 'ES256', kid: 'x' }).setIssuer(`${s.url}/auth/gp`).setAudience(`${s.url}/fhir/gp`).setExpirationTime('5m').sign(clients[HOSPITAL].key);
    assert.equal((await get('Condition?patient=p1', forged)).status, 401);
    const expired = await new SignJWT({ ura: HOSPITAL, client_id: HOSPITAL, scope: 'system/*.read' }).setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: 'at+jwt' }).setIssuer(`${s.url}/auth/gp`).setAudience(`${s.url}/fhir/gp`).setIssuedAt(Math.floor(Date.now() / 1000) - 600).setExpirationTime(Math.floor(Date.now() / 1000) - 300).sign(signing.privateKey);
    const res = await get('Condition?patient=p1', expired);
    assert.equal(res.status, 401);
    assert.match(res.json.issue![0].diagnostics, /expired/);
  });

  it('a token for another tenant (wrong audience) is refused: no cross-tenant use', async () => {
    await s.node.tenants.add({ tenant: 'gp2', ura: '90000011', settings: { organizationType: 'Z3' } });
    const other = await token(clients[HOSPITAL], { tenant: 'gp2' });
    const res = await get('Condition?patient=p1', other);
    assert.equal(res.status, 401);
  });

  it('an organisation that is not in the directory is refused with 403', async () => {
    const res = await get('Condition?patient=p1', await token(clients[STRANGER]));
    assert.equal(res.status, 403);
    assert.match(res.json.issue![0].diagnostics, /not registered/);
  });

  it('without consent nothing is shared; with consent the hospital gets the patient’s data only', async () => {
    const tok = await token(clients[HOSPITAL]);
    const none = await get('Condition?patient=p1', tok);
    assert.equal(none.status, 403);
    assert.match(none.json.issue![0].diagnostics, /consent registry/);
    assert.equal((await permitHospital()).status, 201);
    const some = await get('Condition?patient=p1', tok);
    assert.equal(some.status, 200);
    assert.deepEqual(some.json.entry!.map((e) => e.resource.id), ['c1']);
    // Even an open-ended search is narrowed to the one patient the request concerns.
    const all = await get(`Condition?subject.identifier=http://fhir.nl/fhir/NamingSystem/bsn|${BSN}`, tok);
    assert.deepEqual(all.json.entry!.map((e) => e.resource.id), ['c1']);
    const noPatient = await get('Condition', tok);
    assert.equal(noPatient.status, 403);
  });

  it('revoking the consent takes effect at once', async () => {
    const tok = await token(clients[HOSPITAL]);
    assert.equal((await get('Condition?patient=p1', tok)).status, 200);
    const search = await fetch(`${s.url}/national/consent/Consent?patient:identifier=http://fhir.nl/fhir/NamingSystem/bsn|${BSN}`, { headers: { authorization: ADMIN, accept: 'application/fhir+json' } });
    const found = (await search.json()) as { entry: { resource: { id: string } & Record<string, unknown> }[] };
    assert.ok(found.entry.length > 0, 'the hospital consent is found');
    for (const e of found.entry) {
      const res = await fetch(`${s.url}/national/consent/Consent/${e.resource.id}`, { method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...e.resource, status: 'inactive' }) });
      assert.equal(res.status, 200);
    }
    assert.equal((await get('Condition?patient=p1', tok)).status, 403);
    assert.equal((await permitHospital()).status, 201);
  });

  it('the authorisation table narrows by role: a pharmacist gets medication, not encounters', async () => {
    await fetch(`${s.url}/national/consent/Consent`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/fhir+json' }, body: JSON.stringify(consent({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC005' } })) });
    const tok = await token(clients[PHARMACY], { role: '17.075' });
    assert.equal((await get('MedicationRequest?patient=p1', tok)).status, 200);
    const enc = await get('Encounter?patient=p1', tok);
    assert.equal(enc.status, 403);
    assert.match(enc.json.issue![0].diagnostics, /authorisation table/);
    const everything = await get('Patient/p1/$everything', tok);
    assert.equal(everything.status, 200);
    const got = types(everything.json);
    assert.ok(got.includes('MedicationRequest') && got.includes('Condition'), got.join());
    assert.ok(!got.includes('Encounter'), 'encounters are narrowed away');
    assert.equal((await get('Encounter/e1', tok)).status, 403);
  });

  it('treatment needs an attested treatment relation, which the audit record keeps', async () => {
    await permitHospital();
    const without = await get('Condition?patient=p1', await token(clients[HOSPITAL], { relation: false }));
    assert.equal(without.status, 403);
    assert.match(without.json.issue![0].diagnostics, /treatment relation/);
    const ok = await get('Condition?patient=p1', await token(clients[HOSPITAL]), { 'x-correlation-id': 'tr-1' });
    assert.equal(ok.status, 200);
    const events = await s.node.audit.forPatient('gp', 'p1', 200);
    const ev = events.find((e) => e.extension?.[0]?.valueString === 'tr-1');
    assert.equal(ev?.extension?.find((x) => x.url.endsWith('treatment-relation-attested'))?.valueBoolean, true);
  });

  it('emergency access needs a reason and is audited apart', async () => {
    const tok = await token(clients[HOSPITAL], { purpose: 'emergency', role: '01.071' });
    assert.equal((await get('Condition?patient=p1', tok)).status, 403);
    const ok = await get('Condition?patient=p1', tok, { 'x-emergency-reason': 'bewusteloos binnengebracht op de SEH', 'x-correlation-id': 'btg-1' });
    assert.equal(ok.status, 200);
    assert.ok(security.some((e) => e.event === 'emergency-access' && e.correlationId === 'btg-1'));
    assert.ok(!JSON.stringify(security).includes(BSN), 'no BSN in the security stream');
    const events = await s.node.audit.forPatient('gp', 'p1', 200);
    const btg = events.find((e) => e.extension?.[0]?.valueString === 'btg-1');
    assert.equal(btg?.purposeOfEvent?.[0]?.coding?.[0]?.code, 'ETREAT');
    assert.equal(btg?.purposeOfEvent?.[0]?.text, 'bewusteloos binnengebracht op de SEH');
    assert.equal(btg?.agent.find((a) => a.requestor)?.who?.identifier?.value, '123456789');
  });

  it('an unreachable consent registry means deny, and says why', async () => {
    const tok = await token(clients[HOSPITAL]);
    unreachableConsent = true;
    try {
      const res = await get('Condition?patient=p1', tok);
      assert.equal(res.status, 403);
      assert.match(res.json.issue![0].diagnostics, /unreachable/);
    } finally {
      unreachableConsent = false;
    }
  });

  it('another organisation may read but not write', async () => {
    const tok = await token(clients[HOSPITAL]);
    const res = await fetch(`${s.url}/fhir/gp/Condition`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Condition', subject: { reference: 'Patient/p1' } }) });
    assert.equal(res.status, 403);
  });

  it('GET Patient/{id} answers the version the enforcement point read, and the read’s own checks still apply', async () => {
    assert.equal((await permitHospital()).status, 201);
    const tok = await token(clients[HOSPITAL]);
    const res = await fetch(`${s.url}/fhir/gp/Patient/p1`, { headers: { accept: 'application/fhir+json', authorization: `Bearer ${tok}` } });
    assert.equal(res.status, 200);
    const patient = (await res.json()) as { id: string; identifier?: { system: string }[] };
    assert.equal(patient.id, 'p1');
    // Still answered within the patient's compartment: no BSN in the answer.
    assert.ok(!JSON.stringify(patient).includes(BSN));
    const etag = res.headers.get('etag');
    assert.ok(etag);
    // The conditional read runs on the handed-over version too.
    assert.equal((await fetch(`${s.url}/fhir/gp/Patient/p1`, { headers: { authorization: `Bearer ${tok}`, 'if-none-match': etag } })).status, 304);
    // Another patient (no consent for that BSN) is refused as before.
    assert.equal((await get('Patient/p2', tok)).status, 403);
  });

  it('a version read ahead in a request is handed to the next read of it once, then the store is read again', async () => {
    const gp = { tenant: 'gp', base: `${s.url}/fhir/gp`, strict: false, readAhead: new Map() };
    const read = async () => {
      const r = await s.node.dispatch(gp, { method: 'GET', path: 'Patient/p2', query: [], headers: {} });
      return r.headers.ETag;
    };
    const first = await read();
    const plain = { tenant: 'gp', base: gp.base, strict: false };
    const put = await s.node.dispatch(plain, { method: 'PUT', path: 'Patient/p2', query: [], headers: {}, body: { resourceType: 'Patient', id: 'p2', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999911132' }], name: [{ family: 'Changed' }] } });
    assert.equal(put.status, 200);
    assert.equal(await read(), first, 'the version read earlier in the request');
    assert.notEqual(await read(), first, 'used once: the next read goes to the store');
  });
});
