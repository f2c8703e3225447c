/**
 * The network end to end, as `schakel demo` runs it: national services and provider tenants in one process,
 * organisations onboarded through the PKI and the addressing directory, every tenant behind the enforcement
 * point. A hospital retrieves a patient's data from the GP only while consent permits it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDemo, patientWithConditions } from '../../src/cli/demo.ts';
import { KeyStore, pemToDer } from '../../src/gf/auth/pki.ts';
import { OrganisationTokens, TokenRequestError } from '../../src/gf/auth/token-client.ts';
import { createClientAssertion, tokenRequestBody } from '../../src/gf/auth/token-server.ts';
import { configurationProblem, isLoopback, type NetworkNode } from '../../src/roles/network.ts';
import { nationalPaths } from '../../src/roles/national.ts';
import { consentWalkthrough } from '../../src/roles/walkthrough.ts';
import { localise } from '../../src/roles/localise.ts';
import { sql } from 'kysely';
import { tokenCommand } from '../../src/cli/token.ts';
import { isReservedTenant } from '../../src/tenants/registry.ts';
import { passesElevenTest } from '../../src/synth/identifiers.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'schakel.js');

describe('the demo network (national + provider roles, secure by default)', () => {
  let net: NetworkNode;
  let dir: string;
  let gp: { tenant: string; ura: string };
  let hospital: { tenant: string; ura: string };
  let bsn: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'schakel-network-'));
    net = await startDemo({ port: 0, host: '127.0.0.1', dataDir: dir, patients: 30 });
    const tenants = net.server.node.tenants.list();
    const find = (prefix: string) => tenants.find((t) => t.tenant.startsWith(prefix))!;
    gp = { tenant: find('gp-').tenant, ura: find('gp-').ura! };
    hospital = { tenant: find('hospital-').tenant, ura: find('hospital-').ura! };
    const patient = await patientWithConditions(net.server, gp.tenant);
    assert.ok(patient, 'the GP holds a patient with conditions');
    bsn = patient.bsn;
    // The node registers the imported region at the NVI in the background; wait until it is done.
    for (let i = 0; i < 600 && (await net.localisation!.registrar.backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await net.localisation!.registrar.backlog(), 0, 'the region is registered at the localisation index');
  });
  after(async () => {
    await net?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('walkthrough: localised via PRS + NVI + directory; refused without consent, data with consent, refused again at once after revocation', async () => {
    const steps = await consentWalkthrough({
      url: net.url,
      nationalBase: net.url,
      tokens: net.tokens,
      gp,
      hospital,
      bsn,
      localise: () => localise({ node: net.server.node, tokens: net.tokens, nationalBase: net.url, ura: hospital.ura, bsn, category: 'Condition' }),
    });
    assert.deepEqual(
      steps.map((s) => s.status),
      [200, 403, 201, 200, 200, 403],
      JSON.stringify(steps, null, 1),
    );
    assert.ok(steps[0].detail.includes(`URA ${gp.ura} at ${net.url}/fhir/${gp.tenant}`), steps[0].detail);
    assert.match(steps[1].detail, /consent registry: NotApplicable/);
    assert.match(steps[3].detail, /^[1-9]\d* conditions$/);
  });

  it('the localisation index holds pseudonyms only: no BSN in any entry', async () => {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM gf_localisation`.execute(net.server.node.engine.db);
    assert.ok(rows.rows.length > 0);
    const text = JSON.stringify(rows.rows);
    assert.ok(!text.includes(bsn));
    // A BSN would stand alone; nine digits inside a base64url pseudonym are part of it.
    assert.deepEqual((text.match(/(?<![\w-])\d{9}(?![\w-])/g) ?? []).filter(passesElevenTest), []);
  });

  it('no BSN in the operations or security logs, nor in /metrics, after the walkthrough and refusals', async () => {
    await consentWalkthrough({ url: net.url, nationalBase: net.url, tokens: net.tokens, gp, hospital, bsn });
    const metrics = await (await fetch(`${net.url}/metrics`)).text();
    assert.match(metrics, /schakel_http_requests_total/);
    assert.match(metrics, /schakel_localisation_sync_total\{[^}]*outcome="ok"[^}]*\} [1-9]/, 'the registrar counts its syncs');
    assert.match(metrics, /schakel_nvi_searches_total/, 'the NVI counts its searches');
    const logs = readdirSync(join(dir, 'logs')).map((f) => readFileSync(join(dir, 'logs', f), 'utf8'));
    assert.ok(logs.join('').includes('access-refused'), 'the security stream recorded the refusals');
    // Metric values are numbers (bytes, seconds): only the label sets can carry an identifier.
    const labels = (metrics.match(/\{[^}]*\}/g) ?? []).join('\n');
    assert.ok(!metrics.includes(bsn));
    for (const text of [labels, ...logs]) {
      assert.ok(!text.includes(bsn), 'the walkthrough patient’s BSN');
      const candidates = (text.match(/(?<!\d)\d{9}(?!\d)/g) ?? []).filter(passesElevenTest);
      assert.deepEqual(candidates, [], 'no nine-digit number that passes the BSN eleven-test');
    }
  });

  it('the national services audit every request with the verified caller and the route, never the BSN', async () => {
    await consentWalkthrough({ url: net.url, nationalBase: net.url, tokens: net.tokens, gp, hospital, bsn });
    const events = await net.server.node.audit.forTenant('national-consent', 50);
    const created = events.find((e) => e.action === 'C' && JSON.stringify(e).includes('POST /national/consent/Consent'));
    assert.ok(created, 'the consent registration is audited');
    assert.equal(created.agent.find((a) => a.requestor)?.who?.identifier?.value, gp.ura);
    assert.ok(events.some((e) => JSON.stringify(e).includes('/$check') && JSON.stringify(e).includes(gp.ura)), 'the closed questions are audited');
    assert.ok(!JSON.stringify(events).includes(bsn));
    assert.equal((await net.server.node.audit.verify()).ok, true);
  });

  it('every provider tenant requires a token (401 with an OperationOutcome), also for bulk files', async () => {
    for (const t of net.server.node.tenants.list().filter((x) => !isReservedTenant(x.tenant))) {
      const res = await fetch(`${net.url}/fhir/${t.tenant}/Patient`, { headers: { accept: 'application/fhir+json' } });
      assert.equal(res.status, 401, t.tenant);
      const body = (await res.json()) as { resourceType: string; issue: { code: string }[] };
      assert.equal(body.resourceType, 'OperationOutcome');
      assert.equal(body.issue[0].code, 'login');
    }
    const bulk = await fetch(`${net.url}/fhir/${gp.tenant}/$bulk-file/any-job/any-file`);
    assert.equal(bulk.status, 401);
  });

  it("an organisation's own system reads its own tenant without a consent question", async () => {
    const token = await net.tokens.authorization({ ura: gp.ura, tokenEndpoint: `${net.url}/auth/${gp.tenant}/token`, scope: 'system/*.read' });
    const res = await fetch(`${net.url}/fhir/${gp.tenant}/Patient?_count=5`, { headers: { accept: 'application/fhir+json', authorization: token } });
    assert.equal(res.status, 200);
    assert.ok(((await res.json()) as { entry?: unknown[] }).entry?.length);
  });

  it('`schakel token` gets a token a person can use with curl; bad input names the problem', async () => {
    let out = '';
    const code = await tokenCommand(['--org', gp.ura, '--tenant', gp.tenant, '--url', net.url, '--data', dir], (s) => (out += s));
    assert.equal(code, 0);
    const res = await fetch(`${net.url}/fhir/${gp.tenant}/Patient?_count=1`, { headers: { authorization: `Bearer ${out.trim()}` } });
    assert.equal(res.status, 200);
    await assert.rejects(tokenCommand(['--org', 'x1', '--tenant', gp.tenant, '--data', dir]), /--org 'x1' is not a URA/);
    await assert.rejects(tokenCommand(['--org', gp.ura, '--data', dir]), /exactly one of --tenant/);
    await assert.rejects(tokenCommand(['--org', '12121212', '--tenant', gp.tenant, '--data', dir]), /no keys for organisation 12121212/);
  });

  it('an organisation with a valid certificate that is not in the addressing directory gets no token', async () => {
    await net.keys.issue({ ura: '91234567', name: 'Kliniek Buiten Het Register' });
    const tokens = new OrganisationTokens(net.keys);
    await assert.rejects(tokens.token({ ura: '91234567', tokenEndpoint: `${net.url}/auth/${gp.tenant}/token`, scope: 'system/*.read' }), (e: TokenRequestError) => {
      assert.equal(e.status, 401);
      assert.equal(e.error, 'invalid_client');
      assert.match(e.message, /not registered/);
      return true;
    });
  });

  it("a certificate for a registered URA from another CA is refused (the organisation's name is not enough)", async () => {
    const rogueDir = mkdtempSync(join(tmpdir(), 'schakel-rogue-'));
    try {
      const rogue = new KeyStore(rogueDir);
      await rogue.initCa({ name: 'Rogue CA' });
      await rogue.issue({ ura: hospital.ura, name: 'Fake hospital' });
      await assert.rejects(new OrganisationTokens(rogue).token({ ura: hospital.ura, tokenEndpoint: `${net.url}/auth/${gp.tenant}/token`, scope: 'system/*.read' }), /trusted CA/);
    } finally {
      rmSync(rogueDir, { recursive: true, force: true });
    }
  });

  it('a replayed client assertion is refused', async () => {
    const cred = net.keys.credential(hospital.ura);
    const tokenEndpoint = `${net.url}/auth/${gp.tenant}/token`;
    const assertion = await createClientAssertion({ clientId: hospital.ura, tokenEndpoint, privateKey: cred.keyPem, kid: cred.kid, x5c: [pemToDer(cred.certPem).toString('base64')] });
    const post = () => fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenRequestBody(assertion, 'system/*.read') });
    assert.equal((await post()).status, 200);
    const again = await post();
    assert.equal(again.status, 401);
    assert.match(((await again.json()) as { error_description: string }).error_description, /replay/);
  });

  it('a token for one national service is no key to another (audience per service)', async () => {
    const p = nationalPaths(net.url);
    const nviToken = await net.tokens.authorization({ ura: gp.ura, tokenEndpoint: p.token('nvi'), scope: 'nvi:read' });
    const res = await fetch(`${p.consent}/Consent`, { headers: { accept: 'application/fhir+json', authorization: nviToken } });
    assert.equal(res.status, 401);
    const ok = await fetch(`${p.nvi}/List?code=Condition`, { headers: { accept: 'application/fhir+json', authorization: nviToken } });
    assert.notEqual(ok.status, 401);
  });

  it('a provider token is not accepted by the national services, nor a national token by a tenant', async () => {
    const p = nationalPaths(net.url);
    const nodeToken = await net.tokens.authorization({ ura: hospital.ura, tokenEndpoint: `${net.url}/auth/${gp.tenant}/token`, scope: 'system/*.read' });
    assert.equal((await fetch(`${p.consent}/Consent`, { headers: { authorization: nodeToken } })).status, 401);
    const consentToken = await net.tokens.authorization({ ura: hospital.ura, tokenEndpoint: p.token('consent'), scope: 'consent:check' });
    assert.equal((await fetch(`${net.url}/fhir/${gp.tenant}/Patient`, { headers: { authorization: consentToken } })).status, 401);
  });

  it('the token servers answer only for real tenants; reserved service tenants have none', async () => {
    assert.equal((await fetch(`${net.url}/auth/no-such-tenant/.well-known/smart-configuration`)).status, 404);
    assert.equal((await fetch(`${net.url}/auth/national-consent/.well-known/smart-configuration`)).status, 404);
    const cfg = (await (await fetch(`${net.url}/auth/${gp.tenant}/.well-known/smart-configuration`)).json()) as { token_endpoint: string };
    assert.equal(cfg.token_endpoint, `${net.url}/auth/${gp.tenant}/token`);
  });
});

describe('--no-auth is a local-development switch only', () => {
  it('is refused with the national role and on a non-loopback address', () => {
    assert.match(configurationProblem({ noAuth: true, national: true, host: '127.0.0.1' })!, /national/);
    assert.match(configurationProblem({ noAuth: true, host: '0.0.0.0' })!, /loopback/);
    assert.match(configurationProblem({ noAuth: true, host: '192.168.1.10' })!, /loopback/);
    assert.equal(configurationProblem({ noAuth: true, host: '127.0.0.1' }), undefined);
    assert.match(configurationProblem({ noAuth: true, host: '127.0.0.1', tls: { ura: '90000001' } })!, /--tls and --no-auth/);
    assert.match(configurationProblem({ host: '127.0.0.1', tls: { ura: '9001' } })!, /not a URA/);
    assert.equal(configurationProblem({ noAuth: false, host: '0.0.0.0' }), undefined);
    assert.ok(isLoopback('::1') && isLoopback('localhost') && isLoopback('127.0.0.2') && !isLoopback('10.0.0.1') && !isLoopback('example.org'));
  });

  it('the CLI refuses the combinations with a message naming the problem (exit 2)', () => {
    const a = spawnSync(process.execPath, [BIN, 'serve', '--no-auth', '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8' });
    assert.equal(a.status, 2);
    assert.match(a.stderr, /--no-auth is only allowed on a loopback address/);
    const b = spawnSync(process.execPath, [BIN, 'serve', '--no-auth', '--national', '--port', '0'], { encoding: 'utf8' });
    assert.equal(b.status, 2);
    assert.match(b.stderr, /cannot be combined with the national role/);
  });
});
