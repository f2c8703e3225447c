/**
 * Localisation from the write path: a provider node (startServer) with the real PRS and NVI mounted on its
 * app, talking HTTP to them. Writes queue outbox rows in their own transaction (storage write hook); the
 * registrar registers and deregisters at the NVI. Covers: registration found by the PRS pseudonym of the
 * BSN, idempotent rewrites, deregistration, retries with backoff while the NVI is down, rollback and restart
 * safety of the outbox, tenants without URA, a 1,000-patient region import, and no plain BSN at the NVI.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Bundle, List, Patient, Resource } from 'fhir/r4';
import { sql } from 'kysely';
import { startServer, type RunningServer } from '../../../src/http/server.ts';
import type { ProviderNode } from '../../../src/node/provider-node.ts';
import { attachLocalisation, type AttachedLocalisation, type LocalisationAttachOptions } from '../../../src/gf/localisation/node-registration.ts';
import { registerLocalisationRoutes, type NviCaller } from '../../../src/gf/localisation/service.ts';
import { NVI_IDENTIFIER_SYSTEM } from '../../../src/gf/localisation/list.ts';
import { outboxPairs } from '../../../src/gf/localisation/registrar.ts';
import { PseudonymClient } from '../../../src/gf/pseudonym/client.ts';
import { bsnIdentifier } from '../../../src/gf/pseudonym/identifier.ts';
import { PrsKeyStore } from '../../../src/gf/pseudonym/keys.ts';
import { PseudonymRecipient } from '../../../src/gf/pseudonym/recipient.ts';
import { RecipientRegistry } from '../../../src/gf/pseudonym/recipients.ts';
import { PRS_ISSUER, PseudonymService, registerPseudonymRoutes } from '../../../src/gf/pseudonym/service.ts';
import { planDirectoryImport, runDirectoryImport } from '../../../src/bulk/directory.ts';
import { generateRegion } from '../../../src/synth/index.ts';
import { engineNames, freshEngine, type EngineTarget } from '../../helpers/engines.ts';
import { makeRecipient } from '../pseudonym/_support.ts';
import { BSN_SYSTEM, GP_URA, NVI, capture } from './_support.ts';

const CLIENT_ID = 'schakel-node-a';
const BSN = '999911120';
const OTHER_BSN = '999911132';
const NO_URA_BSN = '999911144';

/** Test tokens: `Bearer org:<URA>` is that organisation (the node's tenants); `reader` may only search. */
const verify = (authorization: string | undefined): NviCaller | undefined => {
  const org = /^Bearer org:(\d{8})$/.exec(authorization ?? '');
  if (org) return { ura: org[1], scopes: ['prs:read', 'nvi:write', 'nvi:read'], clientId: CLIENT_ID };
  return authorization === 'Bearer reader' ? { ura: '11112222', scopes: ['prs:read', 'nvi:read'] } : undefined;
};

/** The national side's keys outlive node restarts (pseudonyms stay the same), as a real PRS/NVI would. */
async function nationalKeys() {
  const nvi = await makeRecipient(NVI.organization, [NVI.scope]);
  return { nvi, prsKeys: PrsKeyStore.open() };
}
type Keys = Awaited<ReturnType<typeof nationalKeys>>;

/** PRS and NVI on the node's own app (the NVI keeps its entries in the node database, table gf_localisation). */
const mountNational = (keys: Keys) => async (app: FastifyInstance, node: ProviderNode) => {
  const service = new PseudonymService({ keys: keys.prsKeys, recipients: new RecipientRegistry({ entries: [keys.nvi.entry] }) });
  await registerPseudonymRoutes(app, { service, verifyToken: verify });
  await registerLocalisationRoutes(app, {
    db: node.engine.db,
    recipient: new PseudonymRecipient({ organization: NVI.organization, scopes: [NVI.scope], privateKey: keys.nvi.recipient.privateKey, issuer: PRS_ISSUER }),
    verifyToken: verify,
  });
};

