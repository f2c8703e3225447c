/**
 * `schakel demo`: one process with demo tenants and example data on the embedded database, ready to use.
 * The first start generates a synthetic region (about 1,000 patients, fixed seed: the same data every time)
 * and bulk-imports it, creating its tenants, and loads the nl-core examples; later starts reuse what is stored
 * (the import's checkpoints say every file is done, so nothing is read again).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from 'fhir/r4';
import { startServer } from '../http/server.ts';
import { sharedPath } from '../paths.ts';
import { isRaw } from '../server/types.ts';
import { planDirectoryImport, runDirectoryImport } from '../bulk/directory.ts';
import { bulkProgress } from '../bulk/progress.ts';
import { generateRegion, MAX_PATIENTS } from '../synth/index.ts';
import { progressReporter } from '../synth/progress.ts';
import { UsageError, parse, port } from './args.ts';
import { waitForSignal } from './serve.ts';

const DEMO_PATIENTS = 1000;
const DEMO_SEED = 'schakel-demo';

export const DEMO_HELP = `Usage: schakel demo [--port N] [--host H] [--data DIR] [--patients N]

Starts Schakel with demo tenants and example data on the embedded SQLite database: a synthetic Dutch region
(GP practices, hospital, pharmacy, lab, VVT, GGZ, HAP, ambulance; one tenant each) and the nl-core examples.
  --port N       port (default 8080)
  --host H       address to bind (default 127.0.0.1)
  --data DIR     data directory (default ./data/demo); delete it to start afresh
  --patients N   patients in the generated region (default ${DEMO_PATIENTS}; 0 = no region)
`;


const DEMO_TENANTS = [
  { tenant: 'huisarts', name: 'Huisartsenpraktijk De Linde (demo)', ura: '90000001' },
  { tenant: 'ziekenhuis', name: 'Ziekenhuis Rijnstad (demo)', ura: '90000002' },
];

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, patients: { type: 'string' } });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const patients = values.patients === undefined ? DEMO_PATIENTS : Number(values.patients);
  if (!Number.isInteger(patients) || patients < 0 || patients > MAX_PATIENTS) throw new UsageError(`--patients '${values.patients}' is not a whole number from 0 to ${MAX_PATIENTS}`);
  const dataDir = values.data ?? join('data', 'demo');
  const server = await startServer({ port: port(values.port, 8080), host: values.host ?? '127.0.0.1', db: 'sqlite', dataDir });
  for (const t of DEMO_TENANTS) await server.node.tenants.ensure(t);
  await loadExamples(server, 'ziekenhuis');
  if (patients > 0) await loadRegion(server, join(dataDir, `region-${patients}`), patients);
  process.stdout.write(`Schakel demo on ${server.url}\n`);
  for (const t of server.node.tenants.list()) process.stdout.write(`  ${t.name}: ${server.url}/fhir/${t.tenant}\n`);
  process.stdout.write(`Try: curl ${server.url}/fhir/ziekenhuis/Patient\nPress Ctrl+C to stop.\n`);
  await waitForSignal();
  await server.close();
  return 0;
}

/**
 * Generates the demo region once (files kept in the data directory) and bulk-imports it. The import is
 * checkpointed per file, so a later start — or a start after an interrupted first one — only does what is left.
 */
async function loadRegion(server: Awaited<ReturnType<typeof startServer>>, dir: string, patients: number): Promise<void> {
  if (!existsSync(join(dir, 'region.json'))) {
    process.stderr.write(`Generating a synthetic region of ${patients} patients (first start only)\n`);
    await generateRegion({ patients, seed: DEMO_SEED, outDir: dir, onProgress: progressReporter() });
  }
  const plan = planDirectoryImport(dir);
  const progress = bulkProgress('loading region');
  const res = await runDirectoryImport(server.node.deps, plan, { onProgress: progress });
  progress.finish();
  const skipped = res.files.every((f) => f.skipped);
  process.stdout.write(
    skipped
      ? `Region ${plan.region?.region ?? ''} (${patients} patients) already loaded\n`
      : `Loaded region ${plan.region?.region ?? ''}: ${res.written} resources into ${plan.tenants.length} tenants in ${res.seconds.toFixed(1)}s\n`,
  );
  if (res.errors > 0) process.stderr.write(`${res.errors} generated resources were rejected\n`);
}

/** Loads the nl-core example instances into a tenant once (as one transaction per file batch). */
async function loadExamples(server: Awaited<ReturnType<typeof startServer>>, tenant: string): Promise<void> {
  const dir = sharedPath('fhir', 'hl7nl-zib2020-ig-build', 'package', 'example');
  if (!existsSync(dir)) return;
  const scope = { tenant, base: `${server.url}/fhir/${tenant}`, strict: false };
  const probe = await server.node.dispatch(scope, { method: 'GET', path: 'Patient', query: [['_count', '1']], headers: {} });
  if (probe.body && isRaw(probe.body) && probe.body.raw.includes('"entry":[{')) return;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const resources = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource).filter((r) => r.resourceType !== 'Bundle' && r.id);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
  };
  const res = await server.node.dispatch(scope, { method: 'POST', path: '', query: [], headers: { prefer: 'return=minimal' }, body: bundle });
  const out = res.body as Bundle;
  const ok = (out.entry ?? []).filter((e) => e.response?.status?.startsWith('2')).length;
  process.stdout.write(`Loaded ${ok} of ${resources.length} nl-core example resources into '${tenant}'\n`);
}
