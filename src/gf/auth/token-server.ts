/**
 * The authorisation server of a provider node, one issuer per tenant at `/auth/{tenant}`:
 *   POST /auth/{tenant}/token                      OAuth 2.0 client credentials, client authentication
 *                                                  `private_key_jwt` (RFC 7523), SMART Backend Services scopes;
 *                                                  over mTLS the token is bound to the client certificate (RFC 8705)
 *   GET  /auth/{tenant}/jwks                       the node's token-signing keys
 *   GET  /auth/{tenant}/.well-known/smart-configuration
 *   GET  /auth/{tenant}/.well-known/oauth-authorization-server   (also at the RFC 8414 location
 *                                                  /.well-known/oauth-authorization-server/auth/{tenant})
 * Access tokens: ES256 JWTs (RFC 9068 `typ: at+jwt`), ≤ 5 minutes, audience = the tenant's FHIR base.
 * Errors: RFC 6749 §5.2 JSON `{error, error_description}`; `Cache-Control: no-store` on every token response.
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import { PURPOSES, parseSmartScope, readPersonClaims, scopeCovered, type PersonClaims } from './claims.ts';
import { MemoryJtiStore, type JtiStore } from './jti-store.ts';
import { peerCertificateOf } from './mtls.ts';
import { certificateIdentity, certificateIssuedBy, x5tS256, type KeyStore } from './pki.ts';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'PS256', 'PS384'];

/** A client as the registry (later the addressing directory) knows it. */
export interface RegisteredClient {
  clientId: string;
  /** URA of the organisation the client acts for. */
  ura: string;
  name?: string;
  /** Public keys the client signs its assertions with (with `x5c` when they come from the PKI). */
  jwks: JSONWebKeySet;
  /** SMART scopes the client may be granted (e.g. `system/*.read`); undefined = any requested system scope. */
  scopes?: string[];
  /**
   * Accept a key carried in the assertion's `x5c` header: the UZI-server-certificate model, where the organisation is
   * known (from the addressing directory) but its keys are not published — its certificate, issued by a trusted CA
   * for this URA, is the credential. Needs `trustedCaPems`.
   */
  certificateChain?: boolean;
}

export type ResolveClient = (clientId: string) => Promise<RegisteredClient | undefined> | RegisteredClient | undefined;

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** Public JWK with `kid`, `alg`, `use`. */
  publicJwk: JWK;
}

export interface AuthServerOptions {
  /** Route prefix, containing `:tenant`. Default `/auth/:tenant`. */
  prefix?: string;
  /** Public origin of the node (e.g. `https://node.example:8443`): issuer, token endpoint and audience derive from it, never from the Host header. */
  baseUrl: string | (() => string);
  /** Is this a tenant of the node? Unknown tenants get 404. Default: every tenant. */
  hasTenant?: (tenant: string) => boolean | Promise<boolean>;
  /** Audience of the access tokens; default `${baseUrl}/fhir/${tenant}`. */
  audience?: (tenant: string, baseUrl: string) => string;
  resolveClient: ResolveClient;
  /** The node's signing keys; the first signs, all are published. */
  signingKeys: SigningKey[];
  /** Access token lifetime in seconds (max 300, default 300). */
  accessTokenTtl?: number;
  /** Longest accepted client-assertion lifetime in seconds (max 300, default 300). */
  maxAssertionLifetime?: number;
  /** Clock skew tolerated on assertions, seconds (default 30). */
  clockSkew?: number;
  jtiStore?: JtiStore;
  /** Clock (epoch ms); tests move it. */
  now?: () => number;
  /** CAs trusted for the certificates in client JWKS (`x5c`) and for TLS client certificates. */
  trustedCaPems?: string[];
  /** Refuse token requests that do not come over mTLS with a client certificate. */
  requireClientCertificate?: boolean;
  /** Terminology check for `uzi_rolcode` (e.g. against the uzi-rolcode CodeSystem). */
  isKnownRoleCode?: (code: string) => boolean;
  /**
   * Plain (non-SMART) scopes this server grants, e.g. `nvi:write` for a national service's issuer. When set, requested
   * scopes must be among these (and among the client's `scopes`, if it has any); SMART scopes are then refused.
   */
  serviceScopes?: string[];
  /** Called after each issued token (audit, metrics); no token or key material is passed. */
  onIssued?: (e: { tenant: string; clientId: string; ura: string; scope: string; bound: boolean; person: PersonClaims }) => void;
}

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

