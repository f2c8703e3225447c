/** Real external FHIR clients against the server: fhir-kit-client and SMART's fhirclient (FhirClient). */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const require = createRequire(import.meta.url);
// fhirclient is CommonJS; its Node entry exposes the plain FhirClient class for server-to-server use.
const { FhirClient } = require('fhirclient') as {
  FhirClient: new (url: string) => {
    create(r: object): Promise<{ id: string; resourceType: string }>;
    update(r: object): Promise<Record<string, unknown>>;
    delete(ref: string): Promise<unknown>;
    fhirRequest<T = Record<string, unknown>>(url: string): Promise<T>;
    patch(url: string, patch: object[]): Promise<Record<string, unknown>>;
    resources(url: string): AsyncGenerator<{ resourceType: string }>;
    getFhirVersion(): Promise<string>;
  };
};

describe('external FHIR clients', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer('sqlite');
  });
  after(() => s.stop());

  it('fhir-kit-client: capability, create, read, search with paging, update, delete', async () => {
    const client = new Client({ baseUrl: s.base('t1') });
    const cs = (await client.capabilityStatement()) as unknown as { fhirVersion: string };
    assert.equal(cs.fhirVersion, '4.0.1');
    for (let i = 0; i < 5; i++) {
      await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: `Kit${i}` }], gender: 'male' } });
    }
    const first = (await client.search({ resourceType: 'Patient', searchParams: { gender: 'male', _count: 2 } })) as unknown as { entry: unknown[]; link: unknown[] };
    assert.equal(first.entry.length, 2);
    let seen = first.entry.length;
    let page = first;
    while (true) {
      const next = (await client.nextPage({ bundle: page as never })) as unknown as typeof first | undefined;
      if (!next || !next.entry || next.entry.length === 0) break;
      seen += next.entry.length;
      page = next;
    }
    assert.equal(seen, 5);
    const created = (await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', active: true } })) as unknown as { id: string };
    const read = (await client.read({ resourceType: 'Patient', id: created.id })) as unknown as { active: boolean };
    assert.equal(read.active, true);
    const updated = (await client.update({ resourceType: 'Patient', id: created.id, body: { resourceType: 'Patient', id: created.id, active: false } })) as unknown as { meta: { versionId: string } };
    assert.equal(updated.meta.versionId, '2');
    await client.delete({ resourceType: 'Patient', id: created.id });
    await assert.rejects(client.read({ resourceType: 'Patient', id: created.id }), (e: { response?: { status: number } }) => e.response?.status === 410);
  });

  it('fhirclient (SMART): version, create, read, update, patch, search, delete', async () => {
    const client = new FhirClient(s.base('t2'));
    assert.equal(await client.getFhirVersion(), '4.0.1');
    const created = await client.create({ resourceType: 'Observation', status: 'final', code: { text: 'gewicht' }, valueQuantity: { value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } });
    assert.equal(created.resourceType, 'Observation');
    const read = await client.fhirRequest(`Observation/${created.id}`);
    assert.equal((read.valueQuantity as { value: number }).value, 72.5);
    const updated = await client.update({ ...read, status: 'amended' } as never);
    assert.equal(updated.status, 'amended');
    const patched = await client.patch(`Observation/${created.id}`, [{ op: 'replace', path: '/status', value: 'corrected' }]);
    assert.equal(patched.status, 'corrected');
    const bundle = await client.fhirRequest<{ entry?: unknown[] }>('Observation?value-quantity=gt70|http://unitsofmeasure.org|kg');
    assert.equal(bundle.entry?.length, 1);
    const all: string[] = [];
    for await (const r of client.resources('Observation')) all.push(r.resourceType);
    assert.deepEqual(all, ['Observation']);
    await client.delete(`Observation/${created.id}`);
    const after = await client.fhirRequest<{ entry?: unknown[] }>('Observation?value-quantity=gt70');
    assert.equal(after.entry?.length ?? 0, 0);
  });
});
