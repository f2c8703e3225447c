import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import {
  BadSignatureError,
  CertificateMismatchError,
  ExpiredTokenError,
  MalformedTokenError,
  NoTokenError,
  WrongAudienceError,
  WrongIssuerError,
  createTokenVerifier,
  type TokenVerifier,
} from '../../../src/gf/auth/verify.ts';
import { generateSigningKey } from '../../../src/gf/auth/token-server.ts';
import { URA_A, assertionBody, httpsCall, startNode, testPki, type Pki, type TestNode } from './helpers.ts';

let pki: Pki;

describe('token verification (resource server side)', () => {
  let node: TestNode;
  let verify: TokenVerifier;
  let token: string;
  before(async () => {
    pki = await testPki();
    node = await startNode(pki);
    verify = createTokenVerifier({ issuer: node.issuer(), audience: node.audience(), jwks: { keys: [node.signingKey.publicJwk] } });
    const res = await fetch(node.tokenEndpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: await assertionBody(node, pki.a1, { person: { uziNr: '900012345', uziRolcode: '01.015' }, purposeOfUse: 'emergency' }),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  });
  after(() => node.close());

  it('accepts a valid token and returns the verified claims', async () => {
    const c = await verify(`Bearer ${token}`);
    assert.equal(c.clientId, 'client-a');
    assert.equal(c.ura, URA_A);
    assert.equal(c.uziNr, '900012345');
    assert.equal(c.uziRolcode, '01.015');
    assert.equal(c.purposeOfUse, 'emergency');
    assert.equal(c.scopes[0].resourceType, '*');
    assert.ok(c.scopes[0].interactions.has('r'));
    assert.ok(!c.scopes[0].interactions.has('c'));
    assert.equal(c.boundCertificate, undefined);
  });

  it('no token', async () => {
    await assert.rejects(verify(undefined), NoTokenError);
    await assert.rejects(verify(''), (e: NoTokenError) => e.code === 'no_token' && e.wwwAuthenticate() === 'Bearer');
  });

  it('malformed token', async () => {
    await assert.rejects(verify(`Basic ${token}`), MalformedTokenError);
    await assert.rejects(verify('Bearer not-a-jwt'), MalformedTokenError);
    await assert.rejects(verify('Bearer a.b.c'), MalformedTokenError);
  });

  it('a JWT that is not an access token (no at+jwt type) is malformed', async () => {
    const jwt = await new SignJWT({ client_id: 'client-a', ura: URA_A })
      .setProtectedHeader({ alg: 'ES256', kid: node.signingKey.kid })
      .setIssuer(node.issuer())
      .setAudience(node.audience())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(node.signingKey.privateKey);
    await assert.rejects(verify(`Bearer ${jwt}`), (e: MalformedTokenError) => e.code === 'malformed' && /at\+jwt/.test(e.message));
  });

  it('bad signature', async () => {
    const [h, p] = token.split('.');
    const other = generateSigningKey();
    const forged = await new SignJWT(JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>)
      .setProtectedHeader({ ...(JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string }) })
      .sign(other.privateKey);
    await assert.rejects(verify(`Bearer ${forged}`), BadSignatureError);
    // tampered payload, original signature
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    payload.ura = '22222222';
    const tampered = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), token.split('.')[2]].join('.');
    await assert.rejects(verify(`Bearer ${tampered}`), BadSignatureError);
  });

  it('expired token', async () => {
    const later = createTokenVerifier({ issuer: node.issuer(), audience: node.audience(), jwks: { keys: [node.signingKey.publicJwk] }, now: () => Date.now() + 6 * 60_000 });
    await assert.rejects(later(`Bearer ${token}`), (e: ExpiredTokenError) => e instanceof ExpiredTokenError && e.status === 401 && /invalid_token/.test(e.wwwAuthenticate()));
  });

  it('wrong audience (a token for another tenant)', async () => {
    const other = createTokenVerifier({ issuer: node.issuer(), audience: node.audience('ziekenhuis'), jwks: { keys: [node.signingKey.publicJwk] } });
    await assert.rejects(other(`Bearer ${token}`), WrongAudienceError);
  });

  it('wrong issuer', async () => {
    const other = createTokenVerifier({ issuer: node.issuer('ziekenhuis'), audience: node.audience(), jwks: { keys: [node.signingKey.publicJwk] } });
    await assert.rejects(other(`Bearer ${token}`), WrongIssuerError);
  });

  it('requireBinding refuses an unbound token', async () => {
    const strict = createTokenVerifier({ issuer: node.issuer(), audience: node.audience(), jwks: { keys: [node.signingKey.publicJwk] }, requireBinding: true });
    await assert.rejects(strict(`Bearer ${token}`), CertificateMismatchError);
  });
});

describe('certificate-bound tokens over real mTLS (RFC 8705)', () => {
  let node: TestNode;
  before(async () => {
    pki = await testPki();
    node = await startNode(pki, { https: true });
  });
  after(() => node.close());

  const getToken = async (client: { keyPem: string; certPem: string } | undefined, clientId = 'client-a', key = pki.a1) =>
    httpsCall(node.tokenEndpoint(), { method: 'POST', body: await assertionBody(node, key, { clientId }), caPem: pki.ca.certPem, client });

  const whoami = (token: string, client?: { keyPem: string; certPem: string }) =>
    httpsCall(`${node.url}/fhir/huisarts/whoami`, { headers: { authorization: `Bearer ${token}` }, caPem: pki.ca.certPem, client });

  it('binds the token to the client certificate and refuses it over a connection with another certificate', async () => {
    const t = await getToken(pki.a1);
    assert.equal(t.status, 200, JSON.stringify(t.json));
    const token = t.json.access_token as string;
    const cnf = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).cnf as Record<string, string>;
    assert.equal(cnf['x5t#S256'], pki.a1.x5tS256);

    const same = await whoami(token, pki.a1);
    assert.equal(same.status, 200, JSON.stringify(same.json));
    assert.equal(same.json.bound, pki.a1.x5tS256);

    // a2: same organisation, another certificate
    const other = await whoami(token, pki.a2);
    assert.equal(other.status, 401);
    assert.equal(other.json.code, 'cnf_mismatch');
    assert.match(String(other.headers['www-authenticate']), /invalid_token/);

    const none = await whoami(token);
    assert.equal(none.status, 401);
    assert.equal(none.json.code, 'cnf_mismatch');
  });

  it("refuses a TLS client certificate of another organisation than the client's", async () => {
    const t = await getToken(pki.b1);
    assert.equal(t.status, 401);
    assert.equal(t.json.error, 'invalid_client');
    assert.match(t.json.error_description as string, /URA 22222222/);
  });

  it('a token requested without a client certificate is not bound', async () => {
    const t = await getToken(undefined);
    assert.equal(t.status, 200);
    assert.equal((await whoami(t.json.access_token as string)).status, 200);
  });
});

describe('mTLS required', () => {
  it('refuses a token request without a client certificate', async () => {
    pki = await testPki();
    const node = await startNode(pki, { https: true, server: { requireClientCertificate: true } });
    try {
      const r = await httpsCall(node.tokenEndpoint(), { method: 'POST', body: await assertionBody(node, pki.a1), caPem: pki.ca.certPem });
      assert.equal(r.status, 401);
      assert.match(r.json.error_description as string, /mutual TLS/);
      const ok = await httpsCall(node.tokenEndpoint(), { method: 'POST', body: await assertionBody(node, pki.a1), caPem: pki.ca.certPem, client: pki.a1 });
      assert.equal(ok.status, 200);
    } finally {
      await node.close();
    }
  });
});
