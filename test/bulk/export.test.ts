/**
 * Bulk export against the FHIR Bulk Data Access IG (v2), spoken over HTTP only: kick-off with
 * Prefer: respond-async, poll the Content-Location until 200, download every output file, count per type.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineNames, freshEngine } from '../helpers/engines.ts';
import { type BulkTestServer, countsOf, exportAll, http, kickOff, type Manifest, poll, putAll, startBulkServer } from './helpers.ts';

const patient = (id: string, family: string) => ({ resourceType: 'Patient', id, name: [{ family }] });
const obs = (id: string, pid: string, code: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code }] },
  subject: { reference: `Patient/${pid}` },
});

const DATA = [
  patient('p1', 'Jansen'),
  patient('p2', 'de Vries'),
  patient('p3', 'Bakker'),
  obs('o1', 'p1', '8867-4'),
  obs('o2', 'p1', '8480-6'),
  obs('o3', 'p2', '8867-4'),
  obs('o4', 'p3', '8867-4'),
  { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' } },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p3' } },
  { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Smit' }] },
  { resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' } }] },
];

for (const db of engineNames()) {
  describe(`bulk export (${db})`, () => {
    let s: BulkTestServer;
    before(async () => {
      s = await startBulkServer(db, { tenants: ['t1', 't2'] });
      await putAll(s.base('t1'), DATA);
      await putAll(s.base('t2'), [patient('other', 'Elders')]);
    });
    after(() => s.stop());

    it('system export: manifest per the IG, NDJSON files, every resource once', async () => {
      const { manifest, byType, contentTypes } = await exportAll(`${s.base('t1')}/$export`);
      assert.deepEqual(countsOf(byType), { Condition: 1, Encounter: 1, Group: 1, Observation: 4, Patient: 3, Practitioner: 1 });
      assert.deepEqual([...contentTypes], ['application/fhir+ndjson']);
      assert.match(manifest.transactionTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(manifest.request, `${s.base('t1')}/$export`);
      assert.equal(manifest.requiresAccessToken, false);
      assert.deepEqual(manifest.error, []);
      for (const o of manifest.output) {
        assert.ok(o.url.startsWith(`${s.base('t1')}/`), o.url);
        assert.equal(o.count, byType.get(o.type)!.length);
      }
      const ids = (byType.get('Patient') as { id: string; meta: { versionId: string } }[]).map((p) => p.id).sort();
      assert.deepEqual(ids, ['p1', 'p2', 'p3'], 'no other tenant’s patients');
    });

    it('_type restricts the types; _outputFormat accepts the ndjson aliases', async () => {
      for (const fmt of ['application/fhir+ndjson', 'application/ndjson', 'ndjson']) {
        const { byType } = await exportAll(`${s.base('t1')}/$export?_type=Patient,Observation&_outputFormat=${encodeURIComponent(fmt)}`);
        assert.deepEqual(countsOf(byType), { Observation: 4, Patient: 3 });
      }
    });

    it('POST kick-off with a Parameters body', async () => {
      const body = {
        resourceType: 'Parameters',
        parameter: [
          { name: '_type', valueString: 'Patient' },
          { name: '_outputFormat', valueString: 'application/fhir+ndjson' },
        ],
      };
      const { byType, manifest } = await exportAll(`${s.base('t1')}/$export`, { method: 'POST', body });
      assert.deepEqual(countsOf(byType), { Patient: 3 });
      assert.equal(manifest.request, `${s.base('t1')}/$export`);
    });

    it('_since: only what changed after an earlier export’s transactionTime', async () => {
      const first = await exportAll(`${s.base('t1')}/$export?_type=Observation`);
      await putAll(s.base('t1'), [{ ...obs('o2', 'p1', '8480-6'), status: 'amended' }, obs('o5', 'p2', '8310-5')]);
      const { byType } = await exportAll(`${s.base('t1')}/$export?_since=${encodeURIComponent(first.manifest.transactionTime)}`);
      assert.deepEqual(countsOf(byType), { Observation: 2 });
      assert.deepEqual((byType.get('Observation') as { id: string }[]).map((o) => o.id).sort(), ['o2', 'o5']);
    });

    it('_typeFilter: search queries per type (several are OR-ed; types without a filter are whole)', async () => {
      const f = encodeURIComponent('Observation?code=http://loinc.org|8867-4');
      const { byType } = await exportAll(`${s.base('t1')}/$export?_type=Observation,Patient&_typeFilter=${f}`);
      assert.deepEqual((byType.get('Observation') as { id: string }[]).map((o) => o.id).sort(), ['o1', 'o3', 'o4']);
      assert.equal(byType.get('Patient')!.length, 3);
      const two = `_typeFilter=${encodeURIComponent('Observation?subject=Patient/p3')}&_typeFilter=${encodeURIComponent('Observation?code=8867-4,8480-6&subject=Patient/p1')}`;
      const r2 = await exportAll(`${s.base('t1')}/$export?_type=Observation&${two}`);
      assert.deepEqual((r2.byType.get('Observation') as { id: string }[]).map((o) => o.id).sort(), ['o1', 'o2', 'o4']);
      const bad = await kickOff(`${s.base('t1')}/$export?_typeFilter=${encodeURIComponent('Observation?nonsense-param=1')}`);
      assert.equal(bad.status, 400);
    });

    it('Patient/$export: the Patient compartment of all patients, not other resources', async () => {
      const { byType, manifest } = await exportAll(`${s.base('t1')}/Patient/$export`);
      assert.equal(manifest.request, `${s.base('t1')}/Patient/$export`);
      // R4's Patient compartment holds Group (by member) but not Practitioner.
      assert.ok(!byType.has('Practitioner'), `types: ${[...byType.keys()]}`);
      assert.equal(byType.get('Group')!.length, 1);
      assert.equal(byType.get('Patient')!.length, 3);
      assert.equal(byType.get('Condition')!.length, 1);
      assert.equal(byType.get('Encounter')!.length, 1);
      assert.ok(byType.get('Observation')!.length >= 4);
    });

    it('Group/[id]/$export: only the members and their compartments', async () => {
      const { byType } = await exportAll(`${s.base('t1')}/Group/g1/$export?_type=Patient,Observation,Encounter,Condition`);
      assert.deepEqual((byType.get('Patient') as { id: string }[]).map((p) => p.id).sort(), ['p1', 'p2']);
      const subjects = (byType.get('Observation') as { subject: { reference: string } }[]).map((o) => o.subject.reference);
      assert.ok(subjects.length >= 3 && subjects.every((r) => r === 'Patient/p1' || r === 'Patient/p2'), subjects.join());
      assert.ok(!byType.has('Encounter'), 'p3’s encounter is not exported');
      assert.equal(byType.get('Condition')!.length, 1);
      const missing = await kickOff(`${s.base('t1')}/Group/nope/$export`);
      assert.equal(missing.status, 404);
    });

    it('kick-off errors: no Prefer: respond-async, bad _outputFormat, unknown _type, bad _since (OperationOutcome with expression)', async () => {
      const cases: [string, Record<string, string>, string][] = [
        ['$export', { prefer: '' }, 'Prefer'],
        ['$export?_outputFormat=text/csv', {}, '_outputFormat'],
        ['$export?_type=Patient,Nonsense', {}, '_type'],
        ['$export?_since=yesterday', {}, '_since'],
      ];
      for (const [path, headers, expr] of cases) {
        const r = await kickOff(`${s.base('t1')}/${path}`, { headers });
        assert.equal(r.status, 400, path);
        const oo = r.body as { resourceType: string; issue: { expression?: string[] }[] };
        assert.equal(oo.resourceType, 'OperationOutcome');
        assert.deepEqual(oo.issue[0].expression, [expr], path);
        assert.equal(r.location, undefined);
      }
      const unknownJob = await http(`${s.base('t1')}/$bulk-status/00000000-0000-0000-0000-000000000000`);
      assert.equal(unknownJob.status, 404);
    });

    it('cancel: DELETE on the status URL answers 202; afterwards status and files are gone', async () => {
      const k = await kickOff(`${s.base('t1')}/$export`);
      assert.equal(k.status, 202);
      const del = await http(k.location!, { method: 'DELETE' });
      assert.equal(del.status, 202);
      assert.equal((await http(k.location!)).status, 404);
      assert.equal((await http(k.location!, { method: 'DELETE' })).status, 404);
      // A finished job can be deleted the same way, and its files go with it.
      const done = await exportAll(`${s.base('t1')}/$export?_type=Patient`);
      const statusUrl = done.manifest.output[0].url.replace(/\$bulk-file\/([^/]+)\/.*/, '$bulk-status/$1');
      assert.equal((await http(statusUrl, { method: 'DELETE' })).status, 202);
      assert.equal((await http(done.manifest.output[0].url)).status, 404);
      assert.equal((await http(statusUrl)).status, 404);
    });

    it('includes versions whose lastUpdated is ahead of this process’s clock (written by a faster process)', async () => {
      // A bulk import in another process stamps faster than one write per millisecond, so its clock runs ahead.
      const ahead = new Date(Date.now() + 3_600_000).toISOString();
      const content = JSON.stringify({ resourceType: 'Patient', id: 'future', meta: { versionId: '1', lastUpdated: ahead } });
      const row = { tenant: 't2', type: 'Patient', id: 'future', version_id: 1, last_updated: ahead, deleted: 0, content };
      await s.node.engine.db.insertInto('resources').values(row).execute();
      await s.node.engine.db.insertInto('resource_history').values({ ...row, method: 'PUT' }).execute();
      const { byType, manifest } = await exportAll(`${s.base('t2')}/$export?_type=Patient`);
      assert.deepEqual((byType.get('Patient') as { id: string }[]).map((p) => p.id).sort(), ['future', 'other']);
      assert.equal(manifest.transactionTime, ahead);
      await s.node.engine.db.deleteFrom('resources').where('tenant', '=', 't2').where('id', '=', 'future').execute();
      await s.node.engine.db.deleteFrom('resource_history').where('tenant', '=', 't2').where('id', '=', 'future').execute();
    });

    it('jobs and files are per tenant', async () => {
      const { manifest } = await exportAll(`${s.base('t1')}/$export?_type=Patient`);
      const other = manifest.output[0].url.replace('/fhir/t1/', '/fhir/t2/');
      assert.equal((await http(other)).status, 404);
      const { byType } = await exportAll(`${s.base('t2')}/$export`);
      assert.deepEqual(countsOf(byType), { Patient: 1 });
    });
  });
}

