/**
 * Access-token verification for resource servers (called by the enforcement point, src/gf/authorisation/).
 *
 *   const verify = createTokenVerifier({ issuer, audience, jwks });
 *   const claims = await verify(req.headers.authorization, peerCertificateOf(req.raw));
 *
 * Every failure is a `TokenError` subclass with a `code`, HTTP status 401 and a RFC 6750 `WWW-Authenticate` value.
 * A token bound to a certificate (`cnf.x5t#S256`, RFC 8705) is only accepted over a connection presenting that
 * certificate.
 *
 * A verified token is kept (by its exact text) until its `exp`, at most five minutes: the ES256 signature check
 * is most of a request's authentication cost, and a client sends the same token for its whole life. The
 * certificate binding is checked on every request, cached or not; an expired token is never served from the cache.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ExpiringCache } from './expiring-cache.ts';
import { PURPOSES, parseSmartScope, type PurposeOfUse, type SmartScope } from './claims.ts';
import type { PeerCertificate } from './mtls.ts';
import { x5tS256 } from './pki.ts';

export type TokenErrorCode = 'no_token' | 'malformed' | 'bad_signature' | 'expired' | 'wrong_audience' | 'wrong_issuer' | 'cnf_mismatch';

export class TokenError extends Error {
  readonly status = 401;
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** RFC 6750 §3 header value. A missing token gets no error code (the client did not try). */
  wwwAuthenticate(): string {
    if (this.code === 'no_token') return 'Bearer';
    return `Bearer error="invalid_token", error_description="${this.message.replace(/["\\]/g, "'")}"`;
  }
}

export class NoTokenError extends TokenError {
  constructor(message = 'no bearer token') {
    super('no_token', message);
  }
}
export class MalformedTokenError extends TokenError {
  constructor(message: string) {
    super('malformed', message);
  }
}
export class BadSignatureError extends TokenError {
  constructor(message = 'token signature does not verify with the issuer keys') {
    super('bad_signature', message);
  }
}
export class ExpiredTokenError extends TokenError {
  constructor(message = 'token has expired') {
    super('expired', message);
  }
}
export class WrongAudienceError extends TokenError {
  constructor(message = 'token is not meant for this resource server') {
    super('wrong_audience', message);
  }
}
export class WrongIssuerError extends TokenError {
  constructor(message = 'token is not from the expected issuer') {
    super('wrong_issuer', message);
  }
}
export class CertificateMismatchError extends TokenError {
  constructor(message: string) {
    super('cnf_mismatch', message);
  }
}

export interface VerifiedClaims {
  issuer: string;
  clientId: string;
  /** URA of the requesting organisation. */
  ura: string;
  scope: string;
  scopes: SmartScope[];
  uziNr?: string;
  uziRolcode?: string;
  purposeOfUse?: PurposeOfUse;
  /** The professional attested a treatment relation with the patient. */
  treatmentRelation?: boolean;
  /** `cnf.x5t#S256` when the token is certificate-bound (and the connection presented that certificate). */
  boundCertificate?: string;
  expiresAt: Date;
  jti: string;
  payload: JWTPayload;
}

export interface TokenVerifierOptions {
  issuer: string | string[];
  audience: string | string[];
  /** The issuer's keys: a JWKS, its URL (fetched and cached by jose), or a key resolver. */
  jwks: JSONWebKeySet | URL | JWTVerifyGetKey;
  /** Seconds of clock skew tolerated (default 10). */
  clockTolerance?: number;
  /** Refuse tokens that are not certificate-bound. */
  requireBinding?: boolean;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
  /** How many verified tokens are kept until they expire (default 10,000; 0 = verify every time). */
  cacheEntries?: number;
}

/** Longest a verified token is kept, whatever its `exp` says (a key removed from a remote JWKS takes effect by then). */
const MAX_CACHE_MS = 300_000;

