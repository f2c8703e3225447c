/** A browser stand-in for the citizen login tests: cookie jar, manual redirects, every URL it saw. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';
import { CITIZEN_IDP_PATH } from '../../src/roles/citizen-login.ts';

/**
 * Every request on a connection of its own: the restart test brings a node back on the same port, where a pooled
 * keep-alive connection to the previous process would fail.
 */
export const FRESH = { connection: 'close' };
export const jwksOf = (meta: Meta) => createRemoteJWKSet(new URL(meta.jwks_uri), { headers: FRESH });

/** A browser stand-in (as in test/gf/auth/citizen-idp.test.ts): cookie jar, manual redirects, every URL it saw. */
export class Browser {
  cookies = new Map<string, string>();
  urls: string[] = [];
  async go(url: string, init: { method?: string; body?: string } = {}): Promise<Response> {
    this.urls.push(url);
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...FRESH,
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.body,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    const loc = res.headers.get('location');
    if (loc) this.urls.push(new URL(loc, url).href);
    return res;
  }
  /** Follows redirects until one leaves for `stopAt` (not fetched) or a page answers. */
  async follow(url: string, stopAt?: string): Promise<{ res?: Response; url: string }> {
    let current = url;
    for (let i = 0; i < 10; i++) {
      if (stopAt && current.startsWith(stopAt)) return { url: current };
      const res = await this.go(current);
      const loc = res.headers.get('location');
      if (!loc || res.status < 300 || res.status >= 400) return { res, url: current };
      current = new URL(loc, current).href;
    }
    throw new Error('too many redirects');
  }
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export type Meta = { issuer: string; authorization_endpoint: string; token_endpoint: string; jwks_uri: string; acr_values_supported: string[] };
export const discovery = async (url: string) => {
  const res = await fetch(`${url}${CITIZEN_IDP_PATH}/.well-known/openid-configuration`, { headers: FRESH });
  assert.equal(res.status, 200);
  return (await res.json()) as Meta;
};

/** Starts a login at the IdP and answers its login form; returns the posted form's response and where it was. */
export async function submitLogin(browser: Browser, meta: Meta, o: { clientId: string; redirect: string; bsn: string; acr: string; scope: string; form?: Record<string, string>; resource?: string }) {
  const p = pkce();
  const state = randomBytes(8).toString('hex');
  const auth = new URL(meta.authorization_endpoint);
  auth.search = new URLSearchParams({ client_id: o.clientId, response_type: 'code', scope: o.scope, redirect_uri: o.redirect, state, nonce: `n-${state}`, code_challenge: p.challenge, code_challenge_method: 'S256', ...(o.resource ? { resource: o.resource } : {}) }).toString();
  const step = await browser.follow(auth.href, o.redirect);
  assert.equal(step.res?.status, 200, 'the login page');
  const page = await step.res!.text();
  assert.match(page, /Test-DigiD/);
  const action = /<form method="post" action="([^"]+\/login)"/.exec(page)?.[1];
  assert.ok(action, 'login form');
  const posted = await browser.go(new URL(action, step.url).href, { method: 'POST', body: new URLSearchParams({ bsn: o.bsn, acr: o.acr, ...o.form }).toString() });
  return { posted, at: step.url, state, verifier: p.verifier };
}

/** The token endpoint's answer after a full login (with `resource`: also an access token for that resource). */
export async function loginTokens(browser: Browser, meta: Meta, o: { clientId: string; redirect: string; bsn: string; acr: string; scope: string; resource?: string }) {
  const s = await submitLogin(browser, meta, o);
  assert.equal(s.posted.status, 303, await s.posted.clone().text());
  const step = await browser.follow(new URL(s.posted.headers.get('location')!, s.at).href, o.redirect);
  const back = new URL(step.url);
  assert.equal(back.searchParams.get('state'), s.state);
  const code = back.searchParams.get('code');
  assert.ok(code, `code in ${step.url}`);
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { ...FRESH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: o.redirect, client_id: o.clientId, code_verifier: s.verifier, ...(o.resource ? { resource: o.resource } : {}) }).toString(),
  });
  const json = (await res.json()) as { id_token: string; access_token: string; expires_in: number; token_type: string };
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

export async function login(browser: Browser, meta: Meta, o: { clientId: string; redirect: string; bsn: string; acr: string; scope: string }) {
  return (await loginTokens(browser, meta, o)).id_token;
}

