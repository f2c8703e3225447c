/**
 * `schakel demo`: the whole network in one process on the embedded database, ready to use and secure by default.
 *
 *   national role   addressing directory, consent registry, localisation index (NVI), pseudonym service, and
 *                   their token server, under /national/
 *   provider role   one tenant per care organisation of a synthetic region (GP practices, hospital, pharmacy,
 *                   lab, VVT, GGZ, HAP, ambulance) plus two example tenants, each with its token server at
 *                   /auth/{tenant} and every /fhir/{tenant} request behind the enforcement point
 *
 * The first start generates the region (about 1,000 patients, fixed seed: the same data every time), bulk-imports
 * it, issues every organisation a key and certificate from the test PKI and publishes its directory entries;
 * later starts reuse what is stored. Then it runs the consent walkthrough (src/roles/walkthrough.ts) for real and
 * prints each step: a hospital retrieves a patient's data from the GP only while the patient's consent permits it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Condition, Patient, Resource } from 'fhir/r4';
import pino from 'pino';
import { entriesFromRegionTenant } from '../gf/addressing/region.ts';
import type { RunningServer } from '../http/server.ts';
import { sharedPath } from '../paths.ts';
import { isRaw } from '../server/types.ts';
import { isReservedTenant } from '../tenants/registry.ts';
import { planDirectoryImport, runDirectoryImport } from '../bulk/directory.ts';
import { bulkProgress } from '../bulk/progress.ts';
import { startNetworkNode, type NetworkNode } from '../roles/network.ts';
import { onboard } from '../roles/onboarding.ts';
import { consentWalkthrough } from '../roles/walkthrough.ts';
import { localise } from '../roles/localise.ts';
import { DEMO_PGO_LOGIN, demoPgoClient } from '../roles/demo-pgo.ts';
import { regionCitizens } from '../roles/region-citizens.ts';
import { CITIZEN_IDP_PATH } from '../roles/citizen-login.ts';
import { generateRegion, MAX_PATIENTS, type RegionSummary } from '../synth/index.ts';
import { progressReporter } from '../synth/progress.ts';
import { UsageError, parse, port } from './args.ts';
import { waitForSignal } from './serve.ts';

const DEMO_PATIENTS = 1000;
const DEMO_SEED = 'schakel-demo';
const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

export const DEMO_HELP = `Usage: schakel demo [--port N] [--host H] [--data DIR] [--patients N] [--once]

Starts the Schakel network in one process on the embedded SQLite database: the national services (addressing
directory, consent registry, localisation index, pseudonym service) and one provider tenant per care organisation
of a synthetic Dutch region (GP practices, hospital, pharmacy, lab, VVT, GGZ, HAP, ambulance) plus the nl-core
examples. Every tenant requires an access token; the demo shows a hospital retrieving a patient's data from the
GP only while the patient's consent permits it.
  --port N       port (default 8080)
  --host H       address to bind (default 127.0.0.1)
  --data DIR     data directory (default ./data/demo); delete it to start afresh
  --patients N   patients in the generated region (default ${DEMO_PATIENTS}; 0 = no region)
  --once         run the walkthrough and stop (no server left running)
`;

const DEMO_TENANTS = [
  { tenant: 'huisarts', name: 'Huisartsenpraktijk De Linde (demo)', ura: '90000001', organizationType: { code: 'Z3', display: 'Huisartspraktijk (zelfstandig of groepspraktijk)' } },
  { tenant: 'ziekenhuis', name: 'Ziekenhuis Rijnstad (demo)', ura: '90000002', organizationType: { code: 'V4', display: 'Ziekenhuis' } },
];

export async function demoCommand(argv: string[]): Promise<number> {
  const { values, flags } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, patients: { type: 'string' }, once: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const patients = values.patients === undefined ? DEMO_PATIENTS : Number(values.patients);
  if (!Number.isInteger(patients) || patients < 0 || patients > MAX_PATIENTS) throw new UsageError(`--patients '${values.patients}' is not a whole number from 0 to ${MAX_PATIENTS}`);
  const dataDir = values.data ?? join('data', 'demo');
  const net = await startDemo({ port: port(values.port, 8080), host: values.host ?? '127.0.0.1', dataDir, patients });
  const url = net.url;
  process.stdout.write(`\nSchakel demo on ${url}\n  national services: ${url}/national/{directory/fhir,consent,nvi/fhir,prs}\n`);
  process.stdout.write(`  logs: ${join(dataDir, 'logs')}/{ops,security}.log, metrics: ${url}/metrics\n`);
  process.stdout.write(`  citizen login (test DigiD, OpenID Connect): open ${url}${DEMO_PGO_LOGIN} in a browser; IdP ${url}${CITIZEN_IDP_PATH}/.well-known/openid-configuration\n`);
  for (const t of net.server.node.tenants.list().filter((x) => !isReservedTenant(x.tenant))) process.stdout.write(`  ${t.name ?? t.tenant}${t.ura ? ` (URA ${t.ura})` : ''}: ${url}/fhir/${t.tenant}\n`);
  await printWalkthrough(net);
  if (flags.once) {
    await net.close();
    return 0;
  }
  process.stdout.write(
    `\nEvery /fhir/{tenant} request needs a token from ${url}/auth/{tenant}/token (client credentials, private_key_jwt;\n` +
      `organisation keys in ${join(dataDir, 'keys')}). Without one:\n  curl -i ${url}/fhir/huisarts/Patient   → 401\nPress Ctrl+C to stop.\n`,
  );
  await waitForSignal();
  await net.close();
  return 0;
}

export interface DemoOptions {
  port: number;
  host: string;
  dataDir: string;
  patients: number;
}

/** Starts the demo network, loads its data and onboards every organisation (also used by the end-to-end test). */
export async function startDemo(o: DemoOptions): Promise<NetworkNode> {
  // The console tells the story; the operations and security streams go to files beside the data.
  const logs = join(o.dataDir, 'logs');
  const logger = { ops: pino.destination({ dest: join(logs, 'ops.log'), mkdir: true, sync: true }), security: pino.destination({ dest: join(logs, 'security.log'), mkdir: true, sync: true }) };
  const regionDir = join(o.dataDir, `region-${o.patients}`);
  // The citizen IdP reads the region's people at its first request; the files are complete once region.json is written.
  const citizens = async () => {
    if (o.patients === 0) return { citizens: [], parentChild: [], mandates: [] };
    if (!existsSync(join(regionDir, 'region.json'))) throw new Error('the region is still being generated');
    return regionCitizens(regionDir);
  };
  const citizenLogin = { citizens, clients: (base: string) => [demoPgoClient(base)] };
  const net = await startNetworkNode({ port: o.port, host: o.host, db: 'sqlite', dataDir: o.dataDir, national: true, logger, citizenLogin, demoPgo: true });
  try {
    const server = net.server;
    for (const t of DEMO_TENANTS) await server.node.tenants.ensure({ tenant: t.tenant, name: t.name, ura: t.ura, settings: { organizationType: t.organizationType.code } });
    await loadExamples(server, 'ziekenhuis');
    const region = o.patients > 0 ? await loadRegion(server, regionDir, o.patients) : undefined;
    const entries = [
      ...DEMO_TENANTS.map((t) => ({ ura: t.ura, name: t.name, organizationType: t.organizationType, fhirBase: `${net.url}/fhir/${t.tenant}` })),
      ...(region?.tenants ?? []).map((t) => entriesFromRegionTenant(t, net.url)),
    ];
    let n = 0;
    for (const e of entries) {
      await onboard(net.keys, net.tokens, net.url, e);
      n++;
    }
    const report = await net.provider!.startDirectorySync();
    const replicated = Object.values(report?.types ?? {}).reduce((a, t) => a + (t?.applied ?? 0) + (t?.unchanged ?? 0), 0);
    process.stdout.write(`Published ${n} organisations in the addressing directory; the node's replica holds ${replicated} entries\n`);
    return net;
  } catch (e) {
    await net.close();
    throw e;
  }
}