describe('bulk export: persistence and expiry (sqlite)', () => {
  it('a finished export survives a restart; after expiry status is 404 and the files are deleted', async () => {
    const target = await freshEngine('sqlite');
    const s1 = await startBulkServer('sqlite', { target, keep: true });
    await putAll(s1.base('t1'), DATA.slice(0, 4));
    const { manifest } = await exportAll(`${s1.base('t1')}/$export`);
    const statusUrl = (m: Manifest, base: string) => `${base}/$bulk-status/${m.output[0].url.split('/$bulk-file/')[1].split('/')[0]}`;
    const bulkDir = join(s1.dir, 'bulk');
    await s1.stop();

    const s2 = await startBulkServer('sqlite', { target, keep: true, config: { dir: bulkDir } });
    const again = await poll(statusUrl(manifest, s2.base('t1')));
    assert.equal(again.status, 200);
    const m2 = again.body as Manifest;
    assert.equal(m2.transactionTime, manifest.transactionTime);
    const file = await http(m2.output.find((o) => o.type === 'Patient')!.url);
    assert.equal(file.status, 200);
    assert.equal((await file.text()).trim().split('\n').length, 3);
    await s2.stop();

    const s3 = await startBulkServer('sqlite', { target, config: { dir: bulkDir, expiryMs: 0 } });
    assert.equal((await http(statusUrl(manifest, s3.base('t1')))).status, 404);
    const tenantDir = join(bulkDir, 't1');
    assert.deepEqual(existsSync(tenantDir) ? readdirSync(tenantDir) : [], []);
    await s3.stop();
  });
});
