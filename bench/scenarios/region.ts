/**
 * The synthetic region the crud, search and import scenarios run on: generated once per run with
 * `schakel synth` of the candidate checkout (so baseline and candidate get byte-identical data), then loaded
 * into each target — with `schakel import --tenant T` of the target's own checkout before its server starts,
 * or, for an external server or a checkout without `schakel import`, over HTTP as transaction bundles of PUTs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, BundleEntry, CodeableConcept, Encounter, FhirResource, Observation, Organization, Patient } from 'fhir/r4';
import { FHIR_JSON, peakRssMb } from './common.ts';
import type { Ctx, Storage, Target } from './types.ts';

export interface RegionTenant {
  id: string;
  resources: Record<string, number>;
}

export interface Region {
  dir: string;
  patients: number;
  totalResources: number;
  tenants: RegionTenant[];
  /** The tenant crud and search run against. */
  tenant: string;
  generateSeconds: number;
}

/** Values drawn from the loaded tenant's data, for search parameters. */
export interface Pools {
  patientIds: string[];
  bsns: string[];
  families: string[];
  givens: string[];
  cities: string[];
  birthDates: string[];
  organisationNames: string[];
  observationDates: string[];
  observationCategories: { system: string; code: string }[];
  observationCodes: { system: string; code: string }[];
  encounterDates: string[];
}

function clinicalWeight(t: RegionTenant): number {
  return (t.resources.Patient ?? 0) + (t.resources.Observation ?? 0) + (t.resources.Encounter ?? 0);
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  peakRssMb: number;
}

/** Runs a command, sampling VmHWM of the process every 100 ms (the last sample before exit is its peak). */
export function runProcess(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const proc = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = NaN;
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setInterval(() => {
      const v = peakRssMb(proc.pid);
      if (Number.isFinite(v)) peak = v;
    }, 100);
    proc.once('error', (e) => {
      clearInterval(timer);
      fail(e);
    });
    proc.once('exit', (code) => {
      clearInterval(timer);
      ok({ code: code ?? 1, stdout, stderr, seconds: (performance.now() - t0) / 1000, peakRssMb: peak });
    });
  });
}

export async function ensureRegion(ctx: Ctx): Promise<Region> {
  const cached = ctx.shared.get('region') as Region | undefined;
  if (cached) return cached;
  const dir = join(ctx.workDir, `region-${ctx.opts.patients}-seed${ctx.opts.seed}`);
  const t0 = performance.now();
  if (!existsSync(join(dir, 'region.json'))) {
    ctx.log(`synth: ${ctx.opts.patients} patients → ${dir}`);
    const r = await runProcess(process.execPath, [join(ctx.benchRoot, 'bin/schakel.js'), 'synth', '--patients', String(ctx.opts.patients), '--seed', String(ctx.opts.seed), '--out', dir], ctx.benchRoot);
    if (r.code !== 0) throw new Error(`schakel synth failed (${r.code}): ${r.stderr.slice(-1000)}`);
  }
  const summary = JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8')) as { patients: number; tenants: RegionTenant[] };
  const tenants = summary.tenants.map((t) => ({ id: t.id, resources: t.resources }));
  const chosen = ctx.opts.tenant ?? [...tenants].sort((a, b) => clinicalWeight(b) - clinicalWeight(a))[0]?.id;
  if (!chosen || !tenants.some((t) => t.id === chosen)) throw new Error(`region has no tenant '${chosen}' (has: ${tenants.map((t) => t.id).join(', ')})`);
  const region: Region = {
    dir,
    patients: summary.patients,
    totalResources: tenants.reduce((n, t) => n + Object.values(t.resources).reduce((a, b) => a + b, 0), 0),
    tenants,
    tenant: chosen,
    generateSeconds: (performance.now() - t0) / 1000,
  };
  ctx.shared.set('region', region);
  return region;
}

function readNdjson<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export function tenantResources(region: Region, tenant: string): FhirResource[] {
  const t = region.tenants.find((x) => x.id === tenant);
  if (!t) return [];
  return Object.keys(t.resources).flatMap((type) => readNdjson<FhirResource>(join(region.dir, tenant, `${type}.ndjson`)));
}

