/**
 * Bulk import/export benchmark (not part of `npm run bench`; run it on its own):
 *
 *   node --import tsx bench/bulk.ts [--patients 10000] [--seed bench] [--work DIR] [--batch 500] [--keep]
 *
 * 1. generates a synthetic region (`schakel synth`) of N patients (reused when DIR/region already has it),
 * 2. imports it with `schakel import` into a fresh SQLite database, in a child process,
 * 3. exports every tenant with $export over HTTP (kick-off, poll, streamed download, count per type) from a
 *    second child process running the server,
 * and prints wall time, CPU time, resources/s and peak RSS per phase, and whether the export counts match
 * region.json. Each phase runs in its own process so its peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface PhaseReport {
  phase: string;
  resources: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  extra?: Record<string, unknown>;
}

const here = fileURLToPath(import.meta.url);

function finish(r: Omit<PhaseReport, 'cpuSeconds' | 'maxRssMb'>): void {
  const u = process.resourceUsage();
  const report: PhaseReport = { ...r, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMb: Math.round(u.maxRSS / 1024) };
  process.stdout.write(`@@REPORT ${JSON.stringify(report)}\n`);
}

async function childImport(region: string, data: string, batch: string): Promise<void> {
  const { importCommand } = await import('../src/cli/import.ts');
  let out = '';
  const t0 = performance.now();
  const code = await importCommand([region, '--data', data, '--batch', batch], { out: { write: (s: string) => (out += s) }, err: process.stderr });
  if (code !== 0) throw new Error(`import failed (${code}): ${out}`);
  const m = /: (\d+) resources written/.exec(out);
  finish({ phase: 'import', resources: Number(m?.[1] ?? 0), seconds: (performance.now() - t0) / 1000 });
}

async function childExport(region: string, data: string): Promise<void> {
  const { openNode } = await import('../src/node/provider-node.ts');
  const { buildApp } = await import('../src/http/app.ts');
  const { registerBulkRoutes } = await import('../src/bulk/routes.ts');
  const node = await openNode({ db: 'sqlite', dataDir: data });
  const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
  registerBulkRoutes(app, node, { dir: join(data, 'bulk') });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/fhir`;
  const summary = JSON.parse(readFileSync(join(region, 'region.json'), 'utf8')) as { tenants: { id: string; resources: Record<string, number> }[] };
  const t0 = performance.now();
  let total = 0;
  let jobSeconds = 0;
  const mismatches: string[] = [];
  for (const t of summary.tenants) {
    const k0 = performance.now();
    const kick = await fetch(`${base}/${t.id}/$export`, { headers: { prefer: 'respond-async', accept: 'application/fhir+json', connection: 'close' } });
    const status = kick.headers.get('content-location');
    await kick.arrayBuffer(); // an unread body keeps the connection busy, and the server would wait for it on close
    if (kick.status !== 202 || !status) throw new Error(`kick-off ${t.id}: ${kick.status}`);
    let res: Response;
    for (;;) {
      res = await fetch(status, { headers: { connection: 'close' } });
      if (res.status !== 202) break;
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 100));
    }
    jobSeconds += (performance.now() - k0) / 1000;
    const manifest = (await res.json()) as { output: { type: string; url: string }[] };
    const counts: Record<string, number> = {};
    for (const o of manifest.output) {
      // No keep-alive: a pooled connection would keep this process alive after the server has closed.
      const file = await fetch(o.url, { headers: { connection: 'close' } });
      let n = 0;
      for await (const chunk of file.body!) for (const b of chunk as Uint8Array) if (b === 10) n++;
      counts[o.type] = (counts[o.type] ?? 0) + n;
      total += n;
    }
    for (const [type, n] of Object.entries(t.resources)) if (n > 0 && counts[type] !== n) mismatches.push(`${t.id}/${type}: ${counts[type] ?? 0} != ${n}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  await app.close();
  await node.close();
  finish({ phase: 'export', resources: total, seconds, extra: { jobSeconds: Number(jobSeconds.toFixed(1)), mismatches } });
}

function runChild(args: string[]): PhaseReport {
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@REPORT '));
  if (r.status !== 0 || !line) throw new Error(`child ${args[1]} failed (${r.status}): ${r.stdout.slice(-2000)}`);
  return JSON.parse(line.slice('@@REPORT '.length)) as PhaseReport;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      patients: { type: 'string', default: '10000' },
      seed: { type: 'string', default: 'bench' },
      work: { type: 'string' },
      batch: { type: 'string', default: '500' },
      keep: { type: 'boolean', default: false },
      child: { type: 'string' },
      region: { type: 'string' },
      data: { type: 'string' },
    },
  });
  if (values.child === 'import') return childImport(values.region!, values.data!, values.batch!);
  if (values.child === 'export') return childExport(values.region!, values.data!);

  const patients = Number(values.patients);
  const work = resolve(values.work ?? mkdtempSync(join(tmpdir(), 'schakel-bulk-bench-')));
  const region = join(work, `region-${patients}-${values.seed}`);
  const data = join(work, 'data');
  rmSync(data, { recursive: true, force: true });
  const reports: PhaseReport[] = [];
  const t0 = performance.now();
  if (!existsSync(join(region, 'region.json'))) {
    const { generateRegion } = await import('../src/synth/index.ts');
    const s = await generateRegion({ patients, seed: values.seed!, outDir: region });
    reports.push({ phase: 'synth', resources: s.totalResources, seconds: (performance.now() - t0) / 1000, cpuSeconds: NaN, maxRssMb: NaN });
  }
  reports.push(runChild(['--child', 'import', '--region', region, '--data', data, '--batch', values.batch!]));
  reports.push(runChild(['--child', 'export', '--region', region, '--data', data]));
  const total = (performance.now() - t0) / 1000;
  process.stdout.write(`\nBulk benchmark: ${patients} patients, batch ${values.batch}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write('phase    resources    wall s   res/s (wall)   cpu s   res/s (cpu)   peak RSS MB\n');
  for (const r of reports) {
    process.stdout.write(
      `${r.phase.padEnd(8)} ${String(r.resources).padStart(9)} ${r.seconds.toFixed(1).padStart(9)} ${String(Math.round(r.resources / r.seconds)).padStart(14)} ${
        Number.isNaN(r.cpuSeconds) ? '      -' : r.cpuSeconds.toFixed(1).padStart(7)
      } ${Number.isNaN(r.cpuSeconds) ? '            -' : String(Math.round(r.resources / r.cpuSeconds)).padStart(13)} ${Number.isNaN(r.maxRssMb) ? '            -' : String(r.maxRssMb).padStart(13)}${
        r.extra ? `  ${JSON.stringify(r.extra)}` : ''
      }\n`,
    );
  }
  process.stdout.write(`total ${total.toFixed(1)}s (synth + import + export)\n`);
  if (!values.keep && !values.work) rmSync(work, { recursive: true, force: true });
  const bad = reports.find((r) => Array.isArray(r.extra?.mismatches) && (r.extra.mismatches as string[]).length > 0);
  if (bad) {
    process.stderr.write(`export counts differ from region.json: ${(bad.extra!.mismatches as string[]).join('; ')}\n`);
    process.exitCode = 1;
  }
}

await main();
