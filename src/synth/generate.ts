/**
 * generateRegion: builds the care landscape, then streams patients one at a time — each patient's records
 * are written to the tenants that treated them and then dropped, so memory stays flat however many patients
 * are asked for. The same seed (and reference date) yields byte-identical output.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findRegion } from './data/places.ts';
import { PRODUCTS, type Sector } from './data/terminology.ts';
import { isoDate, parseDay } from './dates.ts';
import { BsnPool, BSN_TEST_CAPACITY } from './identifiers.ts';
import { makePerson } from './person.ts';
import { makePlan } from './plan.ts';
import { Rng } from './prng.ts';
import { buildRegion, staffOf, type Region, type Tenant } from './region.ts';
import { PatientScope, registerProducts } from './scope.ts';
import { writeGgz } from './sectors/ggz.ts';
import { writeGp } from './sectors/gp.ts';
import { writeHap } from './sectors/hap.ts';
import { writeHospital } from './sectors/hospital.ts';
import { writePharmacy } from './sectors/pharmacy.ts';
import { writeVvt } from './sectors/vvt.ts';
import { RegionSink } from './sink.ts';
import { NdjsonWriter } from './writer.ts';

export const DEFAULT_AS_OF = '2025-06-01';
export const MAX_PATIENTS = BSN_TEST_CAPACITY;

export interface GenerateOptions {
  patients: number;
  seed: string | number;
  /** Region name; Utrecht, Groningen and Zuid-Limburg have their own geography, other names use Utrecht's. */
  region?: string;
  outDir: string;
  onProgress?: (done: number, total: number) => void;
  /** Reference day the history runs up to (YYYY-MM-DD); fixed by default so output does not age. */
  asOf?: string;
}

export interface TenantSummary {
  id: string;
  name: string;
  sector: Sector;
  ura: string;
  agb: string;
  organisations: { reference: string; name: string; ura?: string; agb?: string; partOf?: string }[];
  endpoints: { reference: string; address: string }[];
  healthcareServices: { reference: string; name: string }[];
  /** Resources written per type. */
  resources: Record<string, number>;
}

export interface RegionSummary {
  region: string;
  seed: string;
  asOf: string;
  patients: number;
  tenants: TenantSummary[];
  totalResources: number;
}

export async function generateRegion(opts: GenerateOptions): Promise<RegionSummary> {
  if (!Number.isInteger(opts.patients) || opts.patients < 1) throw new RangeError(`patients must be a positive integer, got ${opts.patients}`);
  if (opts.patients > MAX_PATIENTS) {
    throw new RangeError(`patients must be at most ${MAX_PATIENTS}: that is how many valid test BSNs (999xxxxxx) exist`);
  }
  const seed = String(opts.seed);
  const asOfIso = opts.asOf ?? DEFAULT_AS_OF;
  const asOf = parseDay(asOfIso);
  const root = new Rng(`schakel-synth/${seed}`);
  const geo = findRegion(opts.region);
  const region = buildRegion(root.fork('region'), geo, opts.patients);
  registerProducts(region.directory, Object.values(PRODUCTS));

  mkdirSync(opts.outDir, { recursive: true });
  const writer = new NdjsonWriter(opts.outDir);
  const sink = new RegionSink(writer, region.directory);
  for (const t of region.tenants) {
    for (const r of [t.organization, t.location, t.endpoint, ...t.services, ...t.departments.map((d) => d.organization)]) {
      sink.ensure(t.id, `${r.resourceType}/${r.id}`);
    }
    for (const s of t.staff) sink.ensure(t.id, `PractitionerRole/${s.role.id}`);
  }

  const bsns = new BsnPool(root.fork('bsn'));
  for (let i = 0; i < opts.patients; i++) {
    writePatient(root.fork(`patient/${i}`), region, sink, bsns.at(i), i, asOf);
    opts.onProgress?.(i + 1, opts.patients);
    // Let timers (progress output, signal handlers) run now and then; the work itself is synchronous.
    if (i % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
  }
  writer.flush();

  const summary: RegionSummary = {
    region: region.name,
    seed,
    asOf: isoDate(asOf),
    patients: opts.patients,
    tenants: region.tenants.map((t) => tenantSummary(t, writer)),
    totalResources: 0,
  };
  summary.totalResources = summary.tenants.reduce((n, t) => n + Object.values(t.resources).reduce((a, b) => a + b, 0), 0);
  writeFileSync(join(opts.outDir, 'region.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

function pickNear(rng: Rng, tenants: Tenant[], city: string): Tenant {
  const near = tenants.filter((t) => t.city.name === city);
  return rng.pick(near.length > 0 ? near : tenants);
}

function writePatient(rng: Rng, region: Region, sink: RegionSink, bsn: string, index: number, asOf: number): void {
  const person = makePerson(rng.fork('person'), index, bsn, region.geo, region.insurers, asOf);
  const choose = rng.fork('providers');
  const gp = pickNear(choose, region.bySector.gp, person.city.name);
  const gpDoctor = choose.pick(staffOf(gp, 'gp'));
  const pharmacy = pickNear(choose, region.bySector.pharmacy, person.city.name);
  const hospital = choose.pick(region.bySector.hospital);
  const vvt = pickNear(choose, region.bySector.vvt, person.city.name);
  const ggz = choose.pick(region.bySector.ggz);
  const hap = choose.pick(region.bySector.hap);
  const plan = makePlan(rng.fork('plan'), person, asOf);

  const scope = new PatientScope(sink, region, person, gp, gpDoctor, pharmacy, asOf, rng);
  writeGp(scope, plan);
  writePharmacy(scope, plan);
  writeHospital(scope, plan, hospital);
  writeVvt(scope, plan, vvt);
  writeGgz(scope, plan, ggz);
  writeHap(scope, plan, hap);
}

function tenantSummary(t: Tenant, writer: NdjsonWriter): TenantSummary {
  const identifier = (system: string, o: { identifier?: { system?: string; value?: string }[] }) => o.identifier?.find((i) => i.system === system)?.value;
  const counts = writer.counts.get(t.id) ?? new Map<string, number>();
  return {
    id: t.id,
    name: t.name,
    sector: t.sector,
    ura: t.ura,
    agb: t.agb,
    organisations: [t.organization, ...t.departments.map((d) => d.organization)].map((o) => ({
      reference: `Organization/${o.id}`,
      name: o.name!,
      ...(identifier('http://fhir.nl/fhir/NamingSystem/ura', o) ? { ura: identifier('http://fhir.nl/fhir/NamingSystem/ura', o) } : {}),
      ...(identifier('http://fhir.nl/fhir/NamingSystem/agb-z', o) ? { agb: identifier('http://fhir.nl/fhir/NamingSystem/agb-z', o) } : {}),
      ...(o.partOf?.reference ? { partOf: o.partOf.reference } : {}),
    })),
    endpoints: [{ reference: `Endpoint/${t.endpoint.id}`, address: t.endpoint.address }],
    healthcareServices: t.services.map((s) => ({ reference: `HealthcareService/${s.id}`, name: s.name! })),
    resources: Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b))),
  };
}
