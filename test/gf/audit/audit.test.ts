/** NEN 7513 audit: every FHIR access is recorded as an AuditEvent; the hash chain detects tampering. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { engineNames } from '../../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../../helpers/server.ts';

for (const engine of engineNames()) {
  describe(`audit log (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine);
    });
    after(() => s.stop());

    it('records who, what, which patient and the correlation id of every access', async () => {
      const base = s.base('t1');
      await fhir(`${base}/Patient/aud-1`, { method: 'PUT', body: { resourceType: 'Patient', id: 'aud-1', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999911120' }] } });
      await fhir(`${base}/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/aud-1' } } });
      const read = await fhir(`${base}/Patient/aud-1`, { headers: { 'x-correlation-id': 'corr-123' } });
      assert.equal(read.headers.get('x-correlation-id'), 'corr-123');
      await fhir(`${base}/Observation?subject=Patient/aud-1`);
      await fhir(`${base}/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|999911120`);
      await fhir(`${base}/Patient/nope`);
      const events = await s.server.node.audit.forPatient('t1', 'aud-1');
      const kinds = events.map((e) => e.subtype?.[0]?.code);
      assert.ok(kinds.includes('read') && kinds.includes('search') && kinds.includes('update') && kinds.includes('create'), kinds.join(','));
      const readEvent = events.find((e) => e.extension?.[0]?.valueString === 'corr-123');
      assert.ok(readEvent, 'the read carries the correlation id');
      assert.equal(readEvent.action, 'R');
      assert.equal(readEvent.outcome, '0');
      const all = JSON.stringify(await s.server.node.audit.forPatient('t1', 'aud-1', 1000));
      assert.ok(!all.includes('999911120'), 'no BSN in the audit log');
      assert.ok((await s.server.node.audit.count()) >= 6);
    });

    it('detects an altered, a removed and an appended-out-of-chain event', async () => {
      const audit = s.server.node.audit;
      assert.deepEqual((await audit.verify()).ok, true);
      // Reach into the audit tables as an attacker with database access would.
      const db = (audit as unknown as { db: import('kysely').Kysely<object> }).db;
      await sql`UPDATE audit_log SET event = REPLACE(event, '"status":', '"status":1') WHERE seq = 2`.execute(db);
      const altered = await audit.verify();
      assert.equal(altered.ok, false);
      assert.equal(altered.brokenAt, 2);
      await sql`UPDATE audit_log SET event = REPLACE(event, '"status":1', '"status":') WHERE seq = 2`.execute(db);
      assert.equal((await audit.verify()).ok, true);
      await sql`DELETE FROM audit_log WHERE seq = 3`.execute(db);
      const removed = await audit.verify();
      assert.equal(removed.ok, false);
      assert.equal(removed.brokenAt, 3);
    });
  });
}
