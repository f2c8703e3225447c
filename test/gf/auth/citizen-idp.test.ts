import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { LOA_HIGH, LOA_SUBSTANTIAL, createCitizenIdp, registerCitizenIdp, type CitizenIdp } from '../../../src/gf/auth/citizen-idp.ts';
import { BSN, REGISTRY, TODAY } from './fixtures.ts';
import { Browser, pkce } from '../../helpers/browser.ts';

const REDIRECT = 'http://127.0.0.1:9/pgo/callback';
const REDIRECT2 = 'http://localhost:9/other-pgo/callback';

describe('citizen login (test DigiD, OIDC code + PKCE)', () => {
  let server: Server;
  let idp: CitizenIdp;
  let issuer: string;
  let meta: Record<string, string>;

  before(async () => {
    const late: { handler?: CitizenIdp['handler'] } = {}; // the issuer URL needs the port, the server needs the handler
    server = createServer((req, res) => late.handler!(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    issuer = `http://127.0.0.1:${port}/national/idp`;
    idp = createCitizenIdp({
      issuer,
      registry: REGISTRY,
      now: () => TODAY,
      clients: [
        { client_id: 'pgo', client_name: 'Test-PGO', redirect_uris: [REDIRECT] },
        { client_id: 'pgo-2', client_name: 'Andere PGO', redirect_uris: [REDIRECT2] },
      ],
    });
    late.handler = idp.handler;
    meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  async function login(browser: Browser, o: { clientId: string; redirect: string; bsn: string; acr: string; acrValues?: string }) {
    const p = pkce();
    const state = randomBytes(8).toString('hex');
    const auth = new URL(meta.authorization_endpoint);
    auth.search = new URLSearchParams({
      client_id: o.clientId,
      response_type: 'code',
      scope: 'openid profile bsn mandates',
      redirect_uri: o.redirect,
      state,
      nonce: 'n-' + state,
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
      ...(o.acrValues ? { acr_values: o.acrValues } : {}),
    }).toString();
    let step = await browser.follow(auth.href, o.redirect);
    if (step.res) {
      // the login page
      assert.equal(step.res.status, 200);
      const page = await step.res.text();
      assert.match(page, /Test-DigiD/);
      assert.ok(page.includes(BSN.parent), 'the tester picks a citizen by BSN');
      const action = /<form method="post" action="([^"]+\/login)"/.exec(page)?.[1];
      assert.ok(action, 'login form');
      const posted = await browser.go(new URL(action!, step.url).href, { method: 'POST', body: new URLSearchParams({ bsn: o.bsn, acr: o.acr }).toString() });
      assert.equal(posted.status, 303, await posted.clone().text());
      step = await browser.follow(new URL(posted.headers.get('location')!, step.url).href, o.redirect);
    }
    const back = new URL(step.url);
    assert.equal(back.searchParams.get('state'), state);
    const code = back.searchParams.get('code');
    assert.ok(code, `code in ${step.url}`);
    return { code: code!, verifier: p.verifier };
  }

  const token = async (body: Record<string, string>) => {
    const res = await fetch(meta.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    return { status: res.status, json: (await res.json()) as Record<string, string> };
  };

  it('publishes discovery with code flow, S256 PKCE, pairwise subjects and the eIDAS levels', () => {
    assert.equal(meta.issuer, issuer);
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(meta.subject_types_supported, ['pairwise']);
    assert.deepEqual(meta.acr_values_supported, [LOA_SUBSTANTIAL, LOA_HIGH]);
    assert.ok((meta.scopes_supported as unknown as string[]).includes('mandates'));
  });

  it('logs a parent in end to end: authorization request → login form → code → token with PKCE → ID token', async () => {
    const browser = new Browser();
    const { code } = await login(browser, { clientId: 'pgo', redirect: REDIRECT, bsn: BSN.parent, acr: LOA_HIGH });

    const wrong = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'pgo', code_verifier: pkce().verifier });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error, 'invalid_grant', 'a wrong code_verifier is refused (and the code is spent)');

    const again = await login(browser, { clientId: 'pgo', redirect: REDIRECT, bsn: BSN.parent, acr: LOA_HIGH });
    const ok = await token({ grant_type: 'authorization_code', code: again.code, redirect_uri: REDIRECT, client_id: 'pgo', code_verifier: again.verifier });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const { payload } = await jwtVerify(ok.json.id_token, createRemoteJWKSet(new URL(meta.jwks_uri)), { issuer, audience: 'pgo' });
    assert.equal(payload.acr, LOA_HIGH);
    assert.equal(payload.bsn, BSN.parent, 'the BSN is in the ID token for the PGO backend');
    assert.equal(typeof payload.sub, 'string');
    assert.notEqual(payload.sub, BSN.parent);
    assert.ok(!String(payload.sub).includes(BSN.parent));
    assert.equal(payload.given_name, 'Petra');
    const mandates = payload.mandates as Record<string, string>[];
    assert.equal(mandates.length, 1, 'the 15-year-old, not the 16-year-old');
    assert.equal(mandates[0].bsn, BSN.child15);
    assert.equal(mandates[0].basis, 'parent-of-minor');
    assert.notEqual(mandates[0].sub, payload.sub);
    assert.ok(!mandates[0].sub.includes(BSN.child15));
    // userinfo: mandates yes, BSNs no
    const ui = (await (await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${ok.json.access_token}` } })).json()) as Record<string, unknown>;
    assert.equal(ui.sub, payload.sub, JSON.stringify(ui));
    assert.equal(ui.bsn, undefined);
    assert.equal((ui.mandates as Record<string, unknown>[])[0].bsn, undefined);
    assert.ok(!JSON.stringify(ui).includes(BSN.parent));

    // a second use of the code is refused and revokes what the code gave (RFC 6749 §4.1.2)
    assert.equal((await token({ grant_type: 'authorization_code', code: again.code, redirect_uri: REDIRECT, client_id: 'pgo', code_verifier: again.verifier })).status, 400);
    assert.equal((await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${ok.json.access_token}` } })).status, 401);

    // no BSN in any URL the browser saw
    for (const u of browser.urls) for (const b of Object.values(BSN)) assert.ok(!u.includes(b), `BSN in URL ${u}`);
  });

  it('gives each client its own pairwise sub; a logged-in session is reused without a second login', async () => {
    const browser = new Browser();
    const a = await login(browser, { clientId: 'pgo', redirect: REDIRECT, bsn: BSN.carer, acr: LOA_SUBSTANTIAL });
    const b = await login(browser, { clientId: 'pgo-2', redirect: REDIRECT2, bsn: BSN.carer, acr: LOA_SUBSTANTIAL });
    const ta = await token({ grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT, client_id: 'pgo', code_verifier: a.verifier });
    const tb = await token({ grant_type: 'authorization_code', code: b.code, redirect_uri: REDIRECT2, client_id: 'pgo-2', code_verifier: b.verifier });
    assert.equal(tb.status, 200, JSON.stringify(tb.json));
    const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
    const ia = (await jwtVerify(ta.json.id_token, jwks, { issuer, audience: 'pgo' })).payload;
    const ib = (await jwtVerify(tb.json.id_token, jwks, { issuer, audience: 'pgo-2' })).payload;
    assert.equal(ia.bsn, BSN.carer);
    assert.equal(ib.bsn, BSN.carer);
    assert.notEqual(ia.sub, ib.sub, 'pairwise: different subject per client');
    assert.equal(ib.acr, LOA_SUBSTANTIAL);
    const ma = ia.mandates as Record<string, string>[];
    const mb = ib.mandates as Record<string, string>[];
    assert.equal(ma[0].basis, 'registered-mandate');
    assert.equal(ma[0].kind, 'mantelzorger');
    assert.equal(ma[0].bsn, BSN.elder);
    assert.notEqual(ma[0].sub, mb[0].sub, "the represented person's sub is pairwise too");
    // the same citizen and client give the same sub again (stable)
    const again = await login(new Browser(), { clientId: 'pgo', redirect: REDIRECT, bsn: BSN.carer, acr: LOA_HIGH });
    const tc = await token({ grant_type: 'authorization_code', code: again.code, redirect_uri: REDIRECT, client_id: 'pgo', code_verifier: again.verifier });
    assert.equal((await jwtVerify(tc.json.id_token, jwks, { issuer, audience: 'pgo' })).payload.sub, ia.sub);
  });

  it('refuses an authorization request without PKCE', async () => {
    const browser = new Browser();
    const auth = new URL(meta.authorization_endpoint);
    auth.search = new URLSearchParams({ client_id: 'pgo', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: 's1' }).toString();
    const res = await browser.go(auth.href);
    const loc = new URL(res.headers.get('location') ?? '', auth);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.match(loc.searchParams.get('error_description') ?? '', /PKCE/);
  });

  it('offers and accepts only levels at or above the requested acr_values', async () => {
    const browser = new Browser();
    const p = pkce();
    const auth = new URL(meta.authorization_endpoint);
    auth.search = new URLSearchParams({ client_id: 'pgo', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: 's2', code_challenge: p.challenge, code_challenge_method: 'S256', acr_values: LOA_HIGH }).toString();
    const step = await browser.follow(auth.href, REDIRECT);
    const page = await step.res!.text();
    assert.ok(!page.includes(`value="${LOA_SUBSTANTIAL}"`));
    const action = /<form method="post" action="([^"]+\/login)"/.exec(page)![1];
    const low = await browser.go(new URL(action, step.url).href, { method: 'POST', body: new URLSearchParams({ bsn: BSN.parent, acr: LOA_SUBSTANTIAL }).toString() });
    assert.equal(low.status, 400);
    const unknown = await browser.go(new URL(action, step.url).href, { method: 'POST', body: new URLSearchParams({ bsn: '999999991', acr: LOA_HIGH }).toString() });
    assert.equal(unknown.status, 400);
  });
});

