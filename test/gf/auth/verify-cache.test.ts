/**
 * The verified-token cache of `createTokenVerifier`: a token's signature is checked once, its certificate binding
 * on every request; nothing is served from the cache past the token's `exp`, and a refused token is never kept.
 * Real ES256 tokens and a real key set; the key resolver is wrapped only to count signature verifications.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SignJWT, createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { generateSigningKey } from '../../../src/gf/auth/token-server.ts';
import { BadSignatureError, CertificateMismatchError, ExpiredTokenError, createTokenVerifier } from '../../../src/gf/auth/verify.ts';
import { URA_A, testPki, type Pki } from './helpers.ts';

const ISSUER = 'https://node.test/auth/gp';
const AUDIENCE = 'https://node.test/fhir/gp';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('verified-token cache', () => {
  const signing = generateSigningKey();
  let pki: Pki;
  before(async () => {
    pki = await testPki();
  });

  /** A verifier on a settable clock, counting how often a signature is actually verified. */
  function counted(o: { cacheEntries?: number } = {}) {
    const clock = { t: T0, verifications: 0 };
    const local = createLocalJWKSet({ keys: [signing.publicJwk] });
    const keys: JWTVerifyGetKey = (header, token) => {
      clock.verifications++;
      return local(header, token);
    };
    const verify = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: keys, now: () => clock.t, ...o });
    return { clock, verify };
  }

  const mint = (o: { cnf?: string; lifetimeS?: number; jti?: string; key?: typeof signing } = {}) => {
    const iat = Math.floor(T0 / 1000);
    return new SignJWT({ client_id: 'client-a', ura: URA_A, scope: 'system/*.read', jti: o.jti ?? 'j1', ...(o.cnf ? { cnf: { 'x5t#S256': o.cnf } } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + (o.lifetimeS ?? 300))
      .sign((o.key ?? signing).privateKey);
  };

  it('checks a signature once per token and serves the same claims after', async () => {
    const { clock, verify } = counted();
    const token = await mint();
    const first = await verify(`Bearer ${token}`);
    const second = await verify(`Bearer ${token}`);
    assert.equal(clock.verifications, 1);
    assert.deepEqual(second, first);
    assert.equal(second.ura, URA_A);
  });

  it('serves nothing past exp: re-verified inside the clock tolerance, refused after it', async () => {
    const { clock, verify } = counted();
    const token = await mint({ lifetimeS: 60 });
    await verify(`Bearer ${token}`);
    clock.t = T0 + 59_000;
    await verify(`Bearer ${token}`);
    assert.equal(clock.verifications, 1, 'still valid: from the cache');
    clock.t = T0 + 65_000; // past exp, inside the 10 s tolerance: verified again, not from the cache
    await verify(`Bearer ${token}`);
    assert.equal(clock.verifications, 2);
    clock.t = T0 + 75_000;
    await assert.rejects(verify(`Bearer ${token}`), ExpiredTokenError);
  });

  it('checks the certificate binding on every request, also for a cached token', async () => {
    const { clock, verify } = counted();
    const token = await mint({ cnf: pki.a1.x5tS256 });
    assert.equal((await verify(`Bearer ${token}`, pki.a1.certPem)).boundCertificate, pki.a1.x5tS256);
    await assert.rejects(verify(`Bearer ${token}`, pki.a2.certPem), CertificateMismatchError);
    await assert.rejects(verify(`Bearer ${token}`), CertificateMismatchError);
    assert.equal((await verify(`Bearer ${token}`, pki.a1.certPem)).boundCertificate, pki.a1.x5tS256);
    assert.equal(clock.verifications, 1, 'the signature was checked once; the binding four times');
  });

  it('a token with another cnf is not served from the cache', async () => {
    const { clock, verify } = counted();
    // Same claims, same jti and times; only the certificate they are bound to differs.
    const forA1 = await mint({ cnf: pki.a1.x5tS256 });
    const forA2 = await mint({ cnf: pki.a2.x5tS256 });
    await verify(`Bearer ${forA1}`, pki.a1.certPem);
    await assert.rejects(verify(`Bearer ${forA2}`, pki.a1.certPem), CertificateMismatchError);
    assert.equal((await verify(`Bearer ${forA2}`, pki.a2.certPem)).boundCertificate, pki.a2.x5tS256);
    assert.equal(clock.verifications, 3, 'every new token text is verified');
  });

  it('keeps no refused token', async () => {
    const { clock, verify } = counted();
    const forged = await mint({ key: generateSigningKey() });
    await assert.rejects(verify(`Bearer ${forged}`), BadSignatureError);
    await assert.rejects(verify(`Bearer ${forged}`), BadSignatureError);
    assert.equal(clock.verifications, 2);
    // Accepted signature, refused binding (no certificate presented): not kept either.
    const bound = await mint({ cnf: pki.a1.x5tS256 });
    await assert.rejects(verify(`Bearer ${bound}`), CertificateMismatchError);
    await verify(`Bearer ${bound}`, pki.a1.certPem);
    assert.equal(clock.verifications, 4);
  });

  it('cacheEntries: 0 verifies every time', async () => {
    const { clock, verify } = counted({ cacheEntries: 0 });
    const token = await mint();
    await verify(`Bearer ${token}`);
    await verify(`Bearer ${token}`);
    assert.equal(clock.verifications, 2);
  });
});