const invalidClient = (d: string) => new OAuthError(401, 'invalid_client', d);
const invalidRequest = (d: string) => new OAuthError(400, 'invalid_request', d);

/** A fresh ES256 signing key for a node (kept in memory; persist with `signingKeyFromPem`). */
export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return signingKeyFrom(privateKey);
}

/** The node's signing key from a PKCS#8 PEM (e.g. the node organisation's key from `schakel keys`). */
export function signingKeyFromPem(pem: string): SigningKey {
  return signingKeyFrom(createPrivateKey(pem));
}

function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Error('the token-signing key must be an EC P-256 key (ES256)');
  const kid = thumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

function thumbprint(jwk: JWK): string {
  // synchronous RFC 7638 for EC keys (same result as jose's calculateJwkThumbprint)
  return createHashB64(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
}

const createHashB64 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** SMART configuration document of an issuer (also for `/fhir/{tenant}/.well-known/smart-configuration`). */
export function smartConfiguration(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    token_endpoint: `${issuer}/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cruds'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    tls_client_certificate_bound_access_tokens: true,
  };
}

/** RFC 8414 authorisation-server metadata of an issuer. */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cruds'],
    tls_client_certificate_bound_access_tokens: true,
    // custom: the claims a client may put in its assertion when acting for a professional (README.md)
    assertion_claims_supported: ['uzi_nr', 'uzi_rolcode', 'purpose_of_use', 'treatment_relation'],
    purpose_of_use_values_supported: [...PURPOSES],
  };
}

function formOf(body: unknown): URLSearchParams {
  if (typeof body === 'string') return new URLSearchParams(body);
  if (body && typeof body === 'object' && typeof (body as { text?: unknown }).text === 'string') return new URLSearchParams((body as { text: string }).text);
  throw invalidRequest('the token request must be application/x-www-form-urlencoded');
}

/** Mounts the authorisation server on a Fastify app (encapsulated: its own body parsing and error handling). */
export async function registerAuthServer(app: FastifyInstance, opts: AuthServerOptions): Promise<void> {
  const prefix = opts.prefix ?? '/auth/:tenant';
  if (!prefix.includes(':tenant')) throw new Error('prefix must contain :tenant');
  if (opts.signingKeys.length === 0) throw new Error('registerAuthServer needs at least one signing key');
  const ttl = Math.min(opts.accessTokenTtl ?? 300, 300);
  const maxLifetime = Math.min(opts.maxAssertionLifetime ?? 300, 300);
  const skew = opts.clockSkew ?? 30;
  const jti = opts.jtiStore ?? new MemoryJtiStore();
  const now = opts.now ?? Date.now;
  const trusted = opts.trustedCaPems ?? [];
  const baseUrl = () => (typeof opts.baseUrl === 'function' ? opts.baseUrl() : opts.baseUrl).replace(/\/$/, '');
  const issuerOf = (tenant: string) => baseUrl() + prefix.replace(':tenant', encodeURIComponent(tenant));
  const audienceOf = (tenant: string) => (opts.audience ? opts.audience(tenant, baseUrl()) : `${baseUrl()}/fhir/${encodeURIComponent(tenant)}`);
  const signer = opts.signingKeys[0];
  const jwks = { keys: opts.signingKeys.map((k) => k.publicJwk) };
  const keyCache = new Map<string, ReturnType<typeof importJWK>>();
  const headerKeys = new Map<string, JWK>();

  // Parsing and chain-checking a certificate costs far more than the rest of a token request: remember the facts
  // per certificate (by thumbprint); the validity window is still checked against the clock on every request.
  const certCache = new Map<string, { notBefore: number; notAfter: number; trusted: boolean; ura?: string }>();
  const checkCertificate = (der: Buffer, at: number, tlsVerified = false): { ok: true; ura?: string } | { ok: false; reason: string } => {
    const key = x5tS256(der);
    let facts = certCache.get(key);
    if (!facts) {
      const id = certificateIdentity(der);
      facts = { notBefore: id.notBefore.getTime(), notAfter: id.notAfter.getTime(), trusted: trusted.length === 0 || certificateIssuedBy(der, trusted), ura: id.ura };
      if (certCache.size >= 10_000) certCache.clear();
      certCache.set(key, facts);
    }
    if (at < facts.notBefore) return { ok: false, reason: 'certificate not yet valid' };
    if (at > facts.notAfter) return { ok: false, reason: 'certificate expired' };
    if (!facts.trusted && !tlsVerified) return { ok: false, reason: 'certificate not issued by a trusted CA' };
    return { ok: true, ura: facts.ura };
  };

  const checkTenant = async (req: FastifyRequest): Promise<string> => {
    const { tenant } = req.params as { tenant: string };
    if (opts.hasTenant && !(await opts.hasTenant(tenant))) throw new OAuthError(404, 'invalid_request', `Tenant '${tenant}' is not known on this node`);
    return tenant;
  };

  const importKey = (jwk: JWK, alg: string) => {
    const k = JSON.stringify(jwk) + alg;
    let p = keyCache.get(k);
    if (!p) {
      p = importJWK(jwk, alg);
      if (keyCache.size > 1000) keyCache.clear();
      keyCache.set(k, p);
    }
    return p;
  };

  const token = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = await checkTenant(req);
    const form = formOf(req.body);
    for (const name of new Set(form.keys())) if (form.getAll(name).length > 1) throw invalidRequest(`parameter '${name}' appears more than once`);
    const grantType = form.get('grant_type');
    if (!grantType) throw invalidRequest('grant_type is missing');
    if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', `grant_type '${grantType}' is not supported; use client_credentials`);
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) throw invalidClient(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    const assertion = form.get('client_assertion');
    if (!assertion) throw invalidClient('client_assertion is missing');

    let unverified: JWTPayload;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      unverified = decodeJwt(assertion);
      header = decodeProtectedHeader(assertion);
    } catch {
      throw invalidClient('client_assertion is not a signed JWT');
    }
    const clientId = unverified.iss;
    if (typeof clientId !== 'string' || clientId === '' || unverified.sub !== clientId) throw invalidClient('client_assertion must have iss = sub = client_id');
    const idParam = form.get('client_id');
    if (idParam !== null && idParam !== clientId) throw invalidClient('client_id does not match the assertion');
    if (!header.alg || !ASSERTION_ALGORITHMS.includes(header.alg)) throw invalidClient(`assertion algorithm must be one of ${ASSERTION_ALGORITHMS.join(', ')}`);

    const client = await opts.resolveClient(clientId);
    if (!client) throw invalidClient(`client '${clientId}' is not registered`);

    const at = now();
    const candidates = (client.jwks.keys ?? []).filter((k) => (header.kid ? k.kid === header.kid : true) && (!k.alg || k.alg === header.alg) && k.use !== 'enc');
    let fromHeader: JWK | undefined;
    if (client.certificateChain && Array.isArray(header.x5c) && typeof header.x5c[0] === 'string') {
      // Without trusted CAs every certificate would pass checkCertificate: refuse rather than trust anyone.
      if (trusted.length === 0) throw invalidClient('this server trusts no CA, so it cannot accept a certificate in the assertion');
      try {
        fromHeader = headerKeys.get(`${header.alg}\u0000${header.x5c[0]}`);
        if (!fromHeader) {
          fromHeader = certificateJwk(header.x5c[0], header.alg);
          // Parsing a certificate costs ~0.2 ms: keep the key per certificate (its validity is still checked per request).
          if (headerKeys.size >= 10_000) headerKeys.clear();
          headerKeys.set(`${header.alg}\u0000${header.x5c[0]}`, fromHeader);
        }
        candidates.unshift(fromHeader);
      } catch {
        throw invalidClient('client_assertion x5c[0] is not an X.509 certificate');
      }
    }
    if (candidates.length === 0) throw invalidClient(header.kid ? `key '${header.kid}' is not in the JWKS of client '${clientId}'` : `client '${clientId}' has no key for ${header.alg}`);

    const issuer = issuerOf(tenant);
    const tokenEndpoint = `${issuer}/token`;
    let payload: JWTPayload | undefined;
    let lastError: unknown;
    for (const jwk of candidates) {
      if (jwk.x5c?.[0]) {
        const cert = checkCertificate(Buffer.from(jwk.x5c[0], 'base64'), at);
        if (!cert.ok) {
          lastError = invalidClient(`client key '${jwk.kid ?? '?'}': ${cert.reason}`);
          continue;
        }
        // A certificate that is the credential itself must name the client's URA; a registered key's may omit it.
        if ((cert.ura !== undefined || jwk === fromHeader) && cert.ura !== client.ura) {
          lastError = invalidClient(`client key '${jwk.kid ?? '?'}' is certified for URA ${cert.ura}, not ${client.ura}`);
          continue;
        }
      }
      try {
        const r = await jwtVerify(assertion, await importKey(jwk, header.alg), {
          algorithms: [header.alg],
          issuer: clientId,
          subject: clientId,
          audience: [tokenEndpoint, issuer],
          currentDate: new Date(at),
          clockTolerance: skew,
          requiredClaims: ['exp', 'jti'],
        });
        payload = r.payload;
        break;
      } catch (e) {
        lastError = e;
        if (!(e instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    if (!payload) throw assertionError(lastError, tokenEndpoint);

    const nowSec = Math.floor(at / 1000);
    const exp = payload.exp as number;
    if (exp - nowSec > maxLifetime + skew) throw invalidClient(`client_assertion lives too long: exp may be at most ${maxLifetime} s ahead`);
    if (payload.iat !== undefined && (payload.iat > nowSec + skew || exp - payload.iat > maxLifetime)) throw invalidClient('client_assertion iat is in the future or exp - iat exceeds the maximum lifetime');
    if (typeof payload.jti !== 'string' || payload.jti.length < 8) throw invalidClient('client_assertion jti must be a string of at least 8 characters');
    if (payload.ura !== undefined && payload.ura !== client.ura) throw invalidClient(`client '${clientId}' acts for URA ${client.ura}, not ${String(payload.ura)}`);
    const person = readPersonClaims(payload, opts.isKnownRoleCode);
    if (!person.ok) throw invalidRequest(person.problem);

    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const granted = grantScopes(requested, client, opts.serviceScopes);

    const peer = peerCertificateOf(req.raw);
    if (!peer && opts.requireClientCertificate) throw invalidClient('this token endpoint requires mutual TLS with the client certificate');
    let cnf: { 'x5t#S256': string } | undefined;
    if (peer) {
      // trusted when the TLS layer verified it against the server's CAs, or when it chains to trustedCaPems
      const cert = checkCertificate(peer.der, at, peer.authorized);
      if (!cert.ok) throw invalidClient(`TLS client certificate not accepted: ${cert.reason}`);
      if (!peer.authorized && trusted.length === 0) throw invalidClient(`TLS client certificate not accepted: ${peer.authorizationError ?? 'not verified'}`);
      if (cert.ura !== client.ura) throw invalidClient(`TLS client certificate is for URA ${cert.ura ?? '(none)'}, client '${clientId}' acts for URA ${client.ura}`);
      cnf = { 'x5t#S256': peer.x5tS256 };
    }

    // Replay check last: only a verified assertion may use up its jti.
    if (!(await jti.useOnce(`${clientId}\u0000${payload.jti}`, (exp + skew) * 1000, at))) throw invalidClient('client_assertion jti has been used before (replay)');

    const claims: JWTPayload = { client_id: clientId, scope: granted.join(' '), ura: client.ura };
    if (person.claims.uziNr) claims.uzi_nr = person.claims.uziNr;
    if (person.claims.uziRolcode) claims.uzi_rolcode = person.claims.uziRolcode;
    if (person.claims.purposeOfUse) claims.purpose_of_use = person.claims.purposeOfUse;
    if (person.claims.treatmentRelation) claims.treatment_relation = true;
    if (cnf) claims.cnf = cnf;
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setAudience(audienceOf(tenant))
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + ttl)
      .setJti(randomUUID())
      .sign(signer.privateKey);
    opts.onIssued?.({ tenant, clientId, ura: client.ura, scope: claims.scope as string, bound: cnf !== undefined, person: person.claims });
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, scope: claims.scope };
  };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    scope.addContentTypeParser('*', (req, _payload, done) => done(invalidRequest(`Content-Type '${req.headers['content-type']}' is not supported; use application/x-www-form-urlencoded`)));
    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const oe =
        err instanceof OAuthError
          ? err
          : err.statusCode && err.statusCode < 500
            ? new OAuthError(err.statusCode, 'invalid_request', err.message)
            : (req.log.error({ err }, 'token endpoint error'), new OAuthError(500, 'server_error', 'internal error'));
      if (oe.status === 401) void reply.header('www-authenticate', 'Basic realm="token", error="invalid_client"');
      void reply.code(oe.status).header('cache-control', 'no-store').header('pragma', 'no-cache').send({ error: oe.error, error_description: oe.description });
    });

    scope.post(`${prefix}/token`, token);
    scope.get(`${prefix}/jwks`, async (req, reply) => {
      await checkTenant(req);
      void reply.header('content-type', 'application/jwk-set+json').header('cache-control', 'public, max-age=300');
      return jwks;
    });
    scope.get(`${prefix}/.well-known/smart-configuration`, async (req) => smartConfiguration(issuerOf(await checkTenant(req))));
    const asMeta = async (req: FastifyRequest) => authorizationServerMetadata(issuerOf(await checkTenant(req)));
    scope.get(`${prefix}/.well-known/oauth-authorization-server`, asMeta);
    scope.get(`/.well-known/oauth-authorization-server${prefix}`, asMeta);
  });
}

/** The scopes granted: SMART system scopes (a provider node's FHIR API), or a national service's plain scopes. */
function grantScopes(requested: string[], client: RegisteredClient, serviceScopes: string[] | undefined): string[] {
  if (requested.length === 0) throw new OAuthError(400, 'invalid_scope', `scope is missing (e.g. ${serviceScopes ? serviceScopes[0] : 'system/*.read'})`);
  let granted: string[];
  if (serviceScopes) {
    const bad = requested.find((s) => !serviceScopes.includes(s));
    if (bad) throw new OAuthError(400, 'invalid_scope', `scope '${bad}' is not one of ${serviceScopes.join(', ')}`);
    granted = client.scopes ? requested.filter((s) => client.scopes!.includes(s)) : requested;
  } else {
    const parsed = requested.map((s) => ({ s, p: parseSmartScope(s) }));
    const bad = parsed.find((x) => !x.p || x.p.context !== 'system');
    if (bad) throw new OAuthError(400, 'invalid_scope', `scope '${bad.s}' is not a SMART system scope`);
    const allowed = client.scopes?.map(parseSmartScope).filter((x) => x !== undefined);
    granted = allowed ? parsed.filter((x) => scopeCovered(x.p!, allowed)).map((x) => x.s) : requested;
  }
  if (granted.length === 0) throw new OAuthError(400, 'invalid_scope', `client '${client.clientId}' may not be granted ${requested.join(' ')}`);
  return granted;
}

/** A verification key from a base64 DER certificate (the assertion's `x5c[0]`), keeping the certificate for the chain check. */
function certificateJwk(x5c0: string, alg: string): JWK {
  const pem = `-----BEGIN CERTIFICATE-----\n${x5c0.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const jwk = new X509Certificate(pem).publicKey.export({ format: 'jwk' }) as JWK;
  return { ...jwk, alg, x5c: [x5c0] };
}

function assertionError(e: unknown, tokenEndpoint: string): OAuthError {
  if (e instanceof OAuthError) return e;
  if (e instanceof joseErrors.JWTExpired) return invalidClient('client_assertion has expired');
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return invalidClient("client_assertion signature does not verify with any of the client's registered keys");
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return invalidClient(`client_assertion aud must be the token endpoint ${tokenEndpoint}`);
    if (e.claim === 'nbf' || e.claim === 'iat') return invalidClient(`client_assertion ${e.claim} is in the future`);
    return invalidClient(`client_assertion claim '${e.claim}' is invalid: ${e.reason}`);
  }
  if (e instanceof joseErrors.JOSEError) return invalidClient(`client_assertion rejected: ${e.message}`);
  return invalidClient('client_assertion rejected');
}

// ---------------------------------------------------------------------------------------------------------------
// Client side: what a node uses to ask another node for a token.

export interface ClientAssertionInput {
  clientId: string;
  tokenEndpoint: string;
  /** PKCS#8 PEM or KeyObject of the organisation key; `kid` from its JWKS. */
  privateKey: KeyObject | string;
  kid: string;
  /** Seconds; default 120, at most 300. */
  lifetime?: number;
  /** Professional on whose behalf the request is made. */
  person?: { uziNr: string; uziRolcode: string };
  purposeOfUse?: (typeof PURPOSES)[number];
  /** The professional attests a treatment relation with the patient (needed for purpose treatment). */
  treatmentRelation?: boolean;
  /** The organisation's certificate (base64 DER) in the header, for servers that know the client by its certificate. */
  x5c?: string[];
  /** Epoch ms (tests). */
  now?: number;
  jti?: string;
}

/** Builds the RFC 7523 client assertion (ES256). */
export async function createClientAssertion(a: ClientAssertionInput): Promise<string> {
  const key = typeof a.privateKey === 'string' ? createPrivateKey(a.privateKey) : a.privateKey;
  const iat = Math.floor((a.now ?? Date.now()) / 1000);
  const claims: JWTPayload = {};
  if (a.person) {
    claims.uzi_nr = a.person.uziNr;
    claims.uzi_rolcode = a.person.uziRolcode;
  }
  if (a.purposeOfUse) claims.purpose_of_use = a.purposeOfUse;
  if (a.treatmentRelation) claims.treatment_relation = true;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: a.kid, typ: 'JWT', ...(a.x5c ? { x5c: a.x5c } : {}) })
    .setIssuer(a.clientId)
    .setSubject(a.clientId)
    .setAudience(a.tokenEndpoint)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.min(a.lifetime ?? 120, 300))
    .setJti(a.jti ?? randomUUID())
    .sign(key);
}

/** The form body of a client-credentials token request. */
export function tokenRequestBody(assertion: string, scope: string): string {
  return new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }).toString();
}

/**
 * Clients from the local key store (demo, single machine): client_id = the organisation's URA, keys = its JWKS of
 * currently valid certificates. The addressing directory replaces this between machines.
 */
export function keyStoreClientRegistry(store: KeyStore, opts: { scopes?: string[] } = {}): ResolveClient {
  return (clientId) => {
    if (!/^\d{8}$/.test(clientId)) return undefined;
    const org = store.org(clientId);
    if (!org) return undefined;
    return { clientId, ura: org.ura, name: org.name, jwks: store.jwks(org.ura), scopes: opts.scopes };
  };
}

/** A static client registry (tests, demo; the addressing directory replaces it). */
export function staticClientRegistry(clients: RegisteredClient[]): ResolveClient {
  const byId = new Map(clients.map((c) => [c.clientId, c]));
  return (id) => byId.get(id);
}
