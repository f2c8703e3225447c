/**
 * Nothing accepted is lost: a server process is killed (SIGKILL) in the middle of a transaction-bundle import.
 * After a restart every bundle that was answered 200 is there completely, no bundle is there in part
 * (atomicity), and the search index agrees with the stored resources.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/paths.ts';
import { engineNames, freshEngine, type EngineTarget } from '../helpers/engines.ts';

const BIN = `${REPO_ROOT}/bin/schakel.js`;
const BUNDLE = 50;

function dbArgs(t: EngineTarget): string[] {
  return t.db === 'sqlite' ? ['--data', t.opts.dataDir!] : ['--db', 'postgres', '--db-url', t.opts.dbUrl!];
}

async function startChild(t: EngineTarget): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--no-auth', '--port', '0', ...dbArgs(t)], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout!.setEncoding('utf8');
  // Keep reading stdout for the child's whole life: a closed pipe would kill it with EPIPE on its next line.
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /server on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it started: ${out}`)));
  });
}

function bundle(batch: number) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: BUNDLE }, (_, i) => ({
      resource: { resourceType: 'Patient', identifier: [{ system: 'urn:crash', value: `b${batch}` }], name: [{ family: `Crash${batch}-${i}` }] },
      request: { method: 'POST', url: 'Patient' },
    })),
  };
}

for (const engine of engineNames()) {
  describe(`crash during import (${engine})`, () => {
    let target: EngineTarget;
    const children: ChildProcess[] = [];
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await target?.cleanup();
    });

    it('keeps every accepted bundle and no partial one', async () => {
      target = await freshEngine(engine);
      const add = spawnSync(process.execPath, [BIN, 'tenant', 'add', 'crash', ...dbArgs(target)], { encoding: 'utf8' });
      assert.equal(add.status, 0, add.stderr);
      const first = await startChild(target);
      children.push(first.child);
      const base = `${first.url}/fhir/crash`;
      const accepted = new Set<number>();
      let next = 0;
      let killed = false;
      const worker = async () => {
        while (!killed) {
          const n = next++;
          try {
            const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(bundle(n)) });
            if (res.status === 200) accepted.add(n);
            await res.arrayBuffer();
          } catch {
            return; // the server died under us
          }
        }
      };
      const workers = [worker(), worker(), worker()];
      while (accepted.size < 8) await new Promise((r) => setTimeout(r, 20));
      killed = true;
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      await Promise.all(workers);

      const second = await startChild(target);
      children.push(second.child);
      const base2 = `${second.url}/fhir/crash`;
      for (let n = 0; n < next; n++) {
        const res = await fetch(`${base2}/Patient?identifier=urn:crash|b${n}&_total=accurate&_count=0`);
        const found = (await res.json()) as { total: number };
        if (accepted.has(n)) assert.equal(found.total, BUNDLE, `accepted bundle ${n} is incomplete`);
        else assert.ok(found.total === 0 || found.total === BUNDLE, `bundle ${n} is partly stored (${found.total})`);
      }
      const all = (await (await fetch(`${base2}/Patient?_total=accurate&_count=0`)).json()) as { total: number };
      const indexed = (await (await fetch(`${base2}/Patient?identifier=urn:crash|&_total=accurate&_count=0`)).json()) as { total: number };
      assert.equal(all.total % BUNDLE, 0);
      assert.equal(indexed.total, all.total, 'index rows and resources disagree');
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    });
  });
}
