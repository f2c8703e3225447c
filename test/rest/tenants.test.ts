/** No interaction crosses tenants: read, search, include, chain, _has, history, transaction references, $everything. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineNames } from '../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

const ids = (bundle: { entry?: { resource: { resourceType: string; id: string } }[] }) =>
  (bundle.entry ?? []).filter((e) => e.resource.resourceType !== 'OperationOutcome').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();

for (const engine of engineNames()) {
  describe(`tenant isolation (${engine})`, () => {
    let s: TestServer;
    const seen: Record<string, { patient: string; obs: string }> = {};
    before(async () => {
      s = await startTestServer(engine, { tenants: ['a', 'b'] });
      for (const t of ['a', 'b']) {
        const patient = { resourceType: 'Patient', id: `pat-${t}`, identifier: [{ system: 'urn:same', value: '42' }], name: [{ family: 'Gelijk' }] };
        await fhir(`${s.base(t)}/Patient/pat-${t}`, { method: 'PUT', body: patient });
        const obs = await fhir(`${s.base(t)}/Observation`, {
          method: 'POST',
          body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/pat-${t}` } },
        });
        seen[t] = { patient: `pat-${t}`, obs: obs.json.id };
      }
    });
    after(() => s.stop());

    it('reserved service tenants are not reachable through /fhir/{tenant}', async () => {
      await s.server.node.tenants.ensure({ tenant: 'national-directory' });
      const res = await fhir(`${s.base('national-directory')}/Organization`);
      assert.equal(res.status, 404);
      await assert.rejects(s.server.node.tenants.add({ tenant: 'local x' }));
    });

    it('read and vread of another tenant’s resource are 404', async () => {
      assert.equal((await fhir(`${s.base('b')}/Patient/pat-a`)).status, 404);
      assert.equal((await fhir(`${s.base('b')}/Patient/pat-a/_history/1`)).status, 404);
      assert.equal((await fhir(`${s.base('b')}/Observation/${seen.a.obs}`)).status, 404);
    });

    it('search, chain, _has, _include and _revinclude stay inside the tenant', async () => {
      const b = s.base('b');
      assert.deepEqual(ids((await fhir(`${b}/Patient?identifier=urn:same|42`)).json), ['Patient/pat-b']);
      assert.deepEqual(ids((await fhir(`${b}/Observation?subject=Patient/pat-a`)).json), []);
      assert.deepEqual(ids((await fhir(`${b}/Observation?subject.identifier=urn:same|42`)).json), [`Observation/${seen.b.obs}`]);
      assert.deepEqual(ids((await fhir(`${b}/Patient?_has:Observation:subject:code=8867-4`)).json), ['Patient/pat-b']);
      assert.deepEqual(ids((await fhir(`${b}/Observation?_include=Observation:subject`)).json), [`Observation/${seen.b.obs}`, 'Patient/pat-b']);
      assert.deepEqual(ids((await fhir(`${b}/Patient?_revinclude=Observation:subject`)).json), [`Observation/${seen.b.obs}`, 'Patient/pat-b']);
      assert.deepEqual(ids((await fhir(`${b}?_type=Patient,Observation`)).json), [`Observation/${seen.b.obs}`, 'Patient/pat-b']);
    });

    it('history and $everything stay inside the tenant', async () => {
      const b = s.base('b');
      const hist = await fhir(`${b}/_history`);
      assert.ok(hist.json.entry.every((e: { fullUrl: string }) => e.fullUrl.startsWith(`${b}/`)));
      assert.deepEqual(
        hist.json.entry.map((e: { resource: { id: string } }) => e.resource.id).sort(),
        [seen.b.obs, 'pat-b'].sort(),
      );
      assert.equal((await fhir(`${b}/Patient/pat-a/_history`)).status, 404);
      const everything = await fhir(`${b}/Patient/pat-a/$everything`);
      assert.deepEqual(ids(everything.json ?? {}), []);
      assert.deepEqual(ids((await fhir(`${b}/Patient/pat-b/$everything`)).json), [`Observation/${seen.b.obs}`, 'Patient/pat-b']);
    });

    it('transaction references resolve inside the tenant only', async () => {
      const res = await fhir(s.base('b'), {
        method: 'POST',
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:same|42' } },
              request: { method: 'POST', url: 'Observation' },
            },
          ],
        },
      });
      assert.equal(res.status, 200, res.text);
      const created = await fhir(res.json.entry[0].response.location);
      assert.equal(created.json.subject.reference, 'Patient/pat-b');
      // A conditional update in b never touches a's resource with the same identifier.
      const upd = await fhir(`${s.base('b')}/Patient?identifier=urn:same|42`, { method: 'PUT', body: { resourceType: 'Patient', identifier: [{ system: 'urn:same', value: '42' }], gender: 'male' } });
      assert.equal(upd.json.id, 'pat-b');
      assert.equal((await fhir(`${s.base('a')}/Patient/pat-a`)).json.gender, undefined);
    });
  });
}