/** Runs the consent walkthrough between the region's first GP practice and its hospital, and prints it. */
async function printWalkthrough(net: NetworkNode): Promise<void> {
  const tenants = net.server.node.tenants.list();
  const gp = tenants.find((t) => t.tenant.startsWith('gp-') && t.ura) ?? tenants.find((t) => t.tenant === 'huisarts');
  const hospital = tenants.find((t) => t.tenant.startsWith('hospital-') && t.ura) ?? tenants.find((t) => t.tenant === 'ziekenhuis');
  if (!gp?.ura || !hospital?.ura) return;
  const patient = await patientWithConditions(net.server, gp.tenant);
  if (!patient) {
    process.stdout.write(`\n(No patient with conditions in '${gp.tenant}': walkthrough skipped)\n`);
    return;
  }
  const bsn = patient.bsn;
  await registered(net, gp.tenant, patient.id);
  process.stdout.write(`\nWalkthrough: ${hospital.name ?? hospital.tenant} asks ${gp.name ?? gp.tenant} for a patient's conditions\n`);
  const steps = await consentWalkthrough({
    url: net.url,
    nationalBase: net.url,
    tokens: net.tokens,
    gp: { tenant: gp.tenant, ura: gp.ura },
    hospital: { ura: hospital.ura },
    bsn,
    localise: () => localise({ node: net.server.node, tokens: net.tokens, nationalBase: net.url, ura: hospital.ura!, bsn, category: 'Condition' }),
  });
  for (const s of steps) process.stdout.write(`  ${String(s.status).padEnd(4)}${s.step}${s.detail ? ` — ${s.detail}` : ''}\n`);
}

