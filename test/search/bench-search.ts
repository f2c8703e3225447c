/**
 * Search benchmark (not a test): extraction cost per resource, ingest throughput through the real store
 * (resource + history + index rows in one transaction), and query latency for typical searches.
 * Run: node --import tsx test/search/bench-search.ts [sqlite|postgres] [N]
 */
import type { FhirResource, Observation, Patient } from 'fhir/r4';
import { sql } from 'kysely';
import { openSearchDb } from '../helpers/postgres.ts';
import { put, search } from './_support.ts';
import { extractIndexRows, extractionStats } from '../../src/search/extract.ts';
import { replaceIndexRows } from '../../src/search/index-tables.ts';

const dialect = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const N = Number(process.argv[3] ?? 20000);

function data(n: number): FhirResource[] {
  const out: FhirResource[] = [];
  const patients = Math.max(1, Math.floor(n / 10));
  for (let i = 0; i < patients; i++) {
    const p: Patient = {
      resourceType: 'Patient',
      id: `p${i}`,
      identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: String(100000000 + i) }],
      name: [{ family: `Familie${i % 997}`, given: [`Voornaam${i % 101}`] }],
      gender: i % 2 ? 'male' : 'female',
      birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
      address: [{ city: ['Utrecht', 'Amsterdam', 'Zwolle'][i % 3], postalCode: `35${i % 100}AB` }],
      managingOrganization: { reference: 'Organization/org1' },
    };
    out.push(p);
  }
  for (let i = 0; out.length < n; i++) {
    const o: Observation = {
      resourceType: 'Observation',
      id: `o${i}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: ['8867-4', '29463-7', '8480-6'][i % 3], display: 'x' }] },
      subject: { reference: `Patient/p${i % patients}` },
      effectiveDateTime: new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString(),
      valueQuantity: { value: 50 + (i % 100), unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    };
    out.push(o);
  }
  return out;
}

const all = data(N);
// Extraction alone (warm up, then measure CPU time: the machine may be shared).
for (const r of all.slice(0, 2000)) extractIndexRows(r);
let cpu = process.cpuUsage();
let rows = 0;
for (const r of all) rows += Object.values(extractIndexRows(r)).reduce((a, b) => a + b.length, 0);
let used = process.cpuUsage(cpu);
console.log(`extraction: ${((used.user + used.system) / all.length).toFixed(1)} µs CPU/resource, ${(rows / all.length).toFixed(1)} index rows/resource, fast/fallback expressions ${extractionStats.fast}/${extractionStats.fallback}`);

const { engine, close } = await openSearchDb(dialect);
// Index rows alone (extract + delete + insert), in transactions of 500, into a scratch tenant.
cpu = process.cpuUsage();
let t = performance.now();
for (let i = 0; i < all.length; i += 500) {
  await engine.db.transaction().execute((trx) => replaceIndexRows(trx, 'scratch', all.slice(i, i + 500).map((r) => ({ type: r.resourceType, id: r.id!, resource: r }))));
}
used = process.cpuUsage(cpu);
console.log(`replaceIndexRows (${dialect}): ${(((performance.now() - t) * 1000) / all.length).toFixed(0)} µs wall, ${((used.user + used.system) / all.length).toFixed(0)} µs CPU per resource`);
t = performance.now();
const BATCH = 500;
for (let i = 0; i < all.length; i += BATCH) await put(engine, 't1', all.slice(i, i + BATCH));
const secs = (performance.now() - t) / 1000;
console.log(`ingest (${dialect}, batches of ${BATCH}): ${(all.length / secs).toFixed(0)} resources/s (${all.length} in ${secs.toFixed(1)} s)`);

// Steady state: a production database has planner statistics (PostgreSQL's autovacuum analyses after bulk
// loads; SQLite's PRAGMA optimize). Fresh tables without them make PostgreSQL pick nested loops over everything.
await sql`ANALYZE`.execute(engine.db);

const queries: [string, string][] = [
  ['Patient', 'name=familie12'],
  ['Patient', 'identifier=http://fhir.nl/fhir/NamingSystem/bsn|100000042'],
  ['Patient', 'birthdate=ge1980&gender=male&_count=50'],
  ['Observation', 'subject=Patient/p42&code=http://loinc.org|8867-4'],
  ['Observation', 'code=8867-4&date=ge2020-03-01&date=lt2020-03-02'],
  ['Observation', 'patient=p42&code=8867-4&date=ge2020-03-01&_sort=-date'],
  ['Observation', 'subject:Patient.name=familie7&_count=50'],
  ['Observation', 'subject.identifier=http://fhir.nl/fhir/NamingSystem/bsn|100000042'],
  ['Patient', '_has:Observation:subject:value-quantity=gt148&_count=50'],
  ['Observation', 'code=29463-7&_sort=-date&_count=50&_include=Observation:subject'],
  ['Observation', 'value-quantity=gt140&_total=accurate&_count=10'],
];
for (const [type, q] of queries) {
  await search(engine, type, q);
  const reps = 20;
  t = performance.now();
  let n = 0;
  for (let i = 0; i < reps; i++) n = (await search(engine, type, q)).matches.length;
  console.log(`${((performance.now() - t) / reps).toFixed(2).padStart(8)} ms  ${type}?${q}  (${n} matches)`);
}
await close();