export type TokenVerifier = (authorization: string | undefined, peerCertificate?: PeerCertificate | Uint8Array | string) => Promise<VerifiedClaims>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const keys: JWTVerifyGetKey = typeof opts.jwks === 'function' ? opts.jwks : opts.jwks instanceof URL ? createRemoteJWKSet(opts.jwks) : createLocalJWKSet(opts.jwks);
  const tolerance = opts.clockTolerance ?? 10;
  const now = opts.now ?? Date.now;
  const verified = new ExpiringCache<string, VerifiedClaims>(opts.cacheEntries ?? 10_000, now);

  /** Signature, header and claims: everything about the token itself (the same answer on every request). */
  const verifyToken = async (jwt: string): Promise<VerifiedClaims> => {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jwt);
    } catch {
      throw new MalformedTokenError('token header is not valid');
    }
    if (header.alg !== 'ES256') throw new MalformedTokenError(`token algorithm '${String(header.alg)}' is not accepted`);
    if (header.typ !== 'at+jwt') throw new MalformedTokenError("token type must be 'at+jwt' (an access token)");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, keys, {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        issuer: opts.issuer,
        audience: opts.audience,
        clockTolerance: tolerance,
        currentDate: opts.now ? new Date(opts.now()) : undefined,
        requiredClaims: ['exp', 'iat', 'client_id', 'ura'],
      }));
    } catch (e) {
      throw mapJoseError(e);
    }
    const clientId = str(payload.client_id)!;
    const ura = str(payload.ura);
    if (!ura || !/^\d{8}$/.test(ura)) throw new MalformedTokenError('token ura claim is not a URA');
    const scope = str(payload.scope) ?? '';
    const purpose = str(payload.purpose_of_use);
    if (purpose !== undefined && !(PURPOSES as readonly string[]).includes(purpose)) throw new MalformedTokenError('token purpose_of_use is not known');
    const bound = boundTo(payload);
    return {
      issuer: payload.iss!,
      clientId,
      ura,
      scope,
      scopes: scope
        .split(' ')
        .map(parseSmartScope)
        .filter((s) => s !== undefined),
      uziNr: str(payload.uzi_nr),
      uziRolcode: str(payload.uzi_rolcode),
      purposeOfUse: purpose as PurposeOfUse | undefined,
      treatmentRelation: payload.treatment_relation === true ? true : undefined,
      boundCertificate: typeof bound === 'string' ? bound : undefined,
      expiresAt: new Date(payload.exp! * 1000),
      jti: str(payload.jti) ?? '',
      payload,
    };
  };

  /** The connection's part: runs on every request, also for a token served from the cache. */
  const checkBinding = (claims: VerifiedClaims, peerCertificate: PeerCertificate | Uint8Array | string | undefined): void => {
    const bound = boundTo(claims.payload);
    if (bound !== undefined) {
      const presented = thumbprintOf(peerCertificate);
      if (!presented) throw new CertificateMismatchError('token is bound to a client certificate, but the connection presented none');
      if (presented !== bound) throw new CertificateMismatchError('token is bound to another client certificate than the one this connection presented');
    } else if (opts.requireBinding) {
      throw new CertificateMismatchError('token is not bound to a client certificate');
    }
  };

  return async (authorization, peerCertificate) => {
    if (authorization === undefined || authorization.trim() === '') throw new NoTokenError();
    const m = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i.exec(authorization);
    if (!m) throw new MalformedTokenError('Authorization must be "Bearer <JWT>"');
    const jwt = m[1];
    const cached = verified.get(jwt);
    const claims = cached ?? (await verifyToken(jwt));
    checkBinding(claims, peerCertificate);
    // Kept only once accepted, and never past exp (the clock tolerance is for the first look only).
    if (!cached) verified.set(jwt, claims, Math.min(claims.expiresAt.getTime(), now() + MAX_CACHE_MS));
    return { ...claims };
  };
}

const boundTo = (payload: JWTPayload): unknown => (payload.cnf as { 'x5t#S256'?: unknown } | undefined)?.['x5t#S256'];

function thumbprintOf(c: PeerCertificate | Uint8Array | string | undefined): string | undefined {
  if (c === undefined) return undefined;
  if (typeof c === 'string' || c instanceof Uint8Array) return x5tS256(c);
  return c.x5tS256;
}

function mapJoseError(e: unknown): TokenError {
  if (e instanceof joseErrors.JWTExpired) return new ExpiredTokenError();
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new WrongAudienceError();
    if (e.claim === 'iss') return new WrongIssuerError();
    if (e.claim === 'nbf' || e.claim === 'iat') return new MalformedTokenError(`token ${e.claim} is in the future`);
    return new MalformedTokenError(`token claim '${e.claim}' is invalid: ${e.reason}`);
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed || e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys) return new BadSignatureError();
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return new MalformedTokenError('token is not a valid JWT');
  if (e instanceof joseErrors.JOSEError) return new MalformedTokenError(`token rejected: ${e.message}`);
  throw e;
}
