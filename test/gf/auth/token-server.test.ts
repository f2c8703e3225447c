import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { KeyStore } from '../../../src/gf/auth/pki.ts';
import { CLIENT_ASSERTION_TYPE, createClientAssertion, keyStoreClientRegistry, tokenRequestBody } from '../../../src/gf/auth/token-server.ts';
import { URA_A, assertionBody, startNode, testPki, type Pki, type TestNode } from './helpers.ts';

let pki: Pki;
let node: TestNode;

async function post(body: string, tenant = 'huisarts', contentType = 'application/x-www-form-urlencoded') {
  const res = await fetch(node.tokenEndpoint(tenant), { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('token server (client credentials, private_key_jwt)', () => {
  before(async () => {
    pki = await testPki();
    node = await startNode(pki);
  });
  after(() => node.close());

  it('issues a short-lived ES256 access token with client_id, URA and the granted scope', async () => {
    const r = await post(await assertionBody(node, pki.a1, { scope: 'system/Patient.read system/Observation.rs' }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.json.token_type, 'Bearer');
    assert.ok((r.json.expires_in as number) <= 300);
    const header = decodeProtectedHeader(r.json.access_token as string);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.kid, node.signingKey.kid);
    const claims = decodeJwt(r.json.access_token as string);
    assert.equal(claims.iss, node.issuer());
    assert.equal(claims.aud, node.audience());
    assert.equal(claims.client_id, 'client-a');
    assert.equal(claims.sub, 'client-a');
    assert.equal(claims.ura, URA_A);
    assert.equal(claims.scope, 'system/Patient.read system/Observation.rs');
    assert.ok(claims.exp! - claims.iat! <= 300);
    assert.equal(claims.cnf, undefined, 'not bound without mTLS');
    assert.equal(claims.uzi_nr, undefined);
  });

  it('copies the professional (UZI number, role code) and purpose of use from the assertion', async () => {
    const r = await post(await assertionBody(node, pki.a1, { person: { uziNr: '900012345', uziRolcode: '01.015' }, purposeOfUse: 'treatment' }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const claims = decodeJwt(r.json.access_token as string);
    assert.equal(claims.uzi_nr, '900012345');
    assert.equal(claims.uzi_rolcode, '01.015');
    assert.equal(claims.purpose_of_use, 'treatment');
  });

  it('refuses inconsistent person claims', async () => {
    const noPurpose = await post(await assertionBody(node, pki.a1, { person: { uziNr: '900012345', uziRolcode: '01.015' } }));
    assert.equal(noPurpose.status, 400);
    assert.equal(noPurpose.json.error, 'invalid_request');
    assert.match(noPurpose.json.error_description as string, /purpose_of_use/);
    const badRole = await post(await assertionBody(node, pki.a1, { person: { uziNr: '900012345', uziRolcode: 'arts' }, purposeOfUse: 'treatment' }));
    assert.equal(badRole.status, 400);
    assert.match(badRole.json.error_description as string, /uzi_rolcode/);
    const badPurpose = await post(await assertionBody(node, pki.a1, { person: { uziNr: '900012345', uziRolcode: '01.015' }, purposeOfUse: 'patient-access' }));
    assert.equal(badPurpose.status, 400);
  });

  it('refuses a replayed assertion (same jti)', async () => {
    const body = await assertionBody(node, pki.a1, { jti: 'replay-test-0001' });
    assert.equal((await post(body)).status, 200);
    const again = await post(body);
    assert.equal(again.status, 401);
    assert.equal(again.json.error, 'invalid_client');
    assert.match(again.json.error_description as string, /replay|used before/);
    // a fresh assertion with a new jti still works
    assert.equal((await post(await assertionBody(node, pki.a1))).status, 200);
  });

  it('refuses an unknown client', async () => {
    const r = await post(await assertionBody(node, pki.a1, { clientId: 'client-x' }));
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_client');
    assert.match(r.json.error_description as string, /not registered/);
    assert.ok(r.headers.get('www-authenticate'));
  });

  it("refuses an assertion signed with a key that is not in the client's JWKS", async () => {
    // B's key, presented as client-a with B's kid: the kid is not in client-a's JWKS
    const r1 = await post(await assertionBody(node, pki.b1, { clientId: 'client-a' }));
    assert.equal(r1.status, 401);
    assert.match(r1.json.error_description as string, /not in the JWKS/);
    // a stranger's key under one of client-a's own kids: signature check fails
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await createClientAssertion({ clientId: 'client-a', tokenEndpoint: node.tokenEndpoint(), privateKey, kid: pki.a1.kid });
    const r2 = await post(tokenRequestBody(forged, 'system/*.read'));
    assert.equal(r2.status, 401);
    assert.equal(r2.json.error, 'invalid_client');
    assert.match(r2.json.error_description as string, /signature/);
  });

  it('refuses expired, too long-lived and wrongly addressed assertions', async () => {
    const expired = await post(await assertionBody(node, pki.a1, { now: Date.now() - 10 * 60_000 }));
    assert.equal(expired.status, 401);
    assert.match(expired.json.error_description as string, /expired/);
    const key = (await import('node:crypto')).createPrivateKey(pki.a1.keyPem);
    const iat = Math.floor(Date.now() / 1000);
    const long = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: pki.a1.kid })
      .setIssuer('client-a')
      .setSubject('client-a')
      .setAudience(node.tokenEndpoint())
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .setJti('long-lived-0001')
      .sign(key);
    const tooLong = await post(tokenRequestBody(long, 'system/*.read'));
    assert.equal(tooLong.status, 401);
    assert.match(tooLong.json.error_description as string, /too long/);
    const otherAud = await post(await assertionBody(node, pki.a1, { aud: node.tokenEndpoint('ziekenhuis') }));
    assert.equal(otherAud.status, 401);
    assert.match(otherAud.json.error_description as string, /aud/);
    const noJti = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: pki.a1.kid }).setIssuer('client-a').setSubject('client-a').setAudience(node.tokenEndpoint()).setIssuedAt(iat).setExpirationTime(iat + 60).sign(key);
    assert.equal((await post(tokenRequestBody(noJti, 'system/*.read'))).status, 401);
  });

  it('answers protocol errors as RFC 6749 JSON', async () => {
    const wrongGrant = await post('grant_type=password&username=x&password=y');
    assert.equal(wrongGrant.status, 400);
    assert.equal(wrongGrant.json.error, 'unsupported_grant_type');
    assert.equal(typeof wrongGrant.json.error_description, 'string');
    const noAssertionType = await post(new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.read' }).toString());
    assert.equal(noAssertionType.status, 401);
    assert.equal(noAssertionType.json.error, 'invalid_client');
    const notJwt = await post(new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'abc' }).toString());
    assert.equal(notJwt.json.error, 'invalid_client');
    const json = await post('{"grant_type":"client_credentials"}', 'huisarts', 'application/json');
    assert.equal(json.status, 400);
    assert.equal(json.json.error, 'invalid_request');
    const dup = await post((await assertionBody(node, pki.a1)) + '&scope=system/*.write');
    assert.equal(dup.json.error, 'invalid_request');
    const noScope = await post(await assertionBody(node, pki.a1, { scope: '' }));
    assert.equal(noScope.json.error, 'invalid_scope');
    const userScope = await post(await assertionBody(node, pki.a1, { scope: 'patient/*.read' }));
    assert.equal(userScope.json.error, 'invalid_scope');
    const unknownTenant = await post(await assertionBody(node, pki.a1), 'nobody');
    assert.equal(unknownTenant.status, 404);
    assert.equal(unknownTenant.json.error, 'invalid_request');
  });

  it("grants only the scopes the client is registered for", async () => {
    const r = await post(await assertionBody(node, pki.b1, { clientId: 'client-b', scope: 'system/Patient.read system/Observation.read system/Condition.read' }));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.scope, 'system/Patient.read system/Observation.read', 'Observation.read = rs is covered by Observation.rs; Condition is not');
    const none = await post(await assertionBody(node, pki.b1, { clientId: 'client-b', scope: 'system/*.write' }));
    assert.equal(none.json.error, 'invalid_scope');
  });

  it('serves discovery documents and the JWKS', async () => {
    const smart = (await (await fetch(`${node.issuer()}/.well-known/smart-configuration`)).json()) as Record<string, unknown>;
    assert.equal(smart.issuer, node.issuer());
    assert.equal(smart.token_endpoint, node.tokenEndpoint());
    assert.equal(smart.jwks_uri, `${node.issuer()}/jwks`);
    assert.deepEqual(smart.grant_types_supported, ['client_credentials']);
    assert.deepEqual(smart.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.ok((smart.token_endpoint_auth_signing_alg_values_supported as string[]).includes('ES384'), 'SMART backend services: RS384 and ES384');
    assert.ok((smart.capabilities as string[]).includes('client-confidential-asymmetric'));
    assert.equal(smart.tls_client_certificate_bound_access_tokens, true);
    for (const path of [`${node.issuer()}/.well-known/oauth-authorization-server`, `${node.url}/.well-known/oauth-authorization-server/auth/huisarts`]) {
      const meta = (await (await fetch(path)).json()) as Record<string, unknown>;
      assert.equal(meta.issuer, node.issuer(), path);
      assert.equal(meta.token_endpoint, node.tokenEndpoint());
      assert.ok(Array.isArray(meta.response_types_supported));
      assert.deepEqual(meta.purpose_of_use_values_supported, ['treatment', 'emergency', 'patient-access', 'secondary-use']);
    }
    const jwksRes = await fetch(`${node.issuer()}/jwks`);
    assert.match(jwksRes.headers.get('content-type') ?? '', /jwk-set\+json/);
    const jwks = (await jwksRes.json()) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kid, node.signingKey.kid);
    assert.equal(jwks.keys[0].alg, 'ES256');
    assert.equal(jwks.keys[0].d, undefined, 'no private part');
    assert.equal((await fetch(`${node.url}/auth/nobody/.well-known/smart-configuration`)).status, 404);
  });
});

