/**
 * A minimal demo PGO (personal health environment) as relying party of the citizen test IdP, so a user of
 * `schakel demo` can log in as a citizen of the region in a browser:
 *
 *   GET /demo-pgo/login      starts a login: state, nonce and a PKCE verifier kept here, redirect to the IdP
 *   GET /demo-pgo/callback   the redirect URI: exchanges the code (with the verifier) at the IdP's token endpoint,
 *                            verifies the ID token against the IdP's JWKS and shows who logged in, with the
 *                            citizen's consents; for a login this PGO did not start (e.g. by hand), it shows the code
 *   GET  /demo-pgo/consents          the logged-in citizen's consents at the national registry, with the forms below
 *   POST /demo-pgo/consents          give consent: any GP (RPZAC001) may share with hospitals (RPZAC104)
 *   POST /demo-pgo/consents/withdraw withdraw one (its id in the body)
 *
 * It is a public client with PKCE (no secret), as a PGO app would be. The page never shows the BSN the ID token
 * carries: it is for the PGO backend, not for display. The login asks, besides the ID token, for an access token for
 * the consent registry (resource indicator `${base}/national/consent`, scope `consent:register`); that token is
 * encrypted to the registry, so the PGO carries it without reading it. The session (cookie, HttpOnly, SameSite=Lax,
 * path /demo-pgo) is kept server-side with that token, the BSN (to write the Consent's patient) and a CSRF token
 * that every form posts back. Nothing about the citizen goes in a URL.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Bundle, Consent } from 'fhir/r4';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SYSTEMS } from '../gf/consent/catalogue.ts';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { CITIZEN_IDP_PATH } from './citizen-login.ts';

export const DEMO_PGO_CLIENT_ID = 'demo-pgo';
export const DEMO_PGO_LOGIN = '/demo-pgo/login';
export const DEMO_PGO_CALLBACK = '/demo-pgo/callback';
export const DEMO_PGO_SCOPE = 'openid profile bsn mandates consent:register';
export const DEMO_PGO_CONSENTS = '/demo-pgo/consents';
const SESSION_COOKIE = 'demo_pgo_session';
const SESSION_TTL_MS = 30 * 60_000;
const SESSION_MAX = 1000;
/** The consent the demo offers: any GP practice may make data available to any hospital. */
export const DEMO_PGO_CONSENT = { holder: 'RPZAC001', consulter: 'RPZAC104' } as const;

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

interface Session {
  name: string;
  /** From the ID token; only for the Consent's patient, never shown or put in a URL. */
  bsn: string;
  /** The encrypted access token for the consent registry, and when it ends. */
  accessToken: string;
  tokenUntil: number;
  csrf: string;
  at: number;
  notice?: string;
}
const PENDING_TTL_MS = 10 * 60_000;
const PENDING_MAX = 1000;

const sameToken = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The form body as the node's parser leaves it ({ kind: 'form', text }) or as a plain string. */
function formOf(body: unknown): URLSearchParams {
  if (typeof body === 'string') return new URLSearchParams(body);
  const text = (body as { text?: unknown } | undefined)?.text;
  return new URLSearchParams(typeof text === 'string' ? text : '');
}

function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The Consent the PGO registers for its user (shape as in the registry's tests and the walkthrough). */
export function demoConsent(bsn: string): Consent {
  const actor = (category: string, role: string) => ({
    role: { coding: [{ system: SYSTEMS.participationType, code: role }] },
    reference: { identifier: { system: SYSTEMS.providerCategory, value: category } },
  });
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: SYSTEMS.consentScope, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: SYSTEMS.loinc, code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEMS.bsn, value: bsn } },
    provision: { type: 'permit', actor: [actor(DEMO_PGO_CONSENT.holder, 'CST'), actor(DEMO_PGO_CONSENT.consulter, 'IRCP')] },
  };
}

const CATEGORY_NAMES: Record<string, string> = { RPZAC001: 'huisartsen', RPZAC104: 'ziekenhuizen' };

/** "wie → wie" for a Consent's actors, from the registry's answer (categories by name, organisations by URA). */
function actorsOf(c: Consent): string {
  const one = (role: string) =>
    (c.provision?.actor ?? [])
      .filter((a) => a.role.coding?.some((x) => x.code === role))
      .map((a) => {
        const id = a.reference.identifier;
        if (id?.system === SYSTEMS.providerCategory) return `alle ${CATEGORY_NAMES[id.value ?? ''] ?? id.value ?? '?'}`;
        return id?.value ? `URA ${id.value}` : '?';
      })
      .join(', ') || 'iedereen';
  return `${one('CST')} → ${one('IRCP')}`;
}