describe('citizen IdP mounted in Fastify', () => {
  it('serves discovery and passes form bodies through to oidc-provider', async () => {
    const app = Fastify();
    const idp = createCitizenIdp({ issuer: 'http://idp.test/national/idp', registry: REGISTRY, clients: [{ client_id: 'pgo', redirect_uris: [REDIRECT] }] });
    await registerCitizenIdp(app, idp);
    app.get('/other', async () => ({ ok: true }));
    try {
      const disco = await app.inject({ url: '/national/idp/.well-known/openid-configuration', headers: { host: 'idp.test' } });
      assert.equal(disco.statusCode, 200);
      assert.equal(disco.json().issuer, 'http://idp.test/national/idp');
      assert.equal(disco.json().token_endpoint, 'http://idp.test/national/idp/token');
      const tok = await app.inject({ method: 'POST', url: '/national/idp/token', headers: { host: 'idp.test', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=authorization_code&code=nope&client_id=pgo&redirect_uri=' + encodeURIComponent(REDIRECT) + '&code_verifier=' + 'x'.repeat(43) });
      assert.equal(tok.statusCode, 400);
      assert.equal(tok.json().error, 'invalid_grant', 'the body reached oidc-provider');
      assert.equal((await app.inject({ url: '/other' })).json().ok, true, 'routes outside the mount are untouched');
    } finally {
      await app.close();
    }
  });
});
