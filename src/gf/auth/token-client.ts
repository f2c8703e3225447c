/**
 * Client side of node-to-node and node-to-national-service authentication: an organisation asks an authorisation
 * server for an access token with OAuth 2.0 client credentials and `private_key_jwt` (RFC 7523), signing with its
 * current key from the test PKI (`schakel keys`) and carrying its UZI-style certificate in `x5c`, so a server
 * that knows the organisation but not its keys can still check who it is.
 *
 * Tokens are cached per (organisation, token endpoint, scope, person, purpose) until shortly before they expire:
 * a token for one professional is never handed to a request made for another.
 */
import { createClientAssertion, tokenRequestBody } from './token-server.ts';
import type { PurposeOfUse } from './claims.ts';
import { pemToDer, type KeyStore } from './pki.ts';

export interface TokenRequest {
  ura: string;
  tokenEndpoint: string;
  scope: string;
  person?: { uziNr: string; uziRolcode: string };
  purposeOfUse?: PurposeOfUse;
  treatmentRelation?: boolean;
}

export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

/** Refresh this long before expiry, so a token is not refused in flight. */
const MARGIN_MS = 30_000;

export class OrganisationTokens {
  readonly #cache = new Map<string, { token: string; until: number }>();
  readonly #pending = new Map<string, Promise<string>>();

  constructor(
    private readonly keys: KeyStore,
    private readonly o: { fetch?: typeof fetch; now?: () => number } = {},
  ) {}

  /** `Bearer <token>` for the request. */
  async authorization(r: TokenRequest): Promise<string> {
    return `Bearer ${await this.token(r)}`;
  }

  async token(r: TokenRequest): Promise<string> {
    const key = [r.ura, r.tokenEndpoint, r.scope, r.person?.uziNr ?? '', r.person?.uziRolcode ?? '', r.purposeOfUse ?? '', r.treatmentRelation ? 'tr' : ''].join('\u0000');
    const now = (this.o.now ?? Date.now)();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.token;
    // One request per key at a time: a burst of callers shares the token being fetched.
    let p = this.#pending.get(key);
    if (!p) {
      p = this.#fetch(r, key).finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    return p;
  }

  async #fetch(r: TokenRequest, key: string): Promise<string> {
    const cred = this.keys.credential(r.ura);
    const assertion = await createClientAssertion({
      clientId: r.ura,
      tokenEndpoint: r.tokenEndpoint,
      privateKey: cred.keyPem,
      kid: cred.kid,
      x5c: [pemToDer(cred.certPem).toString('base64')],
      person: r.person,
      purposeOfUse: r.purposeOfUse,
      treatmentRelation: r.treatmentRelation,
    });
    const res = await (this.o.fetch ?? fetch)(r.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: tokenRequestBody(assertion, r.scope),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!res.ok || !body.access_token) {
      throw new TokenRequestError(res.status, body.error ?? 'server_error', `token request to ${r.tokenEndpoint} for ${r.ura} failed: ${body.error_description ?? body.error ?? res.status}`);
    }
    const now = (this.o.now ?? Date.now)();
    this.#cache.set(key, { token: body.access_token, until: now + Math.max(0, (body.expires_in ?? 60) * 1000 - MARGIN_MS) });
    if (this.#cache.size > 10_000) this.#cache.clear();
    return body.access_token;
  }
}
