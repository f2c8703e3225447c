/**
 * The round trip: `schakel synth` a region → `schakel import` → `$export` per tenant (over HTTP, per the IG)
 * → the resource counts per type are exactly what region.json says. Used by roundtrip.test.ts (200 patients,
 * regular suite) and roundtrip-10k.test.ts (the 10k-patient round trip; SCHAKEL_TEST_QUICK=1 skips it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { importCommand } from '../../src/cli/import.ts';
import { generateRegion, type RegionSummary } from '../../src/synth/index.ts';
import { engineNames, freshEngine, type EngineTarget } from '../helpers/engines.ts';
import { exportCounts, startBulkServer } from './helpers.ts';

export function defineRoundTrip(PATIENTS: number, opts: { skip?: string | false; engines?: ReturnType<typeof engineNames> } = {}): void {
  const work = mkdtempSync(join(tmpdir(), 'schakel-roundtrip-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  let summary: RegionSummary | undefined;
  async function region(): Promise<RegionSummary> {
    summary ??= await generateRegion({ patients: PATIENTS, seed: 'roundtrip', outDir: join(work, 'region') });
    return summary;
  }

  for (const db of opts.engines ?? engineNames()) {
    describe(`bulk round trip, ${PATIENTS} patients (${db})`, () => {
      it('synth → import → $export per tenant: identical counts per type', { timeout: 15 * 60_000, skip: opts.skip }, async () => {
        const r = await region();
        let target: EngineTarget;
        let dbArgs: string[];
        if (db === 'sqlite') {
          const dir = mkdtempSync(join(work, 'db-'));
          target = { db, opts: { db, sqliteFile: join(dir, 'schakel.db'), dataDir: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
          dbArgs = ['--data', dir];
        } else {
          target = await freshEngine(db);
          dbArgs = ['--db', 'postgres', '--db-url', target.opts.dbUrl!];
        }
        let out = '';
        const code = await importCommand([join(work, 'region'), ...dbArgs, '--quiet'], { out: { write: (t: string) => (out += t) }, err: { write: () => true } });
        assert.equal(code, 0, out);
        const s = await startBulkServer(db, { target });
        try {
          for (const t of r.tenants) {
            const { counts } = await exportCounts(`${s.base(t.id)}/$export`);
            assert.deepEqual(counts, Object.fromEntries(Object.entries(t.resources).filter(([, n]) => n > 0)), `tenant ${t.id}`);
          }
        } finally {
          await s.stop();
        }
      });
    });
  }
}
