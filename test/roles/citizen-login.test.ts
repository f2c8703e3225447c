/**
 * Citizen login in the national role: the test DigiD at /national/idp of a running node, with the region's people
 * as citizens (schakel demo) and the demo PGO as relying party; a full authorization-code + PKCE login over real
 * HTTP, the ID token checked against the IdP's JWKS, and no BSN in any URL the browser saw.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Patient } from 'fhir/r4';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { patientWithConditions, startDemo } from '../../src/cli/demo.ts';
import { LOA_HIGH, LOA_SUBSTANTIAL } from '../../src/gf/auth/citizen-idp.ts';
import { isRaw } from '../../src/server/types.ts';
import { DEMO_PGO_CALLBACK, DEMO_PGO_CLIENT_ID, DEMO_PGO_LOGIN } from '../../src/roles/demo-pgo.ts';
import { startNetworkNode, type NetworkNode } from '../../src/roles/network.ts';
import { regionCitizens } from '../../src/roles/region-citizens.ts';
import { BSN, REGISTRY, TODAY } from '../gf/auth/fixtures.ts';
import { Browser, discovery, jwksOf, login, submitLogin, type Meta } from '../helpers/browser.ts';

describe('citizen login at the demo national role (/national/idp)', () => {
  let net: NetworkNode;
  let dir: string;
  let meta: Meta;
  let citizen: { bsn: string; family: string; birthDate: string };
  let redirect: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'schakel-citizen-login-'));
    net = await startDemo({ port: 0, host: '127.0.0.1', dataDir: dir, patients: 20 });
    redirect = `${net.url}${DEMO_PGO_CALLBACK}`;
    // A patient of the region's GP, read inside the node: the citizen who logs in.
    const gp = net.server.node.tenants.list().find((t) => t.tenant.startsWith('gp-'))!;
    const found = await patientWithConditions(net.server, gp.tenant);
    assert.ok(found);
    const scope = { tenant: gp.tenant, base: `${net.url}/fhir/${gp.tenant}`, strict: false };
    const body = (await net.server.node.dispatch(scope, { method: 'GET', path: `Patient/${found.id}`, query: [], headers: {} })).body;
    const patient = (body && isRaw(body as never) ? JSON.parse((body as { raw: string }).raw) : body) as Patient;
    citizen = { bsn: found.bsn, family: patient.name!.find((n) => n.use === 'official')!.family!, birthDate: patient.birthDate! };
    meta = await discovery(net.url);
  });
  after(async () => {
    await net?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes discovery with the node URL as issuer, endpoints under it, the eIDAS levels', () => {
    assert.equal(meta.issuer, `${net.url}/national/idp`);
    for (const e of [meta.authorization_endpoint, meta.token_endpoint, meta.jwks_uri]) assert.ok(e.startsWith(`${meta.issuer}/`), e);
    assert.deepEqual(meta.acr_values_supported, [LOA_SUBSTANTIAL, LOA_HIGH]);
  });

  it('logs a region citizen in with code + PKCE: ID token signed by the JWKS, acr, pairwise sub, no BSN in URLs or token', async () => {
    const browser = new Browser();
    const idToken = await login(browser, meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn: citizen.bsn, acr: LOA_HIGH, scope: 'openid profile mandates' });
    const jwks = jwksOf(meta);
    const { payload } = await jwtVerify(idToken, jwks, { issuer: `${net.url}/national/idp`, audience: DEMO_PGO_CLIENT_ID });
    assert.equal(payload.acr, LOA_HIGH);
    assert.equal(payload.family_name, citizen.family, 'the citizen is the region patient');
    assert.equal(payload.birthdate, citizen.birthDate);
    assert.deepEqual(payload.mandates, [], 'the synthetic region records no family relations or mandates');
    assert.match(String(payload.sub), /^[A-Za-z0-9_-]{43}$/, 'pairwise subject (HMAC), not a BSN');
    assert.ok(!idToken.includes(citizen.bsn));
    assert.ok(!JSON.stringify({ header: decodeProtectedHeader(idToken), payload: decodeJwt(idToken) }).includes(citizen.bsn), 'no BSN in the ID token without the bsn scope');
    for (const u of browser.urls) assert.ok(!u.includes(citizen.bsn), `BSN in URL ${u}`);
    assert.ok(browser.urls.some((u) => u.startsWith(redirect)), 'the browser came back at the PGO');

    // the same citizen at the same PGO keeps the same sub
    const again = await login(new Browser(), meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn: citizen.bsn, acr: LOA_SUBSTANTIAL, scope: 'openid' });
    const second = (await jwtVerify(again, jwks, { issuer: meta.issuer, audience: DEMO_PGO_CLIENT_ID })).payload;
    assert.equal(second.sub, payload.sub);
    assert.equal(second.acr, LOA_SUBSTANTIAL);
  });

  it('the demo PGO runs the whole login itself and shows who logged in, without the BSN', async () => {
    const browser = new Browser();
    const start = await browser.follow(`${net.url}${DEMO_PGO_LOGIN}`);
    assert.equal(start.res?.status, 200);
    const page = await start.res!.text();
    const action = /<form method="post" action="([^"]+\/login)"/.exec(page)![1];
    const posted = await browser.go(new URL(action, start.url).href, { method: 'POST', body: new URLSearchParams({ bsn: citizen.bsn, acr: LOA_SUBSTANTIAL }).toString() });
    assert.equal(posted.status, 303);
    const done = await browser.follow(new URL(posted.headers.get('location')!, start.url).href);
    assert.ok(done.url.startsWith(redirect), done.url);
    assert.equal(done.res?.status, 200);
    const shown = await done.res!.text();
    assert.match(shown, /ingelogd/);
    assert.ok(shown.includes(citizen.family));
    assert.ok(shown.includes(LOA_SUBSTANTIAL));
    assert.ok(!shown.includes(citizen.bsn), 'the PGO page does not show the BSN');
    for (const u of browser.urls) assert.ok(!u.includes(citizen.bsn), `BSN in URL ${u}`);
  });

  it('refuses a BSN that is not a citizen of the region, with a clear message', async () => {
    const unknown = '999999990'; // passes the eleven test; the 20-patient region does not reach it
    const region = await regionCitizens(join(dir, 'region-20'));
    assert.equal(region.citizens.length, 20, 'one citizen per generated patient');
    assert.ok(!region.citizens.some((c) => c.bsn === unknown));
    const s = await submitLogin(new Browser(), meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn: unknown, acr: LOA_HIGH, scope: 'openid' });
    assert.equal(s.posted.status, 400);
    assert.match(await s.posted.text(), /role="alert">Onbekende testburger: dit BSN staat niet in de testregistratie/);
    // a typed BSN (the field a large region's login page offers) counts over the listed choice
    const typed = await submitLogin(new Browser(), meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn: citizen.bsn, acr: LOA_HIGH, scope: 'openid', form: { bsn_other: unknown } });
    assert.equal(typed.posted.status, 400);
  });

  it('keeps the pairwise secret in the national data directory, readable by the owner only', () => {
    const mode = statSync(join(dir, 'national', 'citizen-idp-pairwise.secret')).mode & 0o777;
    assert.equal(mode, 0o600);
  });
});

describe('citizen IdP of a national node with a given registry, across a restart', () => {
  let dir: string;
  const start = (port: number) =>
    startNetworkNode({
      port,
      host: '127.0.0.1',
      db: 'sqlite',
      dataDir: dir,
      national: true,
      logger: false,
      syncEveryMs: 0,
      citizenLogin: { citizens: async () => REGISTRY, now: () => TODAY, clients: (base) => [{ client_id: 'pgo', redirect_uris: [`${base}/pgo/callback`] }] },
    });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'schakel-citizen-idp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // The pairwise sector is the redirect URI's host (with its port, oidc-provider's rule), so the node comes back on
  // the port it had, as `schakel demo` does on 8080.
  it('gives a citizen the same sub at a PGO after the node restarts', async () => {
    const subs: unknown[] = [];
    let port = 0;
    for (let i = 0; i < 2; i++) {
      const node = await start(port);
      port = Number(new URL(node.url).port);
      try {
        const meta = await discovery(node.url);
        const redirect = `${node.url}/pgo/callback`;
        const idToken = await login(new Browser(), meta, { clientId: 'pgo', redirect, bsn: BSN.parent, acr: LOA_HIGH, scope: 'openid mandates' });
        const { payload } = await jwtVerify(idToken, jwksOf(meta), { issuer: `${node.url}/national/idp`, audience: 'pgo' });
        assert.equal((payload.mandates as unknown[]).length, 1, 'the parent acts for the child under 16');
        subs.push(payload.sub);
      } finally {
        await node.close();
      }
    }
    assert.equal(subs[0], subs[1]);
  });
});
