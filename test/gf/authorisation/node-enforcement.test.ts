/**
 * The node's enforcement dependencies on a real node: the directory look-up is reused for its TTL only (and a
 * deregistered organisation loses access once it has passed), and the in-process consent question is asked on
 * every request (a revocation takes effect at once) and fails closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Consent } from 'fhir/r4';
import { LOCAL_DIRECTORY_TENANT, nodeEnforcement } from '../../../src/gf/authorisation/node-enforcement.ts';
import { ConsentRegistry, type DecideRequest } from '../../../src/gf/consent/registry.ts';
import { openNode, type ProviderNode } from '../../../src/node/provider-node.ts';
import type { FhirRequest, RequestScope } from '../../../src/server/types.ts';
import { freshEngine, type EngineTarget } from '../../helpers/engines.ts';
import { consent } from '../consent/helpers.ts';

const HOSPITAL = '90000002';
const BSN = '999911120';
const ADMIN = { ura: '00000000', role: 'admin' };

describe('node enforcement dependencies', () => {
  let target: EngineTarget;
  let node: ProviderNode;
  let registry: ConsentRegistry;
  const local: RequestScope = { tenant: LOCAL_DIRECTORY_TENANT, base: 'http://node.test/fhir/local-directory', strict: false };
  let directorySearches = 0;
  const dispatch = (scope: RequestScope, req: FhirRequest) => {
    if (scope.tenant === LOCAL_DIRECTORY_TENANT && req.path === 'Organization') directorySearches++;
    return node.dispatch(scope, req);
  };
  const putHospital = (active: boolean) =>
    node.dispatch(local, {
      method: 'PUT',
      path: `Organization/org-${HOSPITAL}`,
      query: [],
      headers: {},
      body: { resourceType: 'Organization', id: `org-${HOSPITAL}`, active, identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: HOSPITAL }], type: [{ coding: [{ system: 'http://nictiz.nl/fhir/NamingSystem/organization-type', code: 'V4' }] }] },
    });

  before(async () => {
    target = await freshEngine('sqlite');
    node = await openNode(target.opts);
    await node.tenants.ensure({ tenant: LOCAL_DIRECTORY_TENANT });
    registry = await ConsentRegistry.open({ dispatch: node.dispatch, tenants: node.tenants });
  });
  after(async () => {
    registry?.close();
    await node?.close();
    await target?.cleanup();
  });

  const deps = (o: { t: { now: number }; ttl?: number }) =>
    nodeEnforcement({
      baseUrl: () => 'http://node.test',
      jwks: { keys: [] },
      dispatch,
      consentBase: () => 'http://127.0.0.1:9/national/consent',
      consentAuthorization: () => 'Bearer unused',
      organisationTtlMs: o.ttl,
      localConsent: (q) => registry.decide(q),
      now: () => o.t.now,
    });

  it('reuses a directory look-up for its TTL, then looks again (a deregistered organisation loses access)', async () => {
    await putHospital(true);
    const t = { now: 0 };
    const d = deps({ t, ttl: 10_000 });
    directorySearches = 0;
    assert.deepEqual(await d.organisation(HOSPITAL), { organizationType: 'V4' });
    assert.deepEqual(await d.organisation(HOSPITAL), { organizationType: 'V4' });
    assert.equal(directorySearches, 1);
    await putHospital(false);
    t.now = 9_999;
    assert.deepEqual(await d.organisation(HOSPITAL), { organizationType: 'V4' }, 'within the TTL');
    t.now = 10_000;
    assert.equal(await d.organisation(HOSPITAL), undefined, 'after the TTL the replica is asked again');
    assert.equal(directorySearches, 2);
    // An unknown organisation is also kept for the TTL, so a stranger costs one look-up per TTL.
    assert.equal(await d.organisation('90000009'), undefined);
    assert.equal(await d.organisation('90000009'), undefined);
    assert.equal(directorySearches, 3);
  });

  it('organisationTtlMs: 0 looks up on every request', async () => {
    await putHospital(true);
    const d = deps({ t: { now: 0 }, ttl: 0 });
    directorySearches = 0;
    await d.organisation(HOSPITAL);
    await d.organisation(HOSPITAL);
    assert.equal(directorySearches, 2);
  });

  it('asks the in-process registry on every request: a revocation takes effect at once', async () => {
    const d = deps({ t: { now: 0 } });
    const q: DecideRequest = {
      patient: { bsn: BSN },
      holder: { ura: '90000001', organizationType: 'Z3' },
      consulter: { ura: HOSPITAL, organizationType: 'V4' },
      dataCategory: 'Condition',
      purpose: 'TREAT',
    };
    assert.notEqual((await d.consent(q)).decision, 'Permit');
    const created = await registry.create(consent({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }), ADMIN);
    assert.equal(created.status, 201);
    assert.equal((await d.consent(q)).decision, 'Permit');
    const stored = created.body as Consent;
    assert.equal((await registry.update(stored.id!, { ...stored, status: 'inactive' }, ADMIN)).status, 200);
    assert.notEqual((await d.consent(q)).decision, 'Permit');
  });

  it('fails closed when the registry refuses the question', async () => {
    const d = deps({ t: { now: 0 } });
    const bad = { patient: { bsn: '123' }, holder: { ura: '90000001' }, consulter: { ura: HOSPITAL }, dataCategory: 'Condition' } as DecideRequest;
    const res = await d.consent(bad);
    assert.equal(res.decision, 'Deny');
    assert.match(res.reason, /fail closed/);
  });
});