/** A port nothing listens on: the NVI "down" (connection refused, as an unreachable host). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const addr = s.address();
  await new Promise((r) => s.close(r));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

const patient = (bsn: string): Resource => ({ resourceType: 'Patient', identifier: [{ system: BSN_SYSTEM, value: bsn }], name: [{ family: 'Test' }] }) as Resource;
const condition = (patientId: string, text: string): Resource => ({ resourceType: 'Condition', subject: { reference: `Patient/${patientId}` }, code: { text } }) as Resource;

for (const db of engineNames()) {
  describe(`localisation from the write path (${db})`, () => {
    let target: EngineTarget;
    let keys: Keys;
    let server: RunningServer;
    let loc: AttachedLocalisation;
    let clock = Date.now();
    let nviUp = true;
    let dead = '';
    const logs = capture();
    const ids: Record<string, string> = {};

    const attachOptions = (s: RunningServer): LocalisationAttachOptions => ({
      nviBase: () => (nviUp ? `${s.url}/national/nvi/fhir` : dead),
      prsBase: () => `${s.url}/national/prs`,
      nviRecipient: NVI,
      authorization: async (_service, tenant) => `Bearer org:${s.node.tenants.get(tenant)?.ura}`,
      clientId: CLIENT_ID,
      logger: logs.logger,
      // Driven by hand below (drain, clock): no timing in the assertions.
      worker: false,
      tuning: { now: () => clock, backoff: { baseMs: 1000, maxMs: 8000 } },
    });
    const start = async () => {
      server = await startServer({ port: 0, host: '127.0.0.1', ...target.opts, logger: false, plugins: mountNational(keys) });
      loc = await attachLocalisation(server.node, attachOptions(server));
    };

    before(async () => {
      target = await freshEngine(db);
      keys = await nationalKeys();
      dead = `http://127.0.0.1:${await deadPort()}/national/nvi/fhir`;
      await start();
      await server.node.tenants.ensure({ tenant: 'gp1', ura: GP_URA });
      await server.node.tenants.ensure({ tenant: 'nura' });
    });
    after(async () => {
      await server?.close();
      await target?.cleanup();
    });

    const fhir = async (tenant: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${server.url}/fhir/${tenant}/${path}`, {
        method: init.method ?? 'GET',
        headers: { accept: 'application/fhir+json', ...(init.body ? { 'content-type': 'application/fhir+json' } : {}), ...init.headers },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : undefined) as Resource & Record<string, unknown> };
    };
    const create = async (tenant: string, r: Resource) => {
      const res = await fhir(tenant, r.resourceType, { method: 'POST', body: r });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json;
    };
    /** What the NVI has for a BSN: searched by the pseudonym the PRS gives for it, as any NVI user would. */
    const nviLists = async (bsn: string, code?: string): Promise<List[]> => {
      const reader = new PseudonymClient({ prsUrl: `${server.url}/national/prs`, token: () => 'reader' });
      const id = await reader.nviIdentifier(bsnIdentifier(bsn), NVI);
      const q = new URLSearchParams({ 'subject:identifier': `${NVI_IDENTIFIER_SYSTEM}|${id}`, ...(code ? { code } : {}) });
      const res = await fetch(`${server.url}/national/nvi/fhir/List?${q.toString()}`, { headers: { authorization: 'Bearer reader' } });
      assert.equal(res.status, 200);
      const text = await res.text();
      for (const b of [BSN, OTHER_BSN, NO_URA_BSN]) assert.ok(!text.includes(b), 'no plain BSN in an NVI answer');
      return ((JSON.parse(text) as Bundle).entry ?? []).map((e) => e.resource as List);
    };
    const codes = (lists: List[]) => lists.map((l) => l.code?.coding?.[0].code).sort();
    const outbox = () => loc.registrar.pending();

    test('a stored Condition is registered at the NVI for (pseudonym, category, custodian URA)', async () => {
      ids.p = (await create('gp1', patient(BSN))).id as string;
      ids.c1 = (await create('gp1', condition(ids.p, 'astma'))).id as string;
      // Queued with the write itself: the rows are there as soon as the writes are answered.
      assert.deepEqual((await outbox()).map((r) => `${r.tenant}/${r.patient_id}/${r.category}`).sort(), [`gp1/${ids.p}/Condition`, `gp1/${ids.p}/Patient`]);
      assert.deepEqual(await loc.registrar.drain(), { done: 2, retry: 0 });
      const lists = await nviLists(BSN, 'Condition');
      assert.equal(lists.length, 1);
      const l = lists[0];
      assert.equal(l.extension?.[0].valueReference?.identifier?.value, GP_URA, 'custodian is the tenant’s URA');
      assert.equal(l.source?.identifier?.value, CLIENT_ID);
      assert.deepEqual(codes(await nviLists(BSN)), ['Condition', 'Patient']);
      assert.deepEqual(await outbox(), []);
    });

    test('writing the same resource twice is idempotent: one entry', async () => {
      const c = (await fhir('gp1', `Condition/${ids.c1}`)).json;
      // Unchanged: no new version, nothing queued.
      assert.equal((await fhir('gp1', `Condition/${ids.c1}`, { method: 'PUT', body: c })).status, 200);
      assert.deepEqual(await outbox(), []);
      // Changed, and a second Condition: queued again, still one Condition entry at the NVI.
      assert.equal((await fhir('gp1', `Condition/${ids.c1}`, { method: 'PUT', body: { ...c, note: [{ text: 'herzien' }] } })).status, 200);
      ids.c2 = (await create('gp1', condition(ids.p, 'eczeem'))).id as string;
      assert.equal((await outbox()).length, 1, 'one row per (patient, category), however many writes');
      assert.deepEqual(await loc.registrar.drain(), { done: 1, retry: 0 });
      assert.equal((await nviLists(BSN, 'Condition')).length, 1);
      const stored = await sql<{ n: number }>`select count(*) as n from gf_localisation where category = 'Condition'`.execute(server.node.engine.db);
      assert.equal(Number(stored.rows[0].n), 1);
    });

    test('deleting the last resource of a category deregisters it', async () => {
      assert.equal((await fhir('gp1', `Condition/${ids.c1}`, { method: 'DELETE' })).status, 200);
      assert.deepEqual((await outbox()).map((r) => r.category), ['Condition'], 'the delete queued from the previous version');
      await loc.registrar.drain();
      assert.equal((await nviLists(BSN, 'Condition')).length, 1, 'one Condition left');
      assert.equal((await fhir('gp1', `Condition/${ids.c2}`, { method: 'DELETE' })).status, 200);
      assert.deepEqual(await loc.registrar.drain(), { done: 1, retry: 0 });
      assert.deepEqual(codes(await nviLists(BSN)), ['Patient']);
    });

    test('NVI down: retried with exponential backoff, registered once it is back', async () => {
      nviUp = false;
      try {
        await create('gp1', { resourceType: 'Procedure', status: 'completed', subject: { reference: `Patient/${ids.p}` }, code: { text: 'x' } } as Resource);
        assert.deepEqual(await loc.registrar.drain(), { done: 0, retry: 1 });
        let [row] = await outbox();
        assert.equal(row.attempts, 1);
        assert.equal(row.next_attempt_at, clock + 1000);
        assert.match(row.last_error ?? '', /fetch failed|ECONNREFUSED/);
        assert.deepEqual(await loc.registrar.drain(), { done: 0, retry: 0 }, 'not due before the backoff');
        clock += 1000;
        assert.deepEqual(await loc.registrar.drain(), { done: 0, retry: 1 });
        [row] = await outbox();
        assert.equal(row.attempts, 2);
        assert.equal(row.next_attempt_at, clock + 2000, 'the second wait is twice the first');
        clock += 2000;
        nviUp = true;
        assert.deepEqual(await loc.registrar.drain(), { done: 1, retry: 0 });
      } finally {
        nviUp = true;
      }
      assert.deepEqual(codes(await nviLists(BSN, 'Procedure')), ['Procedure']);
      assert.deepEqual(await outbox(), []);
      assert.ok(logs.lines.join('').includes('localisation.retry'));
    });

    test('the outbox row is part of the write transaction: a rollback takes both, a commit keeps both', async () => {
      const store = server.node.deps.store;
      const write = { type: 'Condition', id: 'rolled-back', resource: condition(ids.p, 'griep'), method: 'PUT' as const };
      await assert.rejects(
        store.transaction(async (trx) => {
          await store.commit(trx, 'gp1', [write]);
          const inside = await sql<{ n: number }>`select count(*) as n from gf_localisation_outbox`.execute(trx);
          assert.equal(Number(inside.rows[0].n), 1, 'queued inside the write transaction');
          throw new Error('crash after the hook');
        }),
        /crash after the hook/,
      );
      assert.deepEqual(await outbox(), []);
      assert.equal((await fhir('gp1', 'Condition/rolled-back')).status, 404);
      // A transaction bundle commits its resources and their outbox rows together.
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: condition(ids.p, 'griep'), request: { method: 'POST', url: 'Condition' } }] };
      const ok = await fhir('gp1', '', { method: 'POST', body: bundle });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.deepEqual((await outbox()).map((r) => r.category), ['Condition']);
      await loc.registrar.drain();
      assert.deepEqual(codes(await nviLists(BSN, 'Condition')), ['Condition']);
    });

    test('a stop between commit and sync loses nothing: the outbox row survives and drains after the restart', async () => {
      ids.other = (await create('gp1', patient(OTHER_BSN))).id as string;
      await create('gp1', { resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${ids.other}` }, code: { text: 'pinda' } } as Resource);
      assert.equal((await outbox()).length, 2);
      // Gone before any sync: node (and the national services on its app) closed, nothing drained.
      await server.close();
      await start();
      assert.deepEqual((await outbox()).map((r) => r.category).sort(), ['AllergyIntolerance', 'Patient']);
      assert.deepEqual(await loc.registrar.drain(), { done: 2, retry: 0 });
      assert.deepEqual(codes(await nviLists(OTHER_BSN)), ['AllergyIntolerance', 'Patient']);
    });

    test('a tenant without a URA registers nothing', async () => {
      const p = await create('nura', patient(NO_URA_BSN));
      await create('nura', condition(p.id as string, 'astma'));
      assert.deepEqual(await outbox(), [], 'nothing queued');
      await loc.registrar.drain();
      assert.deepEqual(await nviLists(NO_URA_BSN), []);
    });

    test('the background worker drains on its own', async () => {
      loc.registrar.start();
      try {
        await create('gp1', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${ids.other}` } } as Resource);
        clock = Date.now() + 60_000; // every row due from the worker's point of view
        for (let i = 0; i < 400 && (await outbox()).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      } finally {
        await loc.registrar.stop();
      }
      assert.deepEqual(await outbox(), []);
      assert.deepEqual(codes(await nviLists(OTHER_BSN, 'Encounter')), ['Encounter']);
    });

    // Every entry costs three OPRF operations and an RSA decryption (client, PRS and NVI all run in this process),
    // ~10 ms a row: the 1,000-patient region (~10,000 entries) runs on SQLite, PostgreSQL gets the same test on 100.
    const regionPatients = db === 'sqlite' ? 1000 : 100;
    test(`a ${regionPatients}-patient region import queues registrations in its batches, and the worker drains them all`, { skip: process.env.SCHAKEL_TEST_QUICK === '1' && 'SCHAKEL_TEST_QUICK' }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'schakel-loc-region-'));
      const logsBefore = logs.lines.length;
      try {
        await generateRegion({ patients: regionPatients, seed: 'localisation', outDir: dir });
        const plan = planDirectoryImport(dir);
        loc.registrar.start();
        const res = await runDirectoryImport(server.node.deps, plan, { batchSize: 500 });
        assert.equal(res.errors, 0);
        // What the import should have queued, from the files themselves: every (patient, category) of tenants with a URA.
        const expected = new Map<string, Set<string>>();
        const bsnOf = new Map<string, string>();
        for (const t of plan.tenants.filter((x) => x.ura)) {
          const pairs = new Set<string>();
          for (const f of readdirSync(join(dir, t.tenant)).filter((n) => n.endsWith('.ndjson'))) {
            const resources = readFileSync(join(dir, t.tenant, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);
            for (const { patient: p, category } of outboxPairs(resources.map((r) => ({ resource: r })))) pairs.add(`${p}|${category}`);
            for (const r of resources) {
              const bsn = r.resourceType === 'Patient' ? (r as Patient).identifier?.find((i) => i.system === BSN_SYSTEM)?.value : undefined;
              if (bsn) bsnOf.set(`${t.tenant}/${r.id}`, bsn);
            }
          }
          expected.set(t.tenant, pairs);
        }
        const total = [...expected.values()].reduce((n, s) => n + s.size, 0);
        assert.ok(total > regionPatients, `the region localises more than one entry per patient (${total})`);
        clock = Date.now() + 3_600_000;
        // Bounded wait for the background worker (no timing asserted: the bound only stops a hung test).
        for (let i = 0; i < 6000 && (await loc.registrar.pending()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
        await loc.registrar.stop();
        const left = await loc.registrar.pending();
        assert.deepEqual(left.slice(0, 3), [], `${left.length} rows left`);
        // Data imported ahead of its Patient is retried (logged at debug); nothing else may have failed.
        const reasons = new Set(logs.lines.slice(logsBefore).filter((l) => l.includes('localisation.retry')).map((l) => (JSON.parse(l) as { reason: string }).reason));
        reasons.delete('patient not (yet) known in the tenant');
        assert.deepEqual([...reasons], [], 'no sync failed');
        // Every expected pair with a BSN became exactly one entry (the earlier tests' gp1 entries aside).
        const rows = (await sql<{ custodian: string; category: string; pseudonym: string }>`select custodian, category, pseudonym from gf_localisation`.execute(server.node.engine.db)).rows;
        const regionUras = new Set(plan.tenants.map((t) => t.ura).filter((u): u is string => !!u));
        const regionRows = rows.filter((r) => regionUras.has(r.custodian));
        const withBsn = [...expected].reduce((n, [t, pairs]) => n + [...pairs].filter((p) => bsnOf.has(`${t}/${p.split('|')[0]}`)).length, 0);
        assert.equal(regionRows.length, withBsn);
        // Spot checks through the NVI's search: a few patients' categories as the files say.
        const tenant = plan.tenants.find((t) => t.ura)!;
        const sample = [...bsnOf].filter(([k]) => k.startsWith(`${tenant.tenant}/`)).slice(0, 3);
        for (const [key, bsn] of sample) {
          const id = key.split('/')[1];
          const want = [...expected.get(tenant.tenant)!].filter((p) => p.startsWith(`${id}|`)).map((p) => p.split('|')[1]);
          const got = (await nviLists(bsn)).filter((l) => l.extension?.[0].valueReference?.identifier?.value === tenant.ura);
          assert.deepEqual(codes(got), want.sort());
        }
        // No plain BSN of the region in anything the NVI stored.
        const stored = JSON.stringify(rows);
        for (const bsn of bsnOf.values()) assert.ok(!stored.includes(bsn), 'a plain BSN in the NVI table');
      } finally {
        await loc.registrar.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('privacy: no plain BSN in any NVI entry, the outbox or the registrar logs', async () => {
      const rows = (await sql`select * from gf_localisation`.execute(server.node.engine.db)).rows;
      assert.ok(rows.length >= 4);
      const outboxRows = (await sql`select * from gf_localisation_outbox`.execute(server.node.engine.db)).rows;
      const listed = await fetch(`${server.url}/national/nvi/fhir/List?source:identifier=${CLIENT_ID}&_count=1000`, { headers: { authorization: `Bearer org:${GP_URA}` } });
      const haystacks: [string, string][] = [
        ['stored NVI rows', JSON.stringify(rows)],
        ['NVI Lists as served', await listed.text()],
        ['outbox', JSON.stringify(outboxRows)],
        ['registrar logs', logs.lines.join('')],
        ['registrar metrics', await loc.registrar.metrics.render()],
      ];
      assert.ok(logs.lines.join('').includes('localisation.sync'), 'the registrar logs were captured');
      for (const [where, text] of haystacks) for (const bsn of [BSN, OTHER_BSN, NO_URA_BSN]) assert.ok(!text.includes(bsn), `BSN found in ${where}`);
    });
  });
}