export function registerDemoPgo(app: FastifyInstance, o: { url: () => string }): void {
  const issuer = () => `${o.url()}${CITIZEN_IDP_PATH}`;
  const redirectUri = () => `${o.url()}${DEMO_PGO_CALLBACK}`;
  const consentResource = () => `${o.url()}/national/consent`;
  const pending = new Map<string, Pending>();
  const sessions = new Map<string, Session>();
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

  const html = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', "default-src 'none'; form-action 'self'");
  const sessionOf = (req: FastifyRequest): Session | undefined => {
    const id = cookieOf(req, SESSION_COOKIE);
    const s = id ? sessions.get(id) : undefined;
    if (s && Date.now() - s.at > SESSION_TTL_MS) {
      sessions.delete(id!);
      return undefined;
    }
    return s;
  };
  const registry = (s: Session, path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${consentResource()}${path}`, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/fhir+json', authorization: `Bearer ${s.accessToken}`, ...(init.body ? { 'content-type': 'application/fhir+json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
  const diagnostics = async (res: Response) => {
    const body = (await res.json().catch(() => undefined)) as { issue?: { diagnostics?: string }[] } | undefined;
    return `${res.status}${body?.issue?.[0]?.diagnostics ? `: ${body.issue[0].diagnostics}` : ''}`;
  };

  /** The consent part of the page: the citizen's consents with a withdraw button each, and the form to give one. */
  const consentSection = async (s: Session): Promise<string> => {
    const notice = s.notice ? `<p role="status">${esc(s.notice)}</p>\n` : '';
    s.notice = undefined;
    if (Date.now() >= s.tokenUntil) return `${notice}<p>Uw toegang tot het toestemmingenregister is verlopen; log opnieuw in.</p>`;
    const res = await registry(s, '/Consent?_count=100');
    if (!res.ok) return `${notice}<p>Het toestemmingenregister antwoordde ${esc(await diagnostics(res))}.</p>`;
    const bundle = (await res.json()) as Bundle<Consent>;
    const consents = (bundle.entry ?? []).map((e) => e.resource).filter((c): c is Consent => c?.resourceType === 'Consent');
    const csrf = `<input type="hidden" name="csrf" value="${esc(s.csrf)}">`;
    const rows = consents
      .map(
        (c) =>
          `<li>${esc(c.provision?.type === 'deny' ? 'Bezwaar' : 'Toestemming')}: ${esc(actorsOf(c))} (${esc(c.status)}, ${esc(c.dateTime ?? '')}) ` +
          `<form method="post" action="${DEMO_PGO_CONSENTS}/withdraw" style="display:inline">${csrf}<input type="hidden" name="id" value="${esc(c.id ?? '')}"><button type="submit">Intrekken</button></form></li>`,
      )
      .join('\n');
    return (
      `${notice}<h2>Uw toestemmingen</h2>\n${consents.length ? `<ul>\n${rows}\n</ul>` : '<p>U hebt nog geen toestemmingen vastgelegd.</p>'}\n` +
      `<h2>Toestemming geven</h2>\n<form method="post" action="${DEMO_PGO_CONSENTS}">${csrf}` +
      `<p>Alle huisartsen (${DEMO_PGO_CONSENT.holder}) mogen mijn gegevens beschikbaar stellen aan alle ziekenhuizen (${DEMO_PGO_CONSENT.consulter}).</p>` +
      `<button type="submit">Toestemming geven</button></form>`
    );
  };

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
      resource: consentResource(),
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
    html(reply);
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
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: DEMO_PGO_CLIENT_ID, code: q.code, redirect_uri: redirectUri(), code_verifier: p.verifier, resource: consentResource() }).toString(),
    });
    const tok = (await res.json()) as { id_token?: string; access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!res.ok || !tok.id_token) return reply.code(502).send(page('Demo-PGO: inloggen mislukt', `<p>Token endpoint: ${esc(tok.error ?? String(res.status))} ${esc(tok.error_description ?? '')}</p>`));
    let claims: JWTPayload;
    try {
      claims = (await jwtVerify(tok.id_token, m.jwks, { issuer: issuer(), audience: DEMO_PGO_CLIENT_ID })).payload;
      if (claims.nonce !== p.nonce) throw new Error('nonce does not match');
    } catch (e) {
      return reply.code(502).send(page('Demo-PGO: ID token geweigerd', `<p>${esc((e as Error).message)}</p>`));
    }
    const mandates = Array.isArray(claims.mandates) ? (claims.mandates as { name?: string; basis?: string; kind?: string }[]) : [];
    let consents = '<p>Geen toegang tot het toestemmingenregister gekregen.</p>';
    if (tok.access_token && typeof claims.bsn === 'string') {
      const now = Date.now();
      for (const [k, x] of sessions) if (now - x.at > SESSION_TTL_MS || sessions.size > SESSION_MAX) sessions.delete(k);
      const id = randomBytes(32).toString('base64url');
      const s: Session = { name: String(claims.name ?? ''), bsn: claims.bsn, accessToken: tok.access_token, tokenUntil: now + (tok.expires_in ?? 0) * 1000, csrf: randomBytes(32).toString('base64url'), at: now };
      sessions.set(id, s);
      reply.header('set-cookie', `${SESSION_COOKIE}=${id}; Path=/demo-pgo; HttpOnly; SameSite=Lax${o.url().startsWith('https:') ? '; Secure' : ''}`);
      consents = await consentSection(s);
    }
    return page(
      'Demo-PGO: ingelogd',
      `<dl><dt>Naam</dt><dd>${esc(String(claims.name ?? ''))}</dd><dt>Geboortedatum</dt><dd>${esc(String(claims.birthdate ?? ''))}</dd>` +
        `<dt>Betrouwbaarheidsniveau (acr)</dt><dd>${esc(String(claims.acr ?? ''))}</dd><dt>Pseudoniem bij deze PGO (sub)</dt><dd><code>${esc(String(claims.sub ?? ''))}</code></dd>` +
        `<dt>Mag optreden voor</dt><dd>${mandates.length ? mandates.map((x) => esc(`${x.name ?? '?'} (${x.kind ?? x.basis ?? ''})`)).join('<br>') : 'niemand anders'}</dd></dl>\n` +
        `<p>Het ID token draagt ook het BSN, voor de backend van de PGO; deze pagina toont het niet.</p>\n${consents}`,
    );
  });

  app.get(DEMO_PGO_CONSENTS, async (req, reply) => {
    html(reply);
    const s = sessionOf(req);
    if (!s) return reply.code(401).send(page('Demo-PGO', '<p>U bent niet (meer) ingelogd.</p>'));
    return page(`Demo-PGO: ${s.name}`, await consentSection(s));
  });

  /** A form post of the session's user: the session and its CSRF token, else 401/403. */
  const posted = (req: FastifyRequest, reply: FastifyReply): { s: Session; form: URLSearchParams } | undefined => {
    html(reply);
    const s = sessionOf(req);
    if (!s) {
      void reply.code(401).send(page('Demo-PGO', '<p>U bent niet (meer) ingelogd.</p>'));
      return undefined;
    }
    const form = formOf(req.body);
    if (!sameToken(form.get('csrf') ?? '', s.csrf)) {
      void reply.code(403).send(page('Demo-PGO', '<p>Dit formulier is niet (meer) geldig; open de pagina opnieuw.</p>'));
      return undefined;
    }
    return { s, form };
  };

  app.post(DEMO_PGO_CONSENTS, async (req, reply) => {
    const p = posted(req, reply);
    if (!p) return reply;
    const res = await registry(p.s, '/Consent', { method: 'POST', body: demoConsent(p.s.bsn) });
    p.s.notice = res.ok ? 'Uw toestemming is vastgelegd.' : `Vastleggen mislukt (${await diagnostics(res)}).`;
    if (res.ok) await res.arrayBuffer();
    return reply.redirect(DEMO_PGO_CONSENTS, 303);
  });

  app.post(`${DEMO_PGO_CONSENTS}/withdraw`, async (req, reply) => {
    const p = posted(req, reply);
    if (!p) return reply;
    const id = p.form.get('id') ?? '';
    if (!/^[A-Za-z0-9.-]{1,64}$/.test(id)) return reply.code(400).send(page('Demo-PGO', '<p>Onbekende toestemming.</p>'));
    const res = await registry(p.s, `/Consent/${encodeURIComponent(id)}`, { method: 'DELETE' });
    p.s.notice = res.ok ? 'Uw toestemming is ingetrokken.' : `Intrekken mislukt (${await diagnostics(res)}).`;
    if (res.ok) await res.arrayBuffer();
    return reply.redirect(DEMO_PGO_CONSENTS, 303);
  });
}
