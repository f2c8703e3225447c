/**
 * `schakel demo`: one process with demo tenants and example data on the embedded database, ready to use.
 * The first start loads the example data; later starts reuse what is stored.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from 'fhir/r4';
import { startServer } from '../http/server.ts';
import { sharedPath } from '../paths.ts';
import { isRaw } from '../server/types.ts';
import { parse, port } from './args.ts';
import { waitForSignal } from './serve.ts';

export const DEMO_HELP = `Usage: schakel demo [--port N] [--host H] [--data DIR]

Starts Schakel with demo tenants and example data on the embedded SQLite database.
  --port N     port (default 8080)
  --host H     address to bind (default 127.0.0.1)
  --data DIR   data directory (default ./data/demo); delete it to start afresh
`;

const DEMO_TENANTS = [
  { tenant: 'huisarts', name: 'Huisartsenpraktijk De Linde (demo)', ura: '90000001' },
  { tenant: 'ziekenhuis', name: 'Ziekenhuis Rijnstad (demo)', ura: '90000002' },
];

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' } });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const server = await startServer({ port: port(values.port, 8080), host: values.host ?? '127.0.0.1', db: 'sqlite', dataDir: values.data ?? join('data', 'demo') });
  for (const t of DEMO_TENANTS) await server.node.tenants.ensure(t);
  await loadExamples(server, 'ziekenhuis');
  process.stdout.write(`Schakel demo on ${server.url}\n`);
  for (const t of server.node.tenants.list()) process.stdout.write(`  ${t.name}: ${server.url}/fhir/${t.tenant}\n`);
  process.stdout.write(`Try: curl ${server.url}/fhir/ziekenhuis/Patient\nPress Ctrl+C to stop.\n`);
  await waitForSignal();
  await server.close();
  return 0;
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
