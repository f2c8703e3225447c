/**
 * The network over mutual TLS: the node serves https with its operator's certificate and asks every client for
 * theirs; token requests must present the organisation's certificate, and the token is bound to it (RFC 8705) —
 * at the provider tenants and at the national services alike. The walkthrough runs unchanged over it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Condition, Patient } from 'fhir/r4';
import { Agent, fetch as undiciFetch } from 'undici';
import { KeyStore, pemToDer } from '../../src/gf/auth/pki.ts';
import { createClientAssertion, tokenRequestBody } from '../../src/gf/auth/token-server.ts';
import { startNetworkNode, type NetworkNode } from '../../src/roles/network.ts';
import { onboard } from '../../src/roles/onboarding.ts';
import { localise } from '../../src/roles/localise.ts';
import { consentWalkthrough } from '../../src/roles/walkthrough.ts';
import { nationalPaths } from '../../src/roles/national.ts';
import { QUIET_LOGS } from '../helpers/server.ts';
import { nthTestBsn } from '../../src/synth/identifiers.ts';

const OPERATOR = '90000030';
const GP = '90000031';
const HOSPITAL = '90000032';

describe('the network over mutual TLS (certificate-bound tokens)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schakel-mtls-'));
  let net: NetworkNode;
  let ca: string;
  const bsn = nthTestBsn(777);

  before(async () => {
    const keys = new KeyStore(dir);
    ca = (await keys.initCa({ name: 'Test UZI CA' })).certPem;
    await keys.issue({ ura: OPERATOR, name: 'Regionale zorgnode' });
    net = await startNetworkNode({ port: 0, host: '127.0.0.1', db: 'sqlite', dataDir: dir, national: true, tls: { ura: OPERATOR }, logger: QUIET_LOGS, syncEveryMs: 0 });
    assert.match(net.url, /^https:\/\//);
    await net.server.node.tenants.add({ tenant: 'gp', ura: GP, name: 'Huisarts', settings: { organizationType: 'Z3' } });
    await net.server.node.tenants.add({ tenant: 'zkh', ura: HOSPITAL, name: 'Ziekenhuis', settings: { organizationType: 'V4' } });
    await onboard(net.keys, net.tokens, net.url, { ura: GP, name: 'Huisarts', organizationType: { code: 'Z3' }, fhirBase: `${net.url}/fhir/gp` });
    await onboard(net.keys, net.tokens, net.url, { ura: HOSPITAL, name: 'Ziekenhuis', organizationType: { code: 'V4' }, fhirBase: `${net.url}/fhir/zkh` });
    await net.provider!.syncDirectory();
    const authorization = await net.tokens.authorization({ ura: GP, tokenEndpoint: `${net.url}/auth/gp/token`, scope: 'system/*.*' });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1b0c8f0a-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: bsn }] } as Patient, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Condition', subject: { reference: 'urn:uuid:1b0c8f0a-0000-4000-8000-000000000001' }, code: { text: 'Astma' } } as Condition, request: { method: 'POST', url: 'Condition' } },
      ],
    };
    const res = await net.tokens.fetchFor(GP)(`${net.url}/fhir/gp`, { method: 'POST', headers: { authorization, 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
    assert.equal(res.status, 200, await res.text());
    for (let i = 0; i < 150 && (await net.localisation!.registrar.backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await net?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the walkthrough runs over mTLS: localised, refused, consent, data, revoked, refused', async () => {
    const steps = await consentWalkthrough({
      url: net.url,
      nationalBase: net.url,
      tokens: net.tokens,
      gp: { tenant: 'gp', ura: GP },
      hospital: { ura: HOSPITAL },
      bsn,
      localise: () => localise({ node: net.server.node, tokens: net.tokens, nationalBase: net.url, ura: HOSPITAL, bsn, category: 'Condition' }),
    });
    assert.deepEqual(steps.map((s) => s.status), [200, 403, 201, 200, 200, 403], JSON.stringify(steps, null, 1));
    assert.ok(steps[0].detail.includes(`URA ${GP} at ${net.url}/fhir/gp`), steps[0].detail);
  });

  it('a token request without a client certificate is refused, at a tenant and at the national token server', async () => {
    const noCert = new Agent({ connect: { ca } });
    const cred = net.keys.credential(HOSPITAL);
    for (const tokenEndpoint of [`${net.url}/auth/gp/token`, nationalPaths(net.url).token('consent')]) {
      const assertion = await createClientAssertion({ clientId: HOSPITAL, tokenEndpoint, privateKey: cred.keyPem, kid: cred.kid, x5c: [pemToDer(cred.certPem).toString('base64')] });
      const scope = tokenEndpoint.includes('/national/') ? 'consent:check' : 'system/*.read';
      const res = await undiciFetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenRequestBody(assertion, scope), dispatcher: noCert });
      assert.equal(res.status, 401, tokenEndpoint);
      assert.match(((await res.json()) as { error_description: string }).error_description, /mutual TLS/);
    }
  });

  it('a bound token is refused on a connection with another certificate, or with none', async () => {
    const token = await net.tokens.authorization({ ura: HOSPITAL, tokenEndpoint: `${net.url}/auth/gp/token`, scope: 'system/*.read', person: { uziNr: '900012345', uziRolcode: '01.010' }, purposeOfUse: 'treatment', treatmentRelation: true });
    const url = `${net.url}/fhir/gp/Condition?patient.identifier=${encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`)}`;
    const other = await net.tokens.fetchFor(GP)(url, { headers: { authorization: token, accept: 'application/fhir+json' } });
    assert.equal(other.status, 401);
    assert.match(((await other.json()) as { issue: { diagnostics: string }[] }).issue[0].diagnostics, /another client certificate/);
    const none = await undiciFetch(url, { headers: { authorization: token, accept: 'application/fhir+json' }, dispatcher: new Agent({ connect: { ca } }) });
    assert.equal(none.status, 401);
    // The same token over the hospital's own certificate passes authentication (and then meets consent: none now).
    const own = await net.tokens.fetchFor(HOSPITAL)(url, { headers: { authorization: token, accept: 'application/fhir+json' } });
    assert.equal(own.status, 403);
  });
});
