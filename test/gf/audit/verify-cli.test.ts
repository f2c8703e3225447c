/** `schakel audit verify` as an operator runs it: exit 0 on an intact chain; on tampering exit 1, the broken event named, and a security event. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openNode } from '../../../src/node/provider-node.ts';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'schakel.js');

describe('schakel audit verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schakel-audit-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports an intact chain, then detects an altered event', async () => {
    const node = await openNode({ db: 'sqlite', dataDir: dir });
    for (let i = 0; i < 5; i++) {
      node.audit.record({ tenant: 't1', interaction: 'read', what: `Patient/p${i}`, outcome: 'success', status: 200, context: { correlationId: `c${i}`, organisationUra: '90000001' }, observer: 'http://127.0.0.1/fhir/t1' });
    }
    await node.close();
    const ok = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--data', dir], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /intact: 5 events verified/);

    const db = new Database(join(dir, 'audit.db'));
    db.prepare(`UPDATE audit_log SET event = REPLACE(event, 'Patient/p3', 'Patient/p9') WHERE seq = 4`).run();
    db.close();
    const broken = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--data', dir], { encoding: 'utf8' });
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /BROKEN at event 4: event 4 was altered/);
    const event = JSON.parse(broken.stderr.trim().split('\n').pop()!) as { stream: string; event: string; brokenAt: number };
    assert.deepEqual([event.stream, event.event, event.brokenAt], ['security', 'audit-chain-broken', 4]);
  });
});
