/**
 * A citizen registers and withdraws consent through a PGO, at the demo national role: the citizen IdP issues an access
 * token for the consent registry (resource indicator, an RFC 9068 JWT encrypted to the registry), the registry takes
 * it as a PGO acting for that citizen only, and a hospital physician's request at the GP follows the citizen's choice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Consent } from 'fhir/r4';
import { decodeProtectedHeader } from 'jose';
import { patientWithConditions, startDemo } from '../../src/cli/demo.ts';
import { LOA_SUBSTANTIAL } from '../../src/gf/auth/citizen-idp.ts';
import { SYSTEMS } from '../../src/gf/consent/catalogue.ts';
import { DEMO_PGO_CALLBACK, DEMO_PGO_CLIENT_ID, DEMO_PGO_CONSENT, DEMO_PGO_CONSENTS, DEMO_PGO_LOGIN, demoConsent } from '../../src/roles/demo-pgo.ts';
import { nationalPaths } from '../../src/roles/national.ts';
import type { NetworkNode } from '../../src/roles/network.ts';
import { nthTestBsn } from '../../src/synth/identifiers.ts';
import { Browser, FRESH, discovery, loginTokens, type Meta } from '../helpers/browser.ts';

describe('a citizen registers and withdraws consent through a PGO', () => {
  let net: NetworkNode;
  let dir: string;
  let meta: Meta;
  let bsn: string;
  let redirect: string;
  let consentBase: string;
  let gp: { tenant: string; ura: string };
  let hospital: { ura: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'schakel-citizen-consent-'));
    net = await startDemo({ port: 0, host: '127.0.0.1', dataDir: dir, patients: 20 });
    redirect = `${net.url}${DEMO_PGO_CALLBACK}`;
    consentBase = nationalPaths(net.url).consent;
    const tenants = net.server.node.tenants.list();
    const g = tenants.find((t) => t.tenant.startsWith('gp-'))!;
    const h = tenants.find((t) => t.tenant.startsWith('hospital-'))!;
    gp = { tenant: g.tenant, ura: g.ura! };
    hospital = { ura: h.ura! };
    const found = await patientWithConditions(net.server, gp.tenant);
    assert.ok(found);
    bsn = found.bsn;
    meta = await discovery(net.url);
  });
  after(async () => {
    await net?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The hospital physician (treatment relation) asks the GP for the patient's conditions; the status. */
  const hospitalAsks = async () => {
    const authorization = await net.tokens.authorization({
      ura: hospital.ura,
      tokenEndpoint: `${net.url}/auth/${gp.tenant}/token`,
      scope: 'system/*.read',
      person: { uziNr: '900012345', uziRolcode: '01.010' },
      purposeOfUse: 'treatment',
      treatmentRelation: true,
    });
    const q = `Condition?patient.identifier=${encodeURIComponent(`${SYSTEMS.bsn}|${bsn}`)}`;
    const res = await net.tokens.fetchFor(hospital.ura)(`${net.url}/fhir/${gp.tenant}/${q}`, { headers: { accept: 'application/fhir+json', authorization } });
    const body = (await res.json()) as Bundle;
    return { status: res.status, conditions: (body.entry ?? []).length };
  };

  const registry = (token: string, path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${consentBase}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...FRESH, accept: 'application/fhir+json', authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/fhir+json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });

  it('issues an encrypted access token for the registry; the citizen registers, lists and withdraws; the hospital request follows', async () => {
    const browser = new Browser();
    const tokens = await loginTokens(browser, meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn, acr: LOA_SUBSTANTIAL, scope: 'openid consent:register', resource: consentBase });
    const access = tokens.access_token;
    // A JWE (five parts) to the registry: the PGO that carries it cannot read the BSN inside.
    assert.equal(access.split('.').length, 5);
    const header = decodeProtectedHeader(access);
    assert.equal(header.alg, 'ECDH-ES');
    assert.equal(header.cty, 'at+jwt');
    assert.ok(tokens.expires_in > 0 && tokens.expires_in <= 300, `short-lived: ${tokens.expires_in}`);
    for (const u of browser.urls) assert.ok(!u.includes(bsn), `BSN in URL ${u}`);

    assert.equal((await hospitalAsks()).status, 403, 'no consent yet');

    const created = await registry(access, '/Consent', { method: 'POST', body: demoConsent(bsn) });
    const stored = (await created.json()) as Consent;
    assert.equal(created.status, 201, JSON.stringify(stored));
    assert.deepEqual(stored.performer?.[0]?.identifier, { system: SYSTEMS.bsn, value: bsn }, 'registered by the patient');

    const listed = (await (await registry(access, '/Consent')).json()) as Bundle<Consent>;
    assert.deepEqual(
      (listed.entry ?? []).map((e) => e.resource?.id),
      [stored.id],
      'the citizen sees their own consent',
    );

    const other = await registry(access, '/Consent', { method: 'POST', body: demoConsent(nthTestBsn(19_999)) });
    assert.equal(other.status, 403, 'not for another BSN');
    await other.arrayBuffer();

    const allowed = await hospitalAsks();
    assert.equal(allowed.status, 200, 'the GP shares with the hospital under the citizen’s consent');
    assert.ok(allowed.conditions > 0);

    const withdrawn = await registry(access, `/Consent/${stored.id}`, { method: 'DELETE' });
    assert.ok(withdrawn.status === 200 || withdrawn.status === 204, String(withdrawn.status));
    await withdrawn.arrayBuffer();
    assert.equal((await hospitalAsks()).status, 403, 'refused again after the withdrawal');
    const after = (await (await registry(access, '/Consent')).json()) as Bundle<Consent>;
    assert.equal((after.entry ?? []).length, 0);
  });

  it('refuses a token that is not for the registry, and a tampered one', async () => {
    const { access_token: noResource, id_token } = await loginTokens(new Browser(), meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn, acr: LOA_SUBSTANTIAL, scope: 'openid' });
    for (const t of [noResource, id_token]) {
      const res = await registry(t, '/Consent');
      assert.equal(res.status, 401);
      await res.arrayBuffer();
    }
    const { access_token } = await loginTokens(new Browser(), meta, { clientId: DEMO_PGO_CLIENT_ID, redirect, bsn, acr: LOA_SUBSTANTIAL, scope: 'openid consent:register', resource: consentBase });
    const parts = access_token.split('.');
    parts[3] = `${parts[3].slice(0, -2)}${parts[3].endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await registry(parts.join('.'), '/Consent');
    assert.equal(res.status, 401);
    await res.arrayBuffer();
  });

  it('the demo PGO gives, lists and withdraws consent in HTML forms with a CSRF token, no BSN on the pages or in URLs', async () => {
    const browser = new Browser();
    const start = await browser.follow(`${net.url}${DEMO_PGO_LOGIN}`);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(await start.res!.text())![1];
    const posted = await browser.go(new URL(action, start.url).href, { method: 'POST', body: new URLSearchParams({ bsn, acr: LOA_SUBSTANTIAL }).toString() });
    assert.equal(posted.status, 303);
    const done = await browser.follow(new URL(posted.headers.get('location')!, start.url).href);
    assert.equal(done.res?.status, 200);
    const home = await done.res!.text();
    assert.match(home, /U hebt nog geen toestemmingen vastgelegd/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(home)?.[1];
    assert.ok(csrf);

    // without the form's token: refused, nothing registered
    const forged = await browser.go(`${net.url}${DEMO_PGO_CONSENTS}`, { method: 'POST', body: 'csrf=wrong' });
    assert.equal(forged.status, 403);
    // without the session cookie: not logged in
    const anonymous = await new Browser().go(`${net.url}${DEMO_PGO_CONSENTS}`, { method: 'POST', body: new URLSearchParams({ csrf }).toString() });
    assert.equal(anonymous.status, 401);

    const given = await browser.go(`${net.url}${DEMO_PGO_CONSENTS}`, { method: 'POST', body: new URLSearchParams({ csrf }).toString() });
    assert.equal(given.status, 303);
    const list = await browser.follow(new URL(given.headers.get('location')!, `${net.url}/`).href);
    const shown = await list.res!.text();
    assert.match(shown, /Uw toestemming is vastgelegd/);
    assert.match(shown, /alle huisartsen → alle ziekenhuizen/);
    assert.ok(!shown.includes(bsn) && !home.includes(bsn), 'no BSN on the pages');
    assert.equal((await hospitalAsks()).status, 200);
    assert.ok(shown.includes(DEMO_PGO_CONSENT.consulter));

    const id = /name="id" value="([^"]+)"/.exec(shown)?.[1];
    assert.ok(id);
    const withdrawn = await browser.go(`${net.url}${DEMO_PGO_CONSENTS}/withdraw`, { method: 'POST', body: new URLSearchParams({ csrf, id }).toString() });
    assert.equal(withdrawn.status, 303);
    const again = await (await browser.follow(new URL(withdrawn.headers.get('location')!, `${net.url}/`).href)).res!.text();
    assert.match(again, /Uw toestemming is ingetrokken/);
    assert.match(again, /U hebt nog geen toestemmingen vastgelegd/);
    assert.equal((await hospitalAsks()).status, 403);
    for (const u of browser.urls) assert.ok(!u.includes(bsn), `BSN in URL ${u}`);
  });
});
