/** The update client: paged initial load, restart with a persisted watermark, version guard, dangling references, Retry-After. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Endpoint, Organization, Resource } from 'fhir/r4';
import { openNode, type ProviderNode } from '../../../src/node/provider-node.ts';
import { DirectoryUpdateClient } from '../../../src/gf/addressing/update-client.ts';
import { findEndpoint } from '../../../src/gf/addressing/replica.ts';
import { publish, type OrganisationEntries } from '../../../src/gf/addressing/publisher.ts';
import { retryAfterMs } from '../../../src/gf/addressing/http.ts';
import { DATA_CATEGORY_SYSTEM, URA_SYSTEM, LOCAL_DIRECTORY_TENANT, NATIONAL_DIRECTORY_TENANT } from '../../../src/gf/addressing/constants.ts';
import { isRaw, type RequestScope } from '../../../src/server/types.ts';
import { engineNames, freshEngine, type EngineTarget } from '../../helpers/engines.ts';
import { startFakeDirectory, startTestDirectory, tokenFor, type TestDirectory } from './support.ts';

const orgs: OrganisationEntries[] = Array.from({ length: 5 }, (_, i) => ({
  ura: `1000000${i}`,
  name: `Praktijk ${i}`,
  organizationType: { code: 'Z3' },
  fhirBase: `https://node.example/fhir/gp${i}`,
  endpoints: [{ key: 'fhir', payloadTypes: ['MedicationUse'] }],
}));

const local: RequestScope = { tenant: LOCAL_DIRECTORY_TENANT, base: 'urn:test', strict: false };
async function replicaSearch<T extends Resource>(node: ProviderNode, type: string, query: [string, string][] = []): Promise<T[]> {
  const res = await node.dispatch(local, { method: 'GET', path: type, query: [...query, ['_count', '1000']], headers: {} });
  const b = (isRaw(res.body!) ? JSON.parse(res.body.raw) : res.body) as Bundle;
  return (b.entry ?? []).map((e) => e.resource as T);
}

/** Records the URLs the client asks for. */
function recordingFetch(urls: string[]): typeof fetch {
  return (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
}

for (const db of engineNames()) describe(`directory update client on ${db}`, () => {
  let dir: TestDirectory;
  let target: EngineTarget;
  let node: ProviderNode;

  before(async () => {
    dir = await startTestDirectory(db);
    for (const o of orgs) await publish(dir.base, o, { authorization: () => tokenFor(o.ura) });
    target = await freshEngine(db);
    node = await openNode(target.opts);
  });
  after(async () => {
    await node.close();
    await dir.stop();
    await target.cleanup();
  });

  const client = (urls: string[], extra: Partial<ConstructorParameters<typeof DirectoryUpdateClient>[0]> = {}) =>
    new DirectoryUpdateClient({ directoryBase: dir.base, dispatch: node.dispatch, pageSize: 2, http: { authorization: () => tokenFor('99999999'), fetch: recordingFetch(urls) }, ...extra });

  it('loads everything initially over several pages (Bundle.link[next])', async () => {
    const urls: string[] = [];
    const report = await client(urls).sync();
    assert.equal(report.types.Organization?.mode, 'initial');
    assert.ok(report.types.Organization!.pages >= 3, `pages: ${report.types.Organization!.pages}`);
    assert.equal(report.types.Organization!.applied, 5);
    assert.equal(report.types.Endpoint!.applied, 5);
    assert.ok(urls.some((u) => u.includes('_cursor=')), 'followed next links');
    assert.ok(urls.every((u) => !u.includes('_history')), 'no history during the initial load');
    const replicated = await replicaSearch<Organization>(node, 'Organization');
    assert.deepEqual(replicated.map((o) => o.name).sort(), orgs.map((o) => o.name));
    assert.match(replicated[0].meta!.source!, new RegExp(`^${dir.base}/Organization/[^/]+/_history/1$`));
    assert.deepEqual(report.dangling, []);
  });

  it('lets endpoint choice work on the replica', async () => {
    const choice = await findEndpoint(node.dispatch, orgs[2].ura, { payloadType: 'MedicationUse' });
    assert.equal(choice.endpoint?.address, orgs[2].fhirBase);
    const none = await findEndpoint(node.dispatch, orgs[2].ura, { payloadType: 'ObservationLaboratory' });
    assert.equal(none.endpoint, undefined);
  });

  it('continues after a restart from the persisted watermark, without loading everything again', async () => {
    // A new node instance on the same database file, and a new client.
    await node.close();
    node = await openNode(target.opts);
    const urls: string[] = [];
    const c = client(urls);
    const marks = await c.watermarks();
    assert.ok(marks.Organization && marks.Endpoint, 'watermarks persisted');
    const quiet = await c.sync();
    assert.equal(quiet.types.Organization!.mode, 'incremental');
    assert.ok(urls.length > 0 && urls.every((u) => u.includes('/_history?') || u.includes('_cursor=')), `only history requests: ${urls.join(' ')}`);
    assert.ok(urls.every((u) => !/\/Organization\?_count/.test(u)));
    assert.equal(quiet.types.Organization!.applied, 0, 'nothing new: what the overlap window re-reads is already there');

    // A status change in the directory arrives incrementally.
    await publish(dir.base, { ...orgs[1], endpoints: [{ key: 'fhir', payloadTypes: ['MedicationUse'], status: 'off' }] }, { authorization: () => tokenFor(orgs[1].ura) });
    const update = await c.sync();
    assert.equal(update.types.Endpoint!.applied, 1);
    const eps = (await replicaSearch<Endpoint>(node, 'Endpoint')).filter((e) => e.address === orgs[1].fhirBase);
    assert.equal(eps.length, 1);
    assert.equal(eps[0].status, 'off');
    assert.equal((await findEndpoint(node.dispatch, orgs[1].ura, { payloadType: 'MedicationUse' })).endpoint, undefined);
    const m2 = await c.watermarks();
    assert.ok(Date.parse(m2.Endpoint!) >= Date.parse(marks.Endpoint!), 'the watermark moves forward');
  });

  it('never lets an older version overwrite a newer one (pages of one, newest first)', async () => {
    await publish(dir.base, { ...orgs[3], name: 'Praktijk 3 renamed' }, { authorization: () => tokenFor(orgs[3].ura) });
    const c = client([], { pageSize: 1 });
    const r1 = await c.sync();
    assert.ok(r1.types.Organization!.applied >= 1);
    // Again: the overlap window brings version 1 and 2 back, one per page.
    const r2 = await c.sync();
    assert.equal(r2.types.Organization!.applied, 0);
    assert.ok(r2.types.Organization!.unchanged >= 2);
    const [o3] = await replicaSearch<Organization>(node, 'Organization', [['identifier', `${URA_SYSTEM}|${orgs[3].ura}`]]);
    assert.equal(o3.name, 'Praktijk 3 renamed');
    assert.match(o3.meta!.source!, /_history\/2$/);
  });

  it('stores an entry whose Organization has not arrived yet, and resolves it once it has', async () => {
    const national: RequestScope = { tenant: NATIONAL_DIRECTORY_TENANT, base: dir.base, strict: false };
    // Written straight into the directory's store (as an import would), Organization/late does not exist yet.
    await dir.node.dispatch(national, {
      method: 'PUT',
      path: 'Endpoint/late-ep',
      query: [],
      headers: {},
      body: { resourceType: 'Endpoint', id: 'late-ep', status: 'active', connectionType: { code: 'hl7-fhir-rest' }, payloadType: [{ coding: [{ system: DATA_CATEGORY_SYSTEM, code: 'Condition' }] }], address: 'https://late.example/fhir', managingOrganization: { reference: 'Organization/late' } },
    });
    const c = client([]);
    const r1 = await c.sync();
    assert.deepEqual(r1.dangling, ['Organization/late']);
    assert.equal((await replicaSearch<Endpoint>(node, 'Endpoint', [['_id', 'late-ep']])).length, 1, 'stored although dangling');
    assert.equal((await findEndpoint(node.dispatch, '30000000', { payloadType: 'Condition' })).endpoint, undefined);

    await dir.node.dispatch(national, {
      method: 'PUT',
      path: 'Organization/late',
      query: [],
      headers: {},
      body: { resourceType: 'Organization', id: 'late', active: true, name: 'Late', identifier: [{ system: URA_SYSTEM, value: '30000000' }] },
    });
    const r2 = await c.sync();
    assert.equal(r2.types.Organization!.applied, 1);
    const choice = await findEndpoint(node.dispatch, '30000000', { payloadType: 'Condition' });
    assert.equal(choice.endpoint?.id, 'late-ep');
  });

  it('runs one sync at a time: a second call joins the running one', async () => {
    const c = client([]);
    const a = c.sync();
    const b = c.sync();
    assert.equal(a, b);
    await a;
    const d = c.sync();
    assert.notEqual(d, a);
    await d;
  });
});

describe('update client against a scripted directory', () => {
  const searchset = (base: string, entries: Resource[], next?: string): Bundle => ({
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { lastUpdated: '2025-06-01T12:00:00.000Z' },
    link: [{ relation: 'self', url: base }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: entries.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' as const } })),
  });

  it('honours Retry-After on 503 and 429 before trying again', async () => {
    const fake = await startFakeDirectory([
      () => ({ status: 503, headers: { 'retry-after': '7' }, body: { resourceType: 'OperationOutcome', issue: [] } }),
      () => ({ status: 429, headers: { 'retry-after': '2' } }),
      (url) => ({ status: 200, body: searchset(url, [{ resourceType: 'Organization', id: 'o1', meta: { versionId: '1' }, name: 'One' } as Organization]) }),
    ]);
    const target = await freshEngine('sqlite');
    const node = await openNode(target.opts);
    try {
      const slept: number[] = [];
      const c = new DirectoryUpdateClient({ directoryBase: fake.base, dispatch: node.dispatch, types: ['Organization'], http: { sleep: async (ms) => void slept.push(ms) } });
      const report = await c.sync();
      assert.deepEqual(slept, [7000, 2000]);
      assert.equal(fake.urls.length, 3);
      assert.equal(report.types.Organization!.applied, 1);
      assert.equal(report.types.Organization!.watermark, new Date(Date.parse('2025-06-01T12:00:00.000Z') - 30_000).toISOString(), "watermark from the directory's clock minus the overlap");
    } finally {
      await node.close();
      await fake.close();
      await target.cleanup();
    }
  });

  it('gives up after maxAttempts and keeps the old watermark', async () => {
    const fake = await startFakeDirectory([() => ({ status: 503 })]);
    const target = await freshEngine('sqlite');
    const node = await openNode(target.opts);
    try {
      const c = new DirectoryUpdateClient({ directoryBase: fake.base, dispatch: node.dispatch, types: ['Organization'], http: { sleep: async () => undefined, maxAttempts: 3 } });
      await assert.rejects(c.sync(), /503/);
      assert.equal(fake.urls.length, 3);
      assert.deepEqual(await c.watermarks(), {});
    } finally {
      await node.close();
      await fake.close();
      await target.cleanup();
    }
  });

  it('applies a delete and keeps it against an older version arriving later (tombstone)', async () => {
    const org = (v: string, name: string): Organization => ({ resourceType: 'Organization', id: 'o1', meta: { versionId: v }, name });
    const history = (url: string, entries: NonNullable<Bundle['entry']>): Bundle => ({ resourceType: 'Bundle', type: 'history', meta: { lastUpdated: '2025-06-02T00:00:00Z' }, link: [{ relation: 'self', url }], entry: entries });
    const fake = await startFakeDirectory([
      (url) => ({ status: 200, body: searchset(url, [org('2', 'Two')]) }),
      (url) => ({ status: 200, body: history(url, [{ fullUrl: 'x/Organization/o1', request: { method: 'DELETE', url: 'Organization/o1' }, response: { status: '204', etag: 'W/"3"' } }]) }),
      (url) => ({ status: 200, body: history(url, [{ fullUrl: 'x/Organization/o1', resource: org('2', 'Two again'), request: { method: 'PUT', url: 'Organization/o1' }, response: { status: '200', etag: 'W/"2"' } }]) }),
    ]);
    const target = await freshEngine('sqlite');
    const node = await openNode(target.opts);
    try {
      const c = new DirectoryUpdateClient({ directoryBase: fake.base, dispatch: node.dispatch, types: ['Organization'] });
      await c.sync();
      assert.equal((await replicaSearch<Organization>(node, 'Organization')).length, 1);
      const del = await c.sync();
      assert.equal(del.types.Organization!.applied, 1);
      assert.equal((await replicaSearch<Organization>(node, 'Organization')).length, 0);
      const stale = await c.sync();
      assert.equal(stale.types.Organization!.applied, 0);
      assert.equal(stale.types.Organization!.unchanged, 1);
      assert.equal((await replicaSearch<Organization>(node, 'Organization')).length, 0, 'an older version does not bring a deleted entry back');
      assert.ok(fake.urls[1].includes('/Organization/_history?_since='), fake.urls[1]);
    } finally {
      await node.close();
      await fake.close();
      await target.cleanup();
    }
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs('Sun, 01 Jun 2025 12:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Sun, 01 Jun 2025 11:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(null, now), undefined);
  });
});