describe('token server with keys from the key store: rotation', () => {
  let dir: string;
  let store: KeyStore;
  let clock = Date.now();
  let rotNode: TestNode;
  before(async () => {
    pki = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'schakel-keys-'));
    store = new KeyStore(dir);
    await store.initCa();
    await store.issue({ ura: URA_A, name: 'Huisartsenpraktijk A' }, { validityDays: 30 });
    await store.rotate(URA_A, { validityDays: 365 });
    rotNode = await startNode(pki, {
      server: {
        now: () => clock,
        trustedCaPems: [store.caCertPem()],
        // client_id = URA; the registry answers with the store's JWKS as of the real date: it still lists the old key
        resolveClient: keyStoreClientRegistry(store),
      },
    });
  });
  after(async () => {
    await rotNode.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tryKey = async (kid: string) => {
    const c = store.credential(URA_A, { kid });
    const body = await assertionBody(rotNode, { ...c, x5tS256: c.x5tS256, notBefore: new Date(c.notBefore), notAfter: new Date(c.notAfter) }, { now: clock, clientId: URA_A });
    const res = await fetch(rotNode.tokenEndpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('accepts the old and the new key until the old certificate expires, then only the new one', async () => {
    const [oldKey, newKey] = store.org(URA_A)!.keys;
    assert.equal(store.jwks(URA_A).keys.length, 2);
    assert.equal(store.credential(URA_A).kid, newKey.kid, 'the newest key is current');
    assert.equal((await tryKey(oldKey.kid)).status, 200);
    assert.equal((await tryKey(newKey.kid)).status, 200);
    clock = Date.now() + 31 * 86_400_000;
    const old = await tryKey(oldKey.kid);
    assert.equal(old.status, 401);
    assert.match(old.json.error_description as string, /expired/);
    assert.equal((await tryKey(newKey.kid)).status, 200);
    assert.equal(store.jwks(URA_A, new Date(clock)).keys.length, 1, 'the key store drops the expired key from the JWKS');
  });
});

describe('token server trust', () => {
  it('refuses a client key whose certificate comes from an untrusted CA', async () => {
    const p = await testPki();
    const { createCa, issueCertificate, publicJwk } = await import('../../../src/gf/auth/pki.ts');
    const rogueCa = await createCa({ name: 'Rogue CA' });
    const rogue = await issueCertificate(rogueCa, { ura: URA_A, name: 'Huisartsenpraktijk A', uziSys: '911111111', agb: '0' });
    const n = await startNode(p, { server: { resolveClient: () => ({ clientId: 'client-a', ura: URA_A, jwks: { keys: [publicJwk(rogue.certPem)] } }) } });
    try {
      const res = await fetch(n.tokenEndpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: await assertionBody(n, rogue) });
      const json = (await res.json()) as Record<string, string>;
      assert.equal(res.status, 401);
      assert.match(json.error_description, /not issued by a trusted CA/);
    } finally {
      await n.close();
    }
  });
});
