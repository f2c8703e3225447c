/**
 * Test identity provider for citizens, standing in for DigiD: OpenID Connect (oidc-provider), authorisation code
 * flow with PKCE (S256, required for every client), a minimal login page where a tester picks a citizen from the
 * configured list and an assurance level (eIDAS LoA → `acr`).
 *
 * Privacy rules:
 *   - `sub` is pairwise per client (sector): HMAC-SHA256 over an opaque account id — never the BSN;
 *   - the BSN travels only in the ID token (claim `bsn`, scope `bsn`), for the PGO backend that needs it; never in a
 *     URL, never in userinfo; the login form posts it in the request body;
 *   - `mandates` (scope `mandates`, in the ID token and userinfo): whom the citizen may act for (src/gf/auth/mandates.ts),
 *     each with its own pairwise `sub` (and the BSN in the ID token only);
 *   - access tokens for a resource server (RFC 8707 resource indicator, `resourceServers`), e.g. the consent registry:
 *     an RFC 9068 JWT signed by the IdP and then encrypted to that resource server's public key (nested JWT, ECDH-ES).
 *     It carries the citizen's BSN (claim `bsn`) because the registry keys consents by BSN; encrypting the whole token
 *     means the client that carries it (the PGO) cannot read it, and the BSN is never in a URL.
 *
 * Mount it with `registerCitizenIdp(app, idp)` (Fastify) or serve `idp.handler` from any node http server; the issuer
 * URL's path is the mount path, e.g. `http://127.0.0.1:8080/national/idp`.
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import Provider, { errors, type Adapter, type AdapterPayload, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { ageOn, checkRegistry, mandatesOf, type Citizen, type MandateRegistry } from './mandates.ts';

export const LOA_SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
export const LOA_HIGH = 'http://eidas.europa.eu/LoA/high';
const LOAS = [LOA_SUBSTANTIAL, LOA_HIGH];
/** Citizens listed on the login page; the others are chosen by typing their BSN. */
const LOGIN_LIST_LIMIT = 50;

export interface CitizenIdpOptions {
  /** Issuer URL; its path is where the IdP is mounted (e.g. `http://127.0.0.1:8080/national/idp`). */
  issuer: string;
  registry: MandateRegistry;
  /** Relying parties (PGO backends), oidc-provider client metadata; defaults: pairwise subjects, ES256 ID tokens. */
  clients: ClientMetadata[];
  /** Secret for pairwise subjects and account ids (32+ bytes); random per start when absent. */
  pairwiseSecret?: Buffer;
  /** Clock for mandate rules (ages, validity). */
  now?: () => Date;
  /** Trust X-Forwarded-* headers (only behind a reverse proxy that sets them). Default false. */
  trustProxy?: boolean;
  /** Resource servers the IdP issues (encrypted JWT) access tokens for; none by default. */
  resourceServers?: CitizenResourceServer[];
}

/** A resource server that takes the citizen's access token (RFC 8707 resource indicator, RFC 9068 JWT). */
export interface CitizenResourceServer {
  /** The resource indicator, also the token's audience, e.g. `http://127.0.0.1:8080/national/consent`. */
  resource: string;
  /** The one scope a client may ask for at this resource (e.g. `consent:register`). */
  scope: string;
  /** The resource server's public key (EC P-256, ECDH-ES): the token is encrypted to it. */
  encryptionKey: JsonWebKeyPublic;
  /** Access token lifetime in seconds; default 300 (short: it carries the BSN and cannot be revoked at the server). */
  ttl?: number;
}

/** A public JWK as node:crypto takes it. */
export type JsonWebKeyPublic = { kty: string; crv?: string; x?: string; y?: string; kid?: string; [k: string]: unknown };

export interface CitizenIdp {
  provider: Provider;
  mountPath: string;
  /** Node http handler for everything under the mount path. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The public signing keys (also at `${issuer}/jwks`): a resource server in the same process verifies with these. */
  jwks: { keys: JsonWebKeyPublic[] };
}

/**
 * In-memory storage for the provider's sessions, interactions, codes, tokens and grants — per IdP instance, entries
 * expire with their TTL. A test IdP keeps nothing across restarts by design (logins simply start again).
 */
