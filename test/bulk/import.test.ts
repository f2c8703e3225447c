/**
 * Bulk import: `schakel import` (region and plain folders, resume after an interruption without duplicates)
 * and the asynchronous `$import` operation (files under the import directory, loopback URLs, per-line errors).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planDirectoryImport, runDirectoryImport } from '../../src/bulk/directory.ts';
import { UsageError } from '../../src/cli/args.ts';
import { importCommand } from '../../src/cli/import.ts';
import { openNode } from '../../src/node/provider-node.ts';
import { generateRegion } from '../../src/synth/index.ts';
import { engineNames } from '../helpers/engines.ts';
import { http, kickOff, poll, startBulkServer, type BulkTestServer, type Manifest } from './helpers.ts';

const REPO = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'schakel-import-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

let regionDir: string;
let expected: Map<string, number>;
async function region(): Promise<string> {
  if (!regionDir) {
    regionDir = join(work, 'region');
    const summary = await generateRegion({ patients: 30, seed: 'bulk-import-test', outDir: regionDir });
    expected = new Map(summary.tenants.map((t) => [t.id, Object.values(t.resources).reduce((a, b) => a + b, 0)]));
  }
  return regionDir;
}

async function counts(dataDir: string): Promise<{ resources: Map<string, number>; history: number; live: number }> {
  const node = await openNode({ db: 'sqlite', dataDir });
  try {
    const rows = await node.engine.db.selectFrom('resources').select(['tenant']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('tenant').execute();
    const h = await node.engine.db.selectFrom('resource_history').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const resources = new Map(rows.map((r) => [r.tenant, Number(r.n)]));
    return { resources, history: Number(h.n), live: [...resources.values()].reduce((a, b) => a + b, 0) };
  } finally {
    await node.close();
  }
}

/** Runs `schakel import` in-process with its output captured (never touching process.stdout: the test runner reports there). */
async function runImport(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await importCommand(argv, { out: { write: (t: string) => (out += t) }, err: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

describe('schakel import', () => {
  it('imports a region: creates its tenants with URA and name, every resource once', async () => {
    const dir = await region();
    const data = join(work, 'd-full');
    assert.equal((await runImport([dir, '--data', data, '--quiet'])).code, 0);
    const c = await counts(data);
    assert.deepEqual(c.resources, expected);
    assert.equal(c.history, c.live, 'one version per resource');
    const node = await openNode({ db: 'sqlite', dataDir: data });
    const regionJson = JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8')) as { tenants: { id: string; ura: string; name: string }[] };
    for (const t of regionJson.tenants) assert.deepEqual([node.tenants.get(t.id)?.ura, node.tenants.get(t.id)?.name], [t.ura, t.name]);
    await node.close();
    // Running it again does nothing: every file's checkpoint says done.
    assert.equal((await runImport([dir, '--data', data, '--quiet'])).code, 0);
    assert.equal((await counts(data)).history, c.history);
  });

  it('resumes after an abort mid-way: no line imported twice, all present', async () => {
    const dir = await region();
    const dataDir = join(work, 'd-abort');
    const plan = planDirectoryImport(dir);
    const abort = new AbortController();
    let batches = 0;
    const node = await openNode({ db: 'sqlite', dataDir });
    const first = await runDirectoryImport(node.deps, plan, { batchSize: 40, signal: abort.signal, onProgress: () => void (++batches === 5 && abort.abort()) });
    await node.close();
    assert.equal(first.aborted, true);
    const mid = await counts(dataDir);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    assert.ok(mid.live > 0 && mid.live < total, `partial: ${mid.live} of ${total}`);
    const node2 = await openNode({ db: 'sqlite', dataDir });
    const second = await runDirectoryImport(node2.deps, plan, { batchSize: 40 });
    await node2.close();
    assert.equal(second.aborted, false);
    assert.equal(first.written + second.written, total, 'the second run wrote only what the first had not');
    assert.ok(second.files.some((f) => f.resumedAt > 0), 'a file resumed from its checkpoint');
    const end = await counts(dataDir);
    assert.deepEqual(end.resources, expected);
    assert.equal(end.history, end.live, 'no resource written twice');
  });

  it('survives a killed process (SIGKILL mid-import) and resumes on the next run', async () => {
    const dir = await region();
    const dataDir = join(work, 'd-kill');
    const child = spawn(process.execPath, [join(REPO, 'bin', 'schakel.js'), 'import', dir, '--data', dataDir, '--batch', '40'], {
      env: { ...process.env, SCHAKEL_TEST_IMPORT_PAUSE_AFTER: '4' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('import paused (test)')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`import exited (${code}) before the pause: ${stderr}`)));
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const mid = await counts(dataDir);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    assert.ok(mid.live > 0 && mid.live < total, `partial: ${mid.live} of ${total}`);
    const rerun = await runImport([dir, '--data', dataDir, '--batch', '40']);
    const code = rerun.code;
    assert.match(rerun.out, /resumed from a checkpoint/);
    assert.match(rerun.err, /import: 100%/, 'progress lines');
    assert.equal(code, 0);
    const end = await counts(dataDir);
    assert.deepEqual(end.resources, expected);
    assert.equal(end.history, end.live, 'no resource written twice');
    assert.equal(end.live - mid.live, total - mid.live);
  });

  it('a plain NDJSON folder goes into the named tenant; rejected lines are reported, the rest imported', async () => {
    const dir = join(work, 'plain');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'mixed.ndjson'),
      [
        JSON.stringify({ resourceType: 'Patient', id: 'a', gender: 'female' }),
        '{not json',
        JSON.stringify({ resourceType: 'Patient', gender: 'male' }),
        JSON.stringify({ resourceType: 'Patient', id: 'b', gender: 'nonsense' }),
        '',
        JSON.stringify({ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/a' } }),
      ].join('\r\n'),
    );
    const data = join(work, 'd-plain');
    const errors = join(work, 'errors.ndjson');
    const r = await runImport([dir, '--tenant', 'lab', '--data', data, '--errors', errors, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.out, /3 line\(s\) rejected/);
    assert.match(r.out, /Created tenant lab/);
    assert.deepEqual((await counts(data)).resources, new Map([['lab', 2]]));
    const oos = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { resourceType: string; issue: { diagnostics: string }[] });
    assert.equal(oos.length, 3);
    assert.ok(oos.every((o) => o.resourceType === 'OperationOutcome'));
    assert.match(oos[0].issue[0].diagnostics, /line 2: not valid JSON/);
    assert.match(oos[1].issue[0].diagnostics, /line 3: .*id/);
    assert.match(oos[2].issue[0].diagnostics, /line 4: /);
  });

  it('usage errors name the problem', async () => {
    mkdirSync(join(work, 'empty'), { recursive: true });
    writeFileSync(join(work, 'empty', 'x.ndjson'), '');
    const cases: [string[], RegExp][] = [
      [[], /import needs a DIR/],
      [[join(work, 'nope')], /is not a directory/],
      [[join(work, 'empty')], /no region.json: name the tenant .* with --tenant/],
      [[await region(), '--tenant', 'no-such-tenant'], /'no-such-tenant' is not in/],
      [[await region(), '--batch', 'lots'], /--batch 'lots'/],
      [[await region(), '--db', 'postgres'], /--db postgres needs --db-url/],
    ];
    for (const [argv, message] of cases) {
      await assert.rejects(runImport(argv), (e: Error) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    }
  });
});

for (const db of engineNames()) {
  describe(`$import (${db})`, () => {
    let s: BulkTestServer;
    before(async () => {
      s = await startBulkServer(db);
    });
    after(() => s.stop());

    const parameters = (inputs: { type?: string; url: string }[]) => ({
      resourceType: 'Parameters',
      parameter: [
        { name: 'inputFormat', valueCode: 'application/fhir+ndjson' },
        ...inputs.map((i) => ({ name: 'input', part: [...(i.type ? [{ name: 'type', valueCode: i.type }] : []), { name: 'url', valueUri: i.url }] })),
      ],
    });

    it('imports files under the import directory asynchronously, with per-line errors as OperationOutcome NDJSON', async () => {
      const file = join(s.dir, 'patients.ndjson');
      const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `imp-${i}`, name: [{ family: `F${i}` }] }));
      lines.splice(3, 0, '{broken');
      lines.splice(7, 0, JSON.stringify({ resourceType: 'Observation', id: 'wrong-type', status: 'final', code: { text: 'x' } }));
      writeFileSync(file, lines.join('\n') + '\n');
      const k = await kickOff(`${s.base('t1')}/$import`, { method: 'POST', body: parameters([{ type: 'Patient', url: file }]) });
      assert.equal(k.status, 202, JSON.stringify(k.body));
      assert.ok(k.location?.startsWith(`${s.base('t1')}/$bulk-status/`));
      const done = await poll(k.location!);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const m = done.body as Manifest;
      assert.deepEqual(m.output, [{ type: 'Patient', inputUrl: file, count: 25 }]);
      assert.equal(m.error.length, 1);
      assert.equal(m.error[0].type, 'OperationOutcome');
      const errs = (await (await http(m.error[0].url)).text()).trim().split('\n').map((l) => JSON.parse(l) as { issue: { diagnostics: string }[] });
      assert.equal(errs.length, 2);
      assert.match(errs[0].issue[0].diagnostics, /line 4: not valid JSON/);
      assert.match(errs[1].issue[0].diagnostics, /line 8: a Observation in an input of type Patient/);
      const read = await http(`${s.base('t1')}/Patient/imp-24`, { headers: { accept: 'application/fhir+json' } });
      assert.equal(read.status, 200);
    });

    it('imports from a URL on the loopback interface', async () => {
      const body = [1, 2, 3].map((i) => JSON.stringify({ resourceType: 'Practitioner', id: `url-${i}` })).join('\n');
      const source = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/fhir+ndjson' });
        res.end(body);
      });
      await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
      const addr = source.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/practitioners.ndjson`;
      try {
        const k = await kickOff(`${s.base('t1')}/$import`, { method: 'POST', body: parameters([{ url }]) });
        assert.equal(k.status, 202, JSON.stringify(k.body));
        const done = await poll(k.location!);
        assert.equal(done.status, 200);
        assert.deepEqual((done.body as Manifest).output, [{ type: 'Resource', inputUrl: url, count: 3 }]);
        assert.deepEqual((done.body as Manifest).error, []);
      } finally {
        source.closeAllConnections();
        source.close();
      }
      assert.equal((await http(`${s.base('t1')}/Practitioner/url-3`)).status, 200);
    });

    it('refuses inputs outside the import directory or off the loopback, and requests without Prefer: respond-async', async () => {
      for (const url of ['/etc/passwd', 'https://example.org/x.ndjson', join(s.dir, 'missing.ndjson'), 'ftp://127.0.0.1/x']) {
        const r = await kickOff(`${s.base('t1')}/$import`, { method: 'POST', body: parameters([{ url }]) });
        assert.equal(r.status, 400, url);
        assert.equal((r.body as { resourceType: string }).resourceType, 'OperationOutcome');
      }
      writeFileSync(join(s.dir, 'ok.ndjson'), '');
      const noPrefer = await kickOff(`${s.base('t1')}/$import`, { method: 'POST', body: parameters([{ url: join(s.dir, 'ok.ndjson') }]), headers: { prefer: '' } });
      assert.equal(noPrefer.status, 400);
      const noInputs = await kickOff(`${s.base('t1')}/$import`, { method: 'POST', body: { resourceType: 'Parameters' } });
      assert.equal(noInputs.status, 400);
    });
  });
}
