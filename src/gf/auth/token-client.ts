/**
 * Client side of node-to-node and node-to-national-service authentication: an organisation asks an authorisation
 * server for an access token with OAuth 2.0 client credentials and `private_key_jwt` (RFC 7523), signing with its
 * current key from the test PKI (`schakel keys`) and carrying its UZI-style certificate in `x5c`, so a server
 * that knows the organisation but not its keys can still check who it is.
 *
 * Tokens are cached per (organisation, token endpoint, scope, person, purpose) until shortly before they expire:
 * a token for one professional is never handed to a request made for another.
 *
 * Over mutual TLS (`tls`), every call of an organisation — the token request and the calls that use the token —
 * presents that organisation's certificate: `fetchFor(ura)`. A token obtained over mTLS is bound to the certificate
 * (`cnf.x5t#S256`), so the calls using it must come from the same one.
 */
import { createClientAssertion, tokenRequestBody } from './token-server.ts';
import type { PurposeOfUse } from './claims.ts';
import { pemToDer, type KeyStore } from './pki.ts';
import { Agent, fetch as undiciFetch } from 'undici';

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
  readonly #fetchers = new Map<string, typeof fetch>();

  constructor(
    private readonly keys: KeyStore,
    private readonly o: { fetch?: typeof fetch; now?: () => number; tls?: { caPems: string[] } } = {},
  ) {}

  /**
   * The fetch an organisation's calls go through: with `tls`, https with the organisation's current certificate as
   * client certificate and the given CAs as the only trusted roots; otherwise the plain fetch.
   */
  fetchFor(ura: string): typeof fetch {
    const tls = this.o.tls;
    if (!tls) return this.o.fetch ?? fetch;
    const cred = this.keys.credential(ura);
    const key = `${ura}\u0000${cred.kid}`;
    let f = this.#fetchers.get(key);
    if (!f) {
      const dispatcher = new Agent({ connect: { cert: cred.certPem, key: cred.keyPem, ca: tls.caPems } });
      // undici's fetch is the implementation behind the global one; the types differ only in their declarations.
      f = ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
      this.#fetchers.set(key, f);
    }
    return f;
  }

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
    const res = await this.fetchFor(r.ura)(r.tokenEndpoint, {
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
