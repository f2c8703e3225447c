/** batch and transaction bundles over HTTP, on every engine: atomicity, urn:uuid and conditional references. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineNames } from '../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engineNames()) {
  describe(`bundles (${engine})`, () => {
    let s: TestServer;
    let base: string;
    before(async () => {
      s = await startTestServer(engine);
      base = s.base('t1');
    });
    after(() => s.stop());

    it('commits a transaction with urn:uuid references and returns a transaction-response', async () => {
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:8c2f0f1e-0000-4000-8000-000000000001',
            resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'tx-1' }], name: [{ family: 'Visser' }] },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: 'urn:uuid:8c2f0f1e-0000-4000-8000-000000000002',
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
              subject: { reference: 'urn:uuid:8c2f0f1e-0000-4000-8000-000000000001' },
            },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      };
      const res = await fhir(base, { method: 'POST', body: bundle });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.type, 'transaction-response');
      assert.equal(res.json.entry.length, 2);
      assert.equal(res.json.entry[0].response.status, '201');
      const obsLocation = res.json.entry[1].response.location as string;
      const obs = await fhir(obsLocation.replace(/\/_history\/\d+$/, ''));
      const patientId = res.json.entry[0].response.location.split('/').at(-3);
      assert.equal(obs.json.subject.reference, `Patient/${patientId}`);
    });

    it('resolves conditional references and rolls back everything when one entry fails', async () => {
      const before = await fhir(`${base}/Observation?_total=accurate`);
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Observation', status: 'final', code: { text: 'ok' }, subject: { reference: 'Patient?identifier=urn:test|tx-1' } },
            request: { method: 'POST', url: 'Observation' },
          },
          { resource: { resourceType: 'Observation', status: 'not-a-status', code: { text: 'bad' } }, request: { method: 'POST', url: 'Observation' } },
        ],
      };
      const res = await fhir(base, { method: 'POST', body: bundle });
      assert.equal(res.status, 400);
      assert.equal(res.json.resourceType, 'OperationOutcome');
      const afterward = await fhir(`${base}/Observation?_total=accurate`);
      assert.equal(afterward.json.total, before.json.total);

      const good = await fhir(base, { method: 'POST', body: { ...bundle, entry: [bundle.entry[0]] } });
      assert.equal(good.status, 200, good.text);
      const created = await fhir(good.json.entry[0].response.location);
      assert.match(created.json.subject.reference, /^Patient\/[0-9a-f-]+$/);
    });

    it('refuses a conditional reference that matches nothing', async () => {
      const res = await fhir(base, {
        method: 'POST',
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:test|nobody' } }, request: { method: 'POST', url: 'Observation' } }],
        },
      });
      assert.equal(res.status, 412);
    });

    it('processes batch entries independently', async () => {
      const res = await fhir(base, {
        method: 'POST',
        body: {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            { resource: { resourceType: 'Patient', id: 'b1', name: [{ family: 'Bakker' }] }, request: { method: 'PUT', url: 'Patient/b1' } },
            { request: { method: 'GET', url: 'Patient/does-not-exist' } },
            { request: { method: 'GET', url: 'Patient/b1' } },
          ],
        },
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.type, 'batch-response');
      assert.deepEqual(res.json.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3)), ['201', '404', '200']);
      assert.equal(res.json.entry[1].response.outcome.resourceType, 'OperationOutcome');
      assert.equal(res.json.entry[2].resource.name[0].family, 'Bakker');
    });

    it('conditional create, update and delete', async () => {
      const body = { resourceType: 'Patient', identifier: [{ system: 'urn:cond', value: 'c1' }] };
      const first = await fhir(`${base}/Patient`, { method: 'POST', body, headers: { 'if-none-exist': 'identifier=urn:cond|c1' } });
      assert.equal(first.status, 201);
      const second = await fhir(`${base}/Patient`, { method: 'POST', body, headers: { 'if-none-exist': 'identifier=urn:cond|c1' } });
      assert.equal(second.status, 200);
      assert.equal(second.json.id, first.json.id);
      const upd = await fhir(`${base}/Patient?identifier=urn:cond|c1`, { method: 'PUT', body: { ...body, gender: 'male' } });
      assert.equal(upd.status, 200);
      assert.equal(upd.json.id, first.json.id);
      assert.equal(upd.json.meta.versionId, '2');
      const createdByUpdate = await fhir(`${base}/Patient?identifier=urn:cond|c2`, { method: 'PUT', body: { resourceType: 'Patient', identifier: [{ system: 'urn:cond', value: 'c2' }] } });
      assert.equal(createdByUpdate.status, 201);
      const del = await fhir(`${base}/Patient?identifier=urn:cond|c1`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal((await fhir(`${base}/Patient/${first.json.id}`)).status, 410);
      await fhir(`${base}/Patient`, { method: 'POST', body: { resourceType: 'Patient', identifier: [{ system: 'urn:cond', value: 'dup' }] } });
      await fhir(`${base}/Patient`, { method: 'POST', body: { resourceType: 'Patient', identifier: [{ system: 'urn:cond', value: 'dup' }] } });
      const multi = await fhir(`${base}/Patient`, { method: 'POST', body, headers: { 'if-none-exist': 'identifier=urn:cond|dup' } });
      assert.equal(multi.status, 412);
    });
  });
}