/**
 * Waits (at most 30 s) until the GP node has registered the walkthrough's patient at the localisation index: on a
 * first start the whole region is still being registered in the background, so that patient goes first.
 */
async function registered(net: NetworkNode, tenant: string, patientId: string): Promise<void> {
  const registrar = net.localisation?.registrar;
  if (!registrar) return;
  await registrar.prioritise(tenant, patientId);
  const until = Date.now() + 30_000;
  while (Date.now() < until && (await registrar.backlog({ tenant, patientId })) > 0) await new Promise((r) => setTimeout(r, 250));
  const backlog = await registrar.backlog();
  if (backlog > 0) process.stdout.write(`(${backlog} registrations at the localisation index are still being sent in the background)\n`);
}

/** A patient of the tenant who has at least one condition, with the BSN (read inside the node, not over the API). */
export async function patientWithConditions(server: RunningServer, tenant: string): Promise<{ id: string; bsn: string } | undefined> {
  const scope = { tenant, base: `${server.url}/fhir/${tenant}`, strict: false };
  const parse = (body: unknown) => (body && isRaw(body as never) ? JSON.parse((body as { raw: string }).raw) : body) as Bundle;
  const conditions = parse((await server.node.dispatch(scope, { method: 'GET', path: 'Condition', query: [['_count', '1']], headers: {} })).body);
  const subject = (conditions.entry?.[0]?.resource as Condition | undefined)?.subject?.reference;
  if (!subject) return undefined;
  const patient = parse((await server.node.dispatch(scope, { method: 'GET', path: subject, query: [], headers: {} })).body) as unknown as Patient;
  const bsn = patient.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
  return bsn && patient.id ? { id: patient.id, bsn } : undefined;
}

/**
 * Generates the demo region once (files kept in the data directory) and bulk-imports it. The import is
 * checkpointed per file, so a later start — or a start after an interrupted first one — only does what is left.
 */
async function loadRegion(server: RunningServer, dir: string, patients: number): Promise<RegionSummary> {
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
  return JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8')) as RegionSummary;
}

/** Loads the nl-core example instances into a tenant once (as one transaction per file batch). */
async function loadExamples(server: RunningServer, tenant: string): Promise<void> {
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
