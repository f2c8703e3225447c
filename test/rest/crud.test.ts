/** REST interactions over real HTTP, on every engine: CRUD, versions, conditional ops, patch, history, errors. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineNames } from '../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

const patient = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999911120' }],
  name: [{ family: 'Jansen', given: ['Anna'] }],
  gender: 'female',
  birthDate: '1970-03-04',
  ...extra,
});

for (const engine of engineNames()) {
  describe(`REST interactions (${engine})`, () => {
    let s: TestServer;
    let base: string;
    before(async () => {
      s = await startTestServer(engine);
      base = s.base('t1');
    });
    after(() => s.stop());

    it('creates, reads, updates, vreads and deletes with versions, ETag and Location', async () => {
      const created = await fhir(`${base}/Patient`, { method: 'POST', body: patient({ id: 'ignored' }) });
      assert.equal(created.status, 201);
      const id = created.json.id as string;
      assert.notEqual(id, 'ignored');
      assert.equal(created.headers.get('etag'), 'W/"1"');
      assert.equal(created.headers.get('location'), `${base}/Patient/${id}/_history/1`);
      assert.ok(created.headers.get('last-modified'));
      assert.equal(created.json.meta.versionId, '1');

      const read = await fhir(`${base}/Patient/${id}`);
      assert.equal(read.status, 200);
      assert.equal(read.json.name[0].family, 'Jansen');
      assert.match(read.headers.get('content-type') ?? '', /application\/fhir\+json/);

      const updated = await fhir(`${base}/Patient/${id}`, { method: 'PUT', body: { ...read.json, gender: 'other' }, headers: { 'if-match': 'W/"1"' } });
      assert.equal(updated.status, 200);
      assert.equal(updated.json.meta.versionId, '2');

      const stale = await fhir(`${base}/Patient/${id}`, { method: 'PUT', body: { ...read.json, gender: 'male' }, headers: { 'if-match': 'W/"1"' } });
      assert.equal(stale.status, 412);
      assert.equal(stale.json.resourceType, 'OperationOutcome');

      const v1 = await fhir(`${base}/Patient/${id}/_history/1`);
      assert.equal(v1.json.gender, 'female');
      const v2 = await fhir(`${base}/Patient/${id}/_history/2`);
      assert.equal(v2.json.gender, 'other');

      const del = await fhir(`${base}/Patient/${id}`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      const gone = await fhir(`${base}/Patient/${id}`);
      assert.equal(gone.status, 410);
      assert.equal(gone.json.issue[0].code, 'deleted');

      const hist = await fhir(`${base}/Patient/${id}/_history`);
      assert.equal(hist.json.type, 'history');
      assert.deepEqual(hist.json.entry.map((e: { request: { method: string } }) => e.request.method), ['DELETE', 'PUT', 'POST']);
    });

    it('update-as-create with a client id, and Prefer return=minimal|OperationOutcome', async () => {
      const put = await fhir(`${base}/Patient/client-1`, { method: 'PUT', body: patient({ id: 'client-1' }), headers: { prefer: 'return=minimal' } });
      assert.equal(put.status, 201);
      assert.equal(put.text, '');
      const again = await fhir(`${base}/Patient/client-1`, { method: 'PUT', body: patient({ id: 'client-1', gender: 'male' }), headers: { prefer: 'return=OperationOutcome' } });
      assert.equal(again.status, 200);
      assert.equal(again.json.resourceType, 'OperationOutcome');
    });

    it('an update that changes nothing keeps the version', async () => {
      const first = await fhir(`${base}/Patient/same-1`, { method: 'PUT', body: patient({ id: 'same-1' }) });
      assert.equal(first.json.meta.versionId, '1');
      const again = await fhir(`${base}/Patient/same-1`, { method: 'PUT', body: first.json });
      assert.equal(again.status, 200);
      assert.equal(again.json.meta.versionId, '1');
      const hist = await fhir(`${base}/Patient/same-1/_history`);
      assert.equal(hist.json.entry.length, 1);
      const changed = await fhir(`${base}/Patient/same-1`, { method: 'PUT', body: { ...first.json, active: true } });
      assert.equal(changed.json.meta.versionId, '2');
    });

    it('answers 404 for unknown ids, types and tenants, 405 for wrong methods', async () => {
      assert.equal((await fhir(`${base}/Patient/nope`)).status, 404);
      const badType = await fhir(`${base}/Patientx/1`);
      assert.equal(badType.status, 404);
      assert.equal(badType.json.resourceType, 'OperationOutcome');
      assert.equal((await fhir(`${s.base('nobody')}/Patient`)).status, 404);
      assert.equal((await fhir(`${base}/Patient/x/_history`, { method: 'DELETE' })).status, 405);
    });

    it('rejects bad input with an OperationOutcome naming the element, and stores nothing', async () => {
      const notJson = await fhir(`${base}/Patient`, { method: 'POST', body: '{"resourceType": "Patient",' });
      assert.equal(notJson.status, 400);
      const wrongType = await fhir(`${base}/Observation`, { method: 'POST', body: patient() });
      assert.equal(wrongType.status, 400);
      assert.deepEqual(wrongType.json.issue[0].expression, ['resourceType']);
      const badDate = await fhir(`${base}/Patient`, { method: 'POST', body: patient({ birthDate: '1970-13-45' }) });
      assert.equal(badDate.status, 400);
      assert.ok(badDate.json.issue.some((i: { expression?: string[] }) => i.expression?.some((e) => e.includes('birthDate'))));
      const unknownElement = await fhir(`${base}/Patient`, { method: 'POST', body: patient({ favouriteColour: 'blue' }) });
      assert.equal(unknownElement.status, 400);
      const idMismatch = await fhir(`${base}/Patient/a1`, { method: 'PUT', body: patient({ id: 'b2' }) });
      assert.equal(idMismatch.status, 400);
      const unsupported = await fhir(`${base}/Patient`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
      assert.equal(unsupported.status, 415);
      assert.equal(unsupported.json.resourceType, 'OperationOutcome');
      assert.equal((await fhir(`${base}/Patient/a1`)).status, 404);
    });

    it('patches with JSON Patch and FHIRPath Patch', async () => {
      await fhir(`${base}/Patient/p1`, { method: 'PUT', body: patient({ id: 'p1' }) });
      const jp = await fhir(`${base}/Patient/p1`, {
        method: 'PATCH',
        body: [{ op: 'replace', path: '/gender', value: 'male' }],
        headers: { 'content-type': 'application/json-patch+json' },
      });
      assert.equal(jp.status, 200);
      assert.equal(jp.json.gender, 'male');
      const fp = await fhir(`${base}/Patient/p1`, {
        method: 'PATCH',
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.birthDate' }, { name: 'value', valueDate: '1971-01-01' }] },
            { name: 'operation', part: [{ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'active' }, { name: 'value', valueBoolean: true }] },
          ],
        },
      });
      assert.equal(fp.status, 200, fp.text);
      assert.equal(fp.json.birthDate, '1971-01-01');
      assert.equal(fp.json.active, true);
      assert.equal(fp.json.meta.versionId, '3');
      const badPatch = await fhir(`${base}/Patient/p1`, {
        method: 'PATCH',
        body: [{ op: 'replace', path: '/birthDate', value: 'not-a-date' }],
        headers: { 'content-type': 'application/json-patch+json' },
      });
      assert.equal(badPatch.status, 400);
      assert.equal((await fhir(`${base}/Patient/p1`)).json.birthDate, '1971-01-01');
    });

    it('serves the CapabilityStatement', async () => {
      const cs = await fhir(`${base}/metadata`);
      assert.equal(cs.status, 200);
      assert.equal(cs.json.resourceType, 'CapabilityStatement');
      assert.equal(cs.json.fhirVersion, '4.0.1');
      const obs = cs.json.rest[0].resource.find((r: { type: string }) => r.type === 'Observation');
      assert.ok(obs.searchParam.some((p: { name: string }) => p.name === 'code'));
      const mr = cs.json.rest[0].resource.find((r: { type: string }) => r.type === 'MedicationRequest');
      assert.ok(mr.searchParam.some((p: { name: string }) => p.name === 'period-of-use'));
    });
  });
}
