/**
 * The consent registry's side of the citizen's access token (src/gf/auth/citizen-idp.ts, `resourceServers`).
 *
 * A PGO logs its user in at the citizen IdP and asks, with the resource indicator `${base}/national/consent` and the
 * scope `consent:register`, for an access token for the registry. The IdP issues an RFC 9068 JWT (`typ: at+jwt`),
 * signed with its key and encrypted to the registry's key (ECDH-ES + A256GCM, `cty: at+jwt`). The token carries the
 * citizen's BSN (`bsn`) because the registry keys consents by BSN.
 *
 * Why an encrypted token rather than a lookup of the IdP's subject: the `sub` in the token is pairwise per PGO, so the
 * registry would need the IdP's pairwise secret (or an extra call per request) to map it back to a person; an
 * encrypted token keeps the registry independent of the IdP's internals, works the same once the IdP runs elsewhere,
 * and still keeps the BSN out of every URL and out of the PGO's reach (it holds an opaque JWE).
 *
 * The registry's decryption key is made per start: the tokens live five minutes and the IdP's own signing key is per
 * start too, so a restart only means the PGO asks for a new token (its user logs in again).
 */
import { compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { isValidBsn } from '../gf/auth/mandates.ts';
import type { CitizenResourceServer, JsonWebKeyPublic } from '../gf/auth/citizen-idp.ts';

export const CITIZEN_CONSENT_SCOPE = 'consent:register';

/** What a valid citizen token says: the PGO (client id) that carries it, the citizen (pairwise sub, BSN). */
export interface CitizenTokenClaims {
  clientId: string;
  sub: string;
  bsn: string;
  expiresAt: Date;
}

export interface CitizenTokenKey {
  /** For the IdP: the resource server entry naming the registry and its public key. */
  resourceServer(resource: string): CitizenResourceServer;
  /** Verifies `Authorization: Bearer <JWE>`; undefined when it is not a valid citizen token for `audience`. */
  verify(authorization: string | undefined, o: { issuer: string; audience: string; jwks: () => Promise<{ keys: JsonWebKeyPublic[] }> }): Promise<CitizenTokenClaims | undefined>;
}

export async function citizenTokenKey(): Promise<CitizenTokenKey> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256' });
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ECDH-ES', use: 'enc' } as JsonWebKeyPublic;
  return {
    resourceServer: (resource) => ({ resource, scope: CITIZEN_CONSENT_SCOPE, encryptionKey: publicJwk }),
    async verify(authorization, o) {
      const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
      // A JWE has five parts; an organisation token (JWS) three: not ours.
      if (!m || m[1].split('.').length !== 5) return undefined;
      try {
        const outer = decodeProtectedHeader(m[1]);
        if (outer.alg !== 'ECDH-ES' || outer.cty !== 'at+jwt') return undefined;
        const { plaintext } = await compactDecrypt(m[1], privateKey, { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A256GCM'] });
        const jwks = createLocalJWKSet((await o.jwks()) as JSONWebKeySet);
        const { payload } = await jwtVerify(new TextDecoder().decode(plaintext), jwks, { issuer: o.issuer, audience: o.audience, typ: 'at+jwt', algorithms: ['ES256'] });
        const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
        const bsn = payload.bsn;
        if (!scopes.includes(CITIZEN_CONSENT_SCOPE) || typeof bsn !== 'string' || !isValidBsn(bsn)) return undefined;
        if (typeof payload.client_id !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
        return { clientId: payload.client_id, sub: payload.sub, bsn, expiresAt: new Date(payload.exp * 1000) };
      } catch {
        return undefined; // the service answers 401
      }
    },
  };
}
