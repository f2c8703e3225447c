/**
 * `import` — bulk throughput: the synthetic region (`schakel synth --patients N`, generated once per run) is
 * loaded with `schakel import DIR` of the target's checkout into a fresh, empty database (resources/s over the
 * wall time of the command, peak RSS of the import process); then, when the checkout has bulk export
 * (src/bulk/routes.ts), a server on that database exports every tenant with `$export` (kick-off, poll, download
 * of every NDJSON file): resources/s from kick-off to the last byte, and the server's peak RSS (VmHWM from
 * /proc/PID/status, read after the export; the server did nothing else). Local Schakel checkouts only.
 *
 * Health Samurai's import scenario instead POSTs Synthea transaction bundles (one per patient) with 20 virtual
 * users; that shape is the `ingest` scenario here (transaction bundles of 100, `--ingest-clients`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FHIR_JSON, failed, peakRssMb } from './common.ts';
import { ensureRegion, hasImport, runProcess } from './region.ts';
import type { Ctx, Metric, Scenario } from './types.ts';

const NAME = 'import';

async function exportAll(ctx: Ctx, origin: string, tenants: { id: string; resources: Record<string, number> }[]): Promise<{ resources: number; seconds: number; mismatches: string[] }> {
  const t0 = performance.now();
  let total = 0;
  const mismatches: string[] = [];
  for (const t of tenants) {
    const kick = await fetch(`${origin}/fhir/${t.id}/$export`, { headers: { prefer: 'respond-async', accept: FHIR_JSON } });
    const status = kick.headers.get('content-location');
    await kick.arrayBuffer();
    if (kick.status !== 202 || !status) throw new Error(`$export kick-off for ${t.id}: HTTP ${kick.status}`);
    let res: Response;
    for (;;) {
      res = await fetch(status, { headers: { accept: 'application/json' } });
      if (res.status !== 202) break;
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 50));
    }
    if (res.status !== 200) throw new Error(`$export status for ${t.id}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    const manifest = (await res.json()) as { output: { type: string; url: string }[] };
    const counts: Record<string, number> = {};
    for (const o of manifest.output) {
      const file = await fetch(o.url, { headers: { accept: 'application/fhir+ndjson' } });
      let n = 0;
      for await (const chunk of file.body ?? []) for (const b of chunk as Uint8Array) if (b === 10) n++;
      counts[o.type] = (counts[o.type] ?? 0) + n;
      total += n;
    }
    for (const [type, n] of Object.entries(t.resources)) if (n > 0 && counts[type] !== n) mismatches.push(`${t.id}/${type}: ${counts[type] ?? 0}≠${n}`);
  }
  ctx.log(`export: ${total} resources`);
  return { resources: total, seconds: (performance.now() - t0) / 1000, mismatches };
}

export const importScenario: Scenario = {
  name: NAME,
  title: 'schakel synth region → `schakel import` into a fresh database (resources/s, peak RSS) → $export of every tenant (resources/s, server peak RSS)',
  localOnly: true,
  async setup(ctx: Ctx) {
    await ensureRegion(ctx);
  },
  async run(ctx: Ctx): Promise<Metric[]> {
    const region = await ensureRegion(ctx);
    const { target } = ctx;
    const root = target.root;
    if (!root || !target.freshStorage) return [failed(NAME, 'import', 'resources/s', 'not a local Schakel checkout')];
    if (!hasImport(root)) return [failed(NAME, 'import', 'resources/s', 'this checkout has no `schakel import` (src/cli/import.ts)')];
    const storage = await target.freshStorage('import');
    const metrics: Metric[] = [];
    try {
      const r = await runProcess(process.execPath, [join(root, 'bin/schakel.js'), 'import', region.dir, '--quiet', ...storage.childArgs], root);
      if (r.code !== 0) return [failed(NAME, 'import', 'resources/s', `schakel import exited ${r.code}: ${(r.stdout + r.stderr).replace(/\s+/g, ' ').slice(-300)}`)];
      const m = /(\d+) resources written in ([\d.]+)s/.exec(r.stdout);
      const written = Number(m?.[1] ?? NaN);
      ctx.log(`import: ${r.stdout.trim().split('\n').pop()}`);
      metrics.push({
        scenario: NAME,
        name: 'import',
        unit: 'resources/s',
        value: written / r.seconds,
        higherIsBetter: true,
        requests: written,
        note: `${written} resources in ${r.seconds.toFixed(1)} s wall (process start to exit)${written !== region.totalResources ? `; region.json lists ${region.totalResources}` : ''}`,
      });
      metrics.push({
        scenario: NAME,
        name: 'import (own timer)',
        unit: 'resources/s',
        value: written / Number(m?.[2] ?? NaN),
        higherIsBetter: true,
        note: 'the rate `schakel import` reports itself: without process start-up, module loading and opening the database',
      });
      metrics.push({ scenario: NAME, name: 'import peak RSS', unit: 'MB', value: r.peakRssMb, higherIsBetter: false });

      if (!existsSync(join(root, 'src/bulk/routes.ts'))) {
        metrics.push(failed(NAME, 'export', 'resources/s', 'this checkout has no bulk export (src/bulk/routes.ts)'));
        return metrics;
      }
      const bulkDir = join(ctx.workDir, `bulk-${target.label}-${storage.engine}`);
      mkdirSync(bulkDir, { recursive: true });
      const server = await ctx.startChild('server-child.ts', [...storage.childArgs, '--bulk-dir', bulkDir, '--tenant', ''], `${target.label}-${storage.engine}-export.log`);
      try {
        const rssBefore = peakRssMb(server.pid);
        const e = await exportAll(ctx, server.url, region.tenants);
        metrics.push({
          scenario: NAME,
          name: 'export',
          unit: 'resources/s',
          value: e.resources / e.seconds,
          higherIsBetter: true,
          requests: e.resources,
          note: `${e.resources} resources in ${e.seconds.toFixed(1)} s (kick-off to last byte, tenants one after another)${e.mismatches.length ? `; counts differ from region.json: ${e.mismatches.slice(0, 5).join(', ')}` : ''}`,
        });
        metrics.push({ scenario: NAME, name: 'export server peak RSS', unit: 'MB', value: peakRssMb(server.pid), higherIsBetter: false, note: `server VmHWM after start-up: ${rssBefore.toFixed(0)} MB` });
      } finally {
        await server.stop();
      }
    } finally {
      await storage.cleanup();
    }
    return metrics;
  },
};