function memoryAdapterFactory(): (name: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const byGrant = new Map<string, Set<string>>();
  const uids = new Map<string, string>();
  let sweepAt = 0;
  const live = (key: string) => {
    const e = entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return e.payload;
  };
  const sweep = () => {
    const now = Date.now();
    if (now < sweepAt) return;
    sweepAt = now + 60_000;
    for (const [k, e] of entries) if (e.expiresAt <= now) entries.delete(k);
    for (const [u, k] of uids) if (!entries.has(k)) uids.delete(u);
    for (const [g, keys] of byGrant) {
      for (const k of keys) if (!entries.has(k)) keys.delete(k);
      if (keys.size === 0) byGrant.delete(g);
    }
  };
  return (name) => {
    const key = (id: string) => `${name}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        sweep();
        const k = key(id);
        entries.set(k, { payload, expiresAt: Date.now() + (expiresIn ?? 3600) * 1000 });
        if (payload.grantId) {
          const set = byGrant.get(payload.grantId) ?? new Set<string>();
          set.add(k);
          byGrant.set(payload.grantId, set);
        }
        if (payload.uid) uids.set(payload.uid, k);
      },
      find: async (id) => live(key(id)),
      findByUid: async (uid) => {
        const k = uids.get(uid);
        return k ? live(k) : undefined;
      },
      findByUserCode: async () => undefined,
      consume: async (id) => {
        const p = live(key(id));
        if (p) p.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const k of byGrant.get(grantId) ?? []) entries.delete(k);
        byGrant.delete(grantId);
      },
    };
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function readBody(req: IncomingMessage, limit = 16 * 1024): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export function createCitizenIdp(opts: CitizenIdpOptions): CitizenIdp {
  const problems = checkRegistry(opts.registry);
  if (problems.length > 0) throw new Error(`citizen registry: ${problems.join('; ')}`);
  const secret = opts.pairwiseSecret ?? randomBytes(32);
  const now = opts.now ?? (() => new Date());
  const mountPath = new URL(opts.issuer).pathname.replace(/\/$/, '');
  const accountIdOf = (bsn: string) => createHmac('sha256', secret).update(`account|${bsn}`).digest('base64url');
  const byAccount = new Map<string, Citizen>(opts.registry.citizens.map((c) => [accountIdOf(c.bsn), c]));
  const byBsn = new Map<string, Citizen>(opts.registry.citizens.map((c) => [c.bsn, c]));
  const pairwise = (accountId: string, sector: string) => createHmac('sha256', secret).update(`sub|${sector}|${accountId}`).digest('base64url');

  /** The pairwise sector: the client's sector identifier (redirect host), else its client_id. */
  const sectorOf = (client: { sectorIdentifier?: unknown; clientId: string }) => (typeof client.sectorIdentifier === 'string' ? client.sectorIdentifier : client.clientId);

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: `idp-${randomBytes(6).toString('hex')}`, alg: 'ES256', use: 'sig' };
  const { d: _d, ...publicSigningJwk } = signingJwk as JsonWebKeyPublic;
  const resourceServers = new Map((opts.resourceServers ?? []).map((r) => [r.resource, r]));
  const DEFAULT_RESOURCE_TTL = 300;

  const configuration: Configuration = {
    adapter: memoryAdapterFactory(),
    clients: opts.clients,
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256', subject_type: 'pairwise', token_endpoint_auth_method: 'none' },
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    acrValues: LOAS,
    subjectTypes: ['pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => pairwise(accountId, sectorOf(client)),
    scopes: ['openid', 'profile', 'bsn', 'mandates'],
    responseTypes: ['code'],
    claims: { acr: null, auth_time: null, sid: null, openid: ['sub', 'acr'], profile: ['name', 'given_name', 'family_name', 'birthdate'], bsn: ['bsn'], mandates: ['mandates'] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      claimsParameter: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // The client names the resource at the token endpoint too, or gets the one it was granted.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          const rs = resourceServers.get(indicator);
          if (!rs) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: rs.scope,
            audience: rs.resource,
            accessTokenTTL: rs.ttl ?? DEFAULT_RESOURCE_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' }, encrypt: { alg: 'ECDH-ES', enc: 'A256GCM', key: createPublicKey({ key: rs.encryptionKey, format: 'jwk' }) } },
          };
        },
      },
    },
    // The citizen's BSN, for a resource server only (the token is encrypted to it, see resourceServers).
    extraTokenClaims: async (_ctx, token) => {
      const rs = 'resourceServer' in token && token.resourceServer ? resourceServers.get(String(token.resourceServer.audience)) : undefined;
      const citizen = rs && 'accountId' in token && token.accountId ? byAccount.get(token.accountId) : undefined;
      return citizen ? { bsn: citizen.bsn } : undefined;
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    findAccount: (ctx: KoaContextWithOIDC, id: string) => {
      const citizen = byAccount.get(id);
      if (!citizen) return undefined;
      const client = ctx.oidc.client;
      const sector = client ? sectorOf(client) : '';
      return {
        accountId: id,
        claims: (use: string, scope: string) => {
          const scopes = new Set(scope.split(' '));
          const out: Record<string, unknown> = { sub: id };
          if (scopes.has('profile')) Object.assign(out, { name: `${citizen.given} ${citizen.family}`, given_name: citizen.given, family_name: citizen.family, birthdate: citizen.birthDate });
          if (scopes.has('bsn') && use === 'id_token') out.bsn = citizen.bsn;
          if (scopes.has('mandates')) {
            out.mandates = mandatesOf(opts.registry, citizen.bsn, now()).map((m) => ({
              sub: pairwise(accountIdOf(m.represented.bsn), sector),
              name: `${m.represented.given} ${m.represented.family}`,
              birthdate: m.represented.birthDate,
              basis: m.basis,
              ...(m.kind ? { kind: m.kind } : {}),
              ...(m.validUntil ? { valid_until: m.validUntil } : {}),
              ...(use === 'id_token' ? { bsn: m.represented.bsn } : {}),
            }));
          }
          return out as { sub: string };
        },
      };
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Fout</title><h1>Inloggen mislukt</h1><pre>${esc(JSON.stringify(out, null, 2))}</pre>`;
    },
  };
  const provider = new Provider(opts.issuer, configuration);
  provider.proxy = opts.trustProxy ?? false;
  const callback = provider.callback();

  const loginPage = (uid: string, clientName: string, minLoa: string, error?: string) => {
    const levels = LOAS.slice(LOAS.indexOf(minLoa));
    // A region has up to ~90k citizens: list the first few, and take any other by its BSN (typed, posted in the body).
    const people = opts.registry.citizens
      .slice(0, LOGIN_LIST_LIMIT)
      .map((c, i) => `<label><input type="radio" name="bsn" value="${esc(c.bsn)}"${i === 0 ? ' checked' : ''}> ${esc(c.given)} ${esc(c.family)} (${esc(c.bsn)}, ${ageOn(c.birthDate, now())} jaar)</label><br>`)
      .join('\n');
    const loa = levels.map((l) => `<option value="${esc(l)}">${esc(l.split('/').pop()!)}</option>`).join('');
    return `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Test-DigiD</title></head><body>
<h1>Test-DigiD — inloggen bij ${esc(clientName)}</h1>
<p><strong>Testomgeving:</strong> kies een testburger. Dit is geen echte DigiD.</p>
${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${esc(`${mountPath}/interaction/${uid}/login`)}">
<fieldset><legend>Testburger</legend>
${people}
${opts.registry.citizens.length > LOGIN_LIST_LIMIT ? `<label>Of een andere testburger (BSN, ${opts.registry.citizens.length} in totaal) <input name="bsn_other" inputmode="numeric" autocomplete="off"></label>` : ''}
</fieldset>
<label>Betrouwbaarheidsniveau <select name="acr">${loa}</select></label>
<button type="submit">Inloggen</button>
</form>
<form method="post" action="${esc(`${mountPath}/interaction/${uid}/abort`)}"><button type="submit">Annuleren</button></form>
</body></html>`;
  };

  const html = (res: ServerResponse, status: number, body: string) => {
    res.statusCode = status;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    // no form-action: browsers apply it to the redirect chain after the post, which ends at the client's redirect_uri
    res.setHeader('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    res.end(body);
  };

  /**
   * The grant a DigiD-style login implies: the requested (supported) scopes, and a known resource's scope when the
   * client asked for that resource and scope; no separate consent screen.
   */
  const grantFor = async (accountId: string, clientId: string, scope: string, grantId?: string, resource?: string | string[]) => {
    const grant = grantId ? ((await provider.Grant.find(grantId)) ?? new provider.Grant({ accountId, clientId })) : new provider.Grant({ accountId, clientId });
    const asked = scope.split(' ');
    grant.addOIDCScope(asked.filter((s) => ['openid', 'profile', 'bsn', 'mandates'].includes(s)));
    for (const r of [resource ?? []].flat()) {
      const rs = resourceServers.get(r);
      if (rs && asked.includes(rs.scope)) grant.addResourceScope(r, rs.scope);
    }
    return grant.save();
  };

  const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) => {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return html(res, 400, '<p>Verlopen of onbekende inlogsessie.</p>');
    const params = details.params as Record<string, string | undefined>;
    const requested = (params.acr_values ?? '').split(' ').filter((a) => LOAS.includes(a));
    const minLoa = requested.length > 0 ? LOAS[Math.min(...requested.map((a) => LOAS.indexOf(a)))] : LOA_SUBSTANTIAL;
    const client = await provider.Client.find(params.client_id ?? '');
    const clientName = client?.clientName ?? params.client_id ?? '';
    if (req.method === 'GET' && action === undefined) {
      if (details.prompt.name === 'consent' && details.session?.accountId) {
        const grantId = await grantFor(details.session.accountId, params.client_id ?? '', params.scope ?? 'openid', details.grantId, details.params.resource as string | string[] | undefined);
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      return html(res, 200, loginPage(uid, clientName, minLoa));
    }
    if (req.method === 'POST' && action === 'abort') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'De gebruiker heeft het inloggen afgebroken' }, { mergeWithLastSubmission: false });
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readBody(req);
      const bsn = form.get('bsn_other')?.trim() || (form.get('bsn') ?? '');
      const acr = form.get('acr') ?? '';
      if (!byBsn.has(bsn)) return html(res, 400, loginPage(uid, clientName, minLoa, 'Onbekende testburger: dit BSN staat niet in de testregistratie. Kies een testburger uit de lijst.'));
      if (!LOAS.includes(acr) || LOAS.indexOf(acr) < LOAS.indexOf(minLoa)) return html(res, 400, loginPage(uid, clientName, minLoa, `Kies betrouwbaarheidsniveau ${minLoa.split('/').pop()} of hoger.`));
      const accountId = accountIdOf(bsn);
      const grantId = await grantFor(accountId, params.client_id ?? '', params.scope ?? 'openid', details.grantId, details.params.resource as string | string[] | undefined);
      return provider.interactionFinished(req, res, { login: { accountId, acr, amr: ['test-digid'] }, consent: { grantId } }, { mergeWithLastSubmission: false });
    }
    res.statusCode = 405;
    res.end();
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const full = req.url ?? '/';
    if (!full.startsWith(mountPath + '/') && full !== mountPath) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const rest = full.slice(mountPath.length) || '/';
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?\/?(?:\?.*)?$/.exec(rest);
    if (m) {
      interaction(req, res, m[1], m[2]).catch((err: Error & { name?: string }) => {
        if (res.headersSent) return res.destroy();
        html(res, err.name === 'SessionNotFound' ? 400 : 500, `<p>${err.name === 'SessionNotFound' ? 'Verlopen of onbekende inlogsessie.' : 'Interne fout.'}</p>`);
      });
      return;
    }
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = full;
    req.url = rest;
    void callback(req, res);
  };

  return { provider, mountPath, handler, jwks: { keys: [publicSigningJwk] } };
}

/** Mounts the IdP in a Fastify app under its mount path (the raw request goes to oidc-provider untouched). */
export async function registerCitizenIdp(app: FastifyInstance, idp: CitizenIdp): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // leave the body unread: oidc-provider and the login form read the raw stream themselves
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const pass = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      reply.hijack();
      idp.handler(req.raw, reply.raw);
    };
    scope.all(idp.mountPath, pass);
    scope.all(`${idp.mountPath}/*`, pass);
  });
}
