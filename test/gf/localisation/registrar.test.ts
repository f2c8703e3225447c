/**
 * Node-side registration end to end: provider writes → outbox → PRS → NVI, over HTTP. Idempotency,
 * deregistration, retries with backoff while the NVI is down, restart safety, and a scan of everything the
 * national side stores, logs or counts for the test patients' BSNs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { List, Resource } from 'fhir/r4';
import { sql } from 'kysely';
import { bsnIdentifier } from '../../../src/gf/pseudonym/identifier.ts';
import { PseudonymClient } from '../../../src/gf/pseudonym/client.ts';
import { NVI_IDENTIFIER_SYSTEM } from '../../../src/gf/localisation/list.ts';
import { LocalisationRegistrar, dispatchSource, patientsOf, type RegistrarOptions } from '../../../src/gf/localisation/registrar.ts';
import { engineNames } from '../../helpers/engines.ts';
import { GP_URA, NVI, capture, patient, startNational, type National } from './_support.ts';

const BSNS = ['999911120', '999911132'];

test('patientsOf: subject, patient, for, AuditEvent entity, the Patient itself', () => {
  assert.deepEqual(patientsOf({ resourceType: 'Condition', subject: { reference: 'Patient/a' } } as Resource), ['a']);
  assert.deepEqual(patientsOf({ resourceType: 'Immunization', patient: { reference: 'http://x/fhir/t/Patient/b' } } as Resource), ['b']);
  assert.deepEqual(patientsOf({ resourceType: 'Task', for: { reference: 'Patient/c/_history/2' } } as Resource), ['c']);
  assert.deepEqual(patientsOf({ resourceType: 'Patient', id: 'd' } as Resource), ['d']);
  assert.deepEqual(patientsOf({ resourceType: 'Condition', subject: { reference: 'Group/e' } } as Resource), []);
});

for (const db of engineNames()) {
  describe(`registrar (${db})`, () => {
    let n: National;
    let reg: LocalisationRegistrar;
    let opts: RegistrarOptions;
    let clock = Date.now();
    const regLogs = capture();
    let down = false;
    const ids: string[] = [];

    before(async () => {
      n = await startNational(db);
      opts = {
        db: n.node.engine.db,
        source: dispatchSource(n.node.dispatch),
        pseudonyms: new PseudonymClient({ prsUrl: n.prsUrl, token: () => 'node-a' }),
        nviRecipient: NVI,
        nviBase: n.nviBase,
        nviToken: () => 'node-a',
        custodianUra: (t) => n.node.tenants.get(t)?.ura,
        clientId: 'schakel-node-a',
        backoff: { baseMs: 1000, maxMs: 8000 },
        now: () => clock,
        logger: regLogs.logger,
        // Down = the NVI refuses connections (as an unreachable host would).
        fetch: (async (url: string | URL | Request, init?: RequestInit) => {
          if (down && String(url).startsWith(n.nviBase)) throw new TypeError('fetch failed: connect ECONNREFUSED');
          return fetch(url, init);
        }) as typeof fetch,
      };
      reg = await LocalisationRegistrar.open(opts);
      for (const bsn of BSNS) {
        const p = await n.fhir('Patient', { method: 'POST', body: patient(bsn) });
        assert.equal(p.status, 201);
        ids.push(p.json.id);
        await reg.onResourceWritten('gp1', p.json as Resource);
      }
    });
    after(async () => {
      await reg?.stop();
      await n?.stop();
    });

    const write = async (r: Resource) => {
      const res = await n.fhir(r.resourceType, { method: 'POST', body: r });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      await reg.onResourceWritten('gp1', res.json as Resource);
      return res.json as Resource;
    };
    const remove = async (r: Resource) => {
      assert.ok([200, 204].includes((await n.fhir(`${r.resourceType}/${r.id}`, { method: 'DELETE' })).status));
      await reg.onResourceWritten('gp1', null, r);
    };
    const search = async (bsn: string, code?: string) => {
      const v = encodeURIComponent(`${NVI_IDENTIFIER_SYSTEM}|${await n.client.nviIdentifier(bsnIdentifier(bsn), NVI)}`);
      const res = await fetch(`${n.nviBase}/List?subject:identifier=${v}${code ? `&code=${code}` : ''}`, { headers: { authorization: 'Bearer reader' } });
      const b = (await res.json()) as { entry?: { resource: List }[] };
      return (b.entry ?? []).map((e) => e.resource.code?.coding?.[0].code).sort();
    };
    const tableCount = async () => Number((await sql<{ n: number }>`select count(*) as n from gf_localisation`.execute(n.node.engine.db)).rows[0].n);

    test('register: the patient and each category once, however often written or drained', async () => {
      await write({ resourceType: 'Condition', subject: { reference: `Patient/${ids[0]}` }, code: { text: 'astma' } } as Resource);
      await write({ resourceType: 'Condition', subject: { reference: `Patient/${ids[0]}` }, code: { text: 'eczeem' } } as Resource);
      await write({ resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${ids[0]}` }, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }] } as Resource);
      const r1 = await reg.drain();
      assert.equal(r1.retry, 0);
      assert.deepEqual(await search(BSNS[0]), ['Condition', 'ObservationLaboratory', 'Patient']);
      assert.deepEqual(await search(BSNS[0], 'Condition'), ['Condition']);
      const before = await tableCount();
      // Writing and draining again changes nothing at the NVI.
      await write({ resourceType: 'Condition', subject: { reference: `Patient/${ids[0]}` }, code: { text: 'hooikoorts' } } as Resource);
      await reg.drain();
      await reg.drain();
      assert.equal(await tableCount(), before);
      assert.deepEqual(await search(BSNS[1]), ['Patient']);
      assert.equal((await reg.pending()).length, 0);
    });

    test('deregister when the last resource of a category is deleted (idempotent)', async () => {
      const a = await write({ resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${ids[1]}` }, code: { text: 'pinda' } } as Resource);
      const b = await write({ resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${ids[1]}` }, code: { text: 'noten' } } as Resource);
      await reg.drain();
      assert.deepEqual(await search(BSNS[1], 'AllergyIntolerance'), ['AllergyIntolerance']);
      await remove(a);
      await reg.drain();
      assert.deepEqual(await search(BSNS[1], 'AllergyIntolerance'), ['AllergyIntolerance'], 'still one left');
      await remove(b);
      await reg.drain();
      assert.deepEqual(await search(BSNS[1], 'AllergyIntolerance'), []);
      await reg.onResourceWritten('gp1', null, b);
      assert.equal((await reg.drain()).retry, 0, 'deregistering again is harmless');
      assert.deepEqual(await search(BSNS[1]), ['Patient']);
    });

    test('retries with backoff while the NVI is down, then registers once it is up; the outbox survives a restart', async () => {
      down = true;
      await write({ resourceType: 'Procedure', status: 'completed', subject: { reference: `Patient/${ids[1]}` }, code: { text: 'x' } } as Resource);
      assert.deepEqual(await reg.drain(), { done: 0, retry: 1 });
      let p = await reg.pending();
      assert.equal(p[0].attempts, 1);
      assert.match(p[0].last_error ?? '', /ECONNREFUSED/);
      assert.deepEqual(await reg.drain(), { done: 0, retry: 0 }, 'not due before the backoff');
      clock += 1000;
      assert.deepEqual(await reg.drain(), { done: 0, retry: 1 });
      p = await reg.pending();
      assert.equal(p[0].attempts, 2);
      clock += 1999;
      assert.deepEqual(await reg.drain(), { done: 0, retry: 0 }, 'second backoff is 2 s');
      // "Restart": a new registrar over the same database picks the row up.
      const again = await LocalisationRegistrar.open(opts);
      down = false;
      clock += 1;
      assert.deepEqual(await again.drain(), { done: 1, retry: 0 });
      assert.deepEqual(await search(BSNS[1], 'Procedure'), ['Procedure']);
      assert.equal((await reg.pending()).length, 0);
      assert.ok((await reg.metrics.get('schakel_localisation_sync_total', { outcome: 'retry' })) >= 2);
    });

    test('the background worker drains on its own', async () => {
      reg.start();
      await write({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${ids[1]}` } } as Resource);
      for (let i = 0; i < 200 && (await reg.pending()).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      await reg.stop();
      assert.equal((await reg.pending()).length, 0);
      assert.deepEqual(await search(BSNS[1], 'Encounter'), ['Encounter']);
    });

    test('privacy: no plain BSN in stored Lists, NVI/PRS logs, registrar logs, outbox or metrics', async () => {
      const rows = (await sql`select * from gf_localisation`.execute(n.node.engine.db)).rows;
      assert.ok(rows.length >= 5);
      const outbox = (await sql`select * from gf_localisation_outbox`.execute(n.node.engine.db)).rows;
      const haystacks: [string, string][] = [
        ['stored localisation rows', JSON.stringify(rows)],
        ['outbox', JSON.stringify(outbox)],
        ['national logs (PRS + NVI, incl. request logs)', n.logs.join('')],
        ['registrar logs', regLogs.lines.join('')],
        ['NVI metrics', await n.nviMetrics.render()],
        ['registrar metrics', await reg.metrics.render()],
      ];
      assert.ok(n.logs.join('').includes('nvi.transaction'), 'national logs were captured');
      assert.ok(n.logs.join('').includes('"url":"/national/nvi/fhir/List?subject:identifier='), 'request URLs were captured too');
      assert.ok(regLogs.lines.join('').includes('localisation.sync'), 'registrar logs were captured');
      for (const [where, text] of haystacks) for (const bsn of BSNS) assert.ok(!text.includes(bsn), `BSN found in ${where}`);
      // And the stored Lists as served: pseudonym never in responses.
      const res = await fetch(`${n.nviBase}/List?source:identifier=schakel-node-a`, { headers: { authorization: 'Bearer node-a' } });
      const body = await res.text();
      for (const bsn of BSNS) assert.ok(!body.includes(bsn));
      for (const r of rows as { pseudonym: string }[]) assert.ok(!body.includes(r.pseudonym), 'no pseudonym in responses');
      assert.equal((rows as { custodian: string }[]).every((r) => r.custodian === GP_URA), true);
    });
  });
}
