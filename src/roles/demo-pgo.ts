/**
 * A minimal demo PGO (personal health environment) as relying party of the citizen test IdP, so a user of
 * `schakel demo` can log in as a citizen of the region in a browser:
 *
 *   GET /demo-pgo/login      starts a login: state, nonce and a PKCE verifier kept here, redirect to the IdP
 *   GET /demo-pgo/callback   the redirect URI: exchanges the code (with the verifier) at the IdP's token endpoint,
 *                            verifies the ID token against the IdP's JWKS and shows who logged in; for a login this
 *                            PGO did not start (e.g. by hand), it shows the code to exchange
 *
 * It is a public client with PKCE (no secret), as a PGO app would be. The page never shows the BSN the ID token
 * carries: it is for the PGO backend, not for display.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { CITIZEN_IDP_PATH } from './citizen-login.ts';

export const DEMO_PGO_CLIENT_ID = 'demo-pgo';
export const DEMO_PGO_LOGIN = '/demo-pgo/login';
export const DEMO_PGO_CALLBACK = '/demo-pgo/callback';
export const DEMO_PGO_SCOPE = 'openid profile bsn mandates';

export const demoPgoClient = (base: string): ClientMetadata => ({
  client_id: DEMO_PGO_CLIENT_ID,
  client_name: 'Demo-PGO (Schakel)',
  redirect_uris: [`${base}${DEMO_PGO_CALLBACK}`],
});

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) =>
  `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>\n${body}\n<p><a href="${DEMO_PGO_LOGIN}">Opnieuw inloggen</a></p></body></html>`;

interface Pending {
  verifier: string;
  nonce: string;
  at: number;
}
const PENDING_TTL_MS = 10 * 60_000;
const PENDING_MAX = 1000;

export function registerDemoPgo(app: FastifyInstance, o: { url: () => string }): void {
  const issuer = () => `${o.url()}${CITIZEN_IDP_PATH}`;
  const redirectUri = () => `${o.url()}${DEMO_PGO_CALLBACK}`;
  const pending = new Map<string, Pending>();
  let meta: Promise<{ authorization_endpoint: string; token_endpoint: string; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;
  const discovery = () =>
    (meta ??= (async () => {
      const res = await fetch(`${issuer()}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const m = (await res.json()) as { authorization_endpoint: string; token_endpoint: string; jwks_uri: string };
      return { ...m, jwks: createRemoteJWKSet(new URL(m.jwks_uri)) };
    })().catch((e: unknown) => {
      meta = undefined;
      throw e;
    }));

  app.get(DEMO_PGO_LOGIN, async (_req, reply) => {
    const now = Date.now();
    for (const [k, p] of pending) if (now - p.at > PENDING_TTL_MS || pending.size > PENDING_MAX) pending.delete(k);
    const m = await discovery();
    const state = randomBytes(16).toString('base64url');
    const p = { verifier: randomBytes(32).toString('base64url'), nonce: randomBytes(16).toString('base64url'), at: now };
    pending.set(state, p);
    const auth = new URL(m.authorization_endpoint);
    auth.search = new URLSearchParams({
      client_id: DEMO_PGO_CLIENT_ID,
      response_type: 'code',
      scope: DEMO_PGO_SCOPE,
      redirect_uri: redirectUri(),
      state,
      nonce: p.nonce,
      code_challenge: createHash('sha256').update(p.verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return reply.redirect(auth.href, 302);
  });

  app.get(DEMO_PGO_CALLBACK, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', "default-src 'none'");
    if (q.error) return page('Demo-PGO: inloggen mislukt', `<p>${esc(q.error)}${q.error_description ? `: ${esc(q.error_description)}` : ''}</p>`);
    const p = q.state ? pending.get(q.state) : undefined;
    if (q.state) pending.delete(q.state);
    if (!q.code) return reply.code(400).send(page('Demo-PGO', '<p>Geen autorisatiecode ontvangen.</p>'));
    if (!p) {
      // Not started here: the caller holds the PKCE verifier and exchanges the code itself.
      const m = await discovery();
      return page(
        'Demo-PGO: autorisatiecode ontvangen',
        `<p>Code: <code>${esc(q.code)}</code> (state <code>${esc(q.state ?? '')}</code>), 60 seconden geldig. Wissel hem in met uw code_verifier:</p>\n` +
          `<pre>curl -s ${esc(m.token_endpoint)} -d grant_type=authorization_code -d client_id=${DEMO_PGO_CLIENT_ID} -d code=${esc(q.code)} -d redirect_uri=${esc(redirectUri())} -d code_verifier=...</pre>`,
      );
    }
    const m = await discovery();
    const res = await fetch(m.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: DEMO_PGO_CLIENT_ID, code: q.code, redirect_uri: redirectUri(), code_verifier: p.verifier }).toString(),
    });
    const tok = (await res.json()) as { id_token?: string; error?: string; error_description?: string };
    if (!res.ok || !tok.id_token) return reply.code(502).send(page('Demo-PGO: inloggen mislukt', `<p>Token endpoint: ${esc(tok.error ?? String(res.status))} ${esc(tok.error_description ?? '')}</p>`));
    let claims: JWTPayload;
    try {
      claims = (await jwtVerify(tok.id_token, m.jwks, { issuer: issuer(), audience: DEMO_PGO_CLIENT_ID })).payload;
      if (claims.nonce !== p.nonce) throw new Error('nonce does not match');
    } catch (e) {
      return reply.code(502).send(page('Demo-PGO: ID token geweigerd', `<p>${esc((e as Error).message)}</p>`));
    }
    const mandates = Array.isArray(claims.mandates) ? (claims.mandates as { name?: string; basis?: string; kind?: string }[]) : [];
    return page(
      'Demo-PGO: ingelogd',
      `<dl><dt>Naam</dt><dd>${esc(String(claims.name ?? ''))}</dd><dt>Geboortedatum</dt><dd>${esc(String(claims.birthdate ?? ''))}</dd>` +
        `<dt>Betrouwbaarheidsniveau (acr)</dt><dd>${esc(String(claims.acr ?? ''))}</dd><dt>Pseudoniem bij deze PGO (sub)</dt><dd><code>${esc(String(claims.sub ?? ''))}</code></dd>` +
        `<dt>Mag optreden voor</dt><dd>${mandates.length ? mandates.map((x) => esc(`${x.name ?? '?'} (${x.kind ?? x.basis ?? ''})`)).join('<br>') : 'niemand anders'}</dd></dl>\n` +
        `<p>Het ID token draagt ook het BSN, voor de backend van de PGO; deze pagina toont het niet.</p>`,
    );
  });
}