function uniq<T>(items: T[], key: (t: T) => string = String): T[] {
  const seen = new Map<string, T>();
  for (const i of items) if (!seen.has(key(i))) seen.set(key(i), i);
  return [...seen.values()];
}

export function pools(ctx: Ctx, region: Region): Pools {
  const cached = ctx.shared.get('pools') as Pools | undefined;
  if (cached) return cached;
  const dir = join(region.dir, region.tenant);
  const patients = readNdjson<Patient>(join(dir, 'Patient.ndjson'));
  const observations = readNdjson<Observation>(join(dir, 'Observation.ndjson'));
  const encounters = readNdjson<Encounter>(join(dir, 'Encounter.ndjson'));
  const organisations = readNdjson<Organization>(join(dir, 'Organization.ndjson'));
  const codings = (cc: CodeableConcept[] | CodeableConcept | undefined) =>
    (Array.isArray(cc) ? cc : cc ? [cc] : []).flatMap((c) => c.coding ?? []).filter((c) => c.system && c.code).map((c) => ({ system: c.system!, code: c.code! }));
  const p: Pools = {
    patientIds: patients.map((x) => x.id!),
    bsns: patients.flatMap((x) => (x.identifier ?? []).filter((i) => i.system === 'http://fhir.nl/fhir/NamingSystem/bsn').map((i) => i.value!)),
    families: uniq(patients.flatMap((x) => (x.name ?? []).map((n) => n.family).filter((f): f is string => !!f))),
    givens: uniq(patients.flatMap((x) => (x.name ?? []).flatMap((n) => n.given ?? []))),
    cities: uniq(patients.flatMap((x) => (x.address ?? []).map((a) => a.city).filter((c): c is string => !!c))),
    birthDates: uniq(patients.map((x) => x.birthDate).filter((d): d is string => !!d)),
    organisationNames: uniq(organisations.map((o) => o.name).filter((n): n is string => !!n)),
    observationDates: uniq(observations.map((o) => o.effectiveDateTime ?? o.effectivePeriod?.start).filter((d): d is string => !!d)),
    observationCategories: uniq(observations.flatMap((o) => codings(o.category)), (c) => `${c.system}|${c.code}`),
    observationCodes: uniq(observations.flatMap((o) => codings(o.code)), (c) => `${c.system}|${c.code}`),
    encounterDates: uniq(encounters.map((e) => e.period?.start?.slice(0, 10)).filter((d): d is string => !!d)),
  };
  ctx.shared.set('pools', p);
  return p;
}

/** Whether a checkout has `schakel import` (src/cli/import.ts, added with the bulk work). */
export function hasImport(root: string | undefined): boolean {
  return !!root && existsSync(join(root, 'src/cli/import.ts'));
}

/** Loads the region's bench tenant into a target's database with its own `schakel import` (server not running). */
export async function importTenant(ctx: Ctx, root: string, storage: Storage, region: Region): Promise<void> {
  const r = await runProcess(process.execPath, [join(root, 'bin/schakel.js'), 'import', region.dir, '--tenant', region.tenant, '--quiet', ...storage.childArgs], root);
  if (r.code !== 0) throw new Error(`schakel import --tenant ${region.tenant} failed (${r.code}): ${(r.stdout + r.stderr).slice(-1500)}`);
  ctx.log(`loaded ${region.tenant} with schakel import: ${r.stdout.trim().split('\n').pop()}`);
}

/** Loads the region's bench tenant over HTTP: transaction bundles of 100 PUTs (ids kept), in file order. */
export async function uploadTenant(ctx: Ctx, target: Target, region: Region): Promise<void> {
  const resources = tenantResources(region, region.tenant);
  // Referenced types first, so servers that check references on write find them.
  const order = ['Organization', 'Location', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Endpoint', 'Medication', 'Patient', 'Binary'];
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  resources.sort((a, b) => rank(a.resourceType) - rank(b.resourceType));
  const url = target.origin + target.fhirPath(region.tenant);
  for (let i = 0; i < resources.length; i += 100) {
    const entry: BundleEntry[] = resources.slice(i, i + 100).map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } }));
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry };
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON, prefer: 'return=minimal' }, body: JSON.stringify(bundle) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`upload of ${region.tenant} to ${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
  }
  ctx.log(`loaded ${region.tenant} over HTTP: ${resources.length} resources`);
}
