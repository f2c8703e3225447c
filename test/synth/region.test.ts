import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MedicationDispense, MedicationRequest, Patient } from 'fhir/r4';
import { passesElevenTest } from '../../src/synth/identifiers.ts';
import { generated, readTenant, referencesIn, tenantsOf } from './helpers.ts';

const PATIENTS = 300;

function digest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out.set(p, createHash('sha256').update(readFileSync(join(dir, p))).digest('hex'));
    }
  };
  walk('');
  return out;
}

test('same seed gives byte-identical output; another seed gives different output', async () => {
  const a = await generated(PATIENTS, 'determinism');
  const { generateRegion } = await import('../../src/synth/generate.ts');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dirB = mkdtempSync(join(tmpdir(), 'schakel-synth-b-'));
  await generateRegion({ patients: PATIENTS, seed: 'determinism', outDir: dirB });
  const da = digest(a.dir);
  const db = digest(dirB);
  assert.ok(da.size > 50, `only ${da.size} files`);
  assert.deepEqual([...db.entries()].sort(), [...da.entries()].sort());

  const c = await generated(PATIENTS, 'another seed');
  const dc = digest(c.dir);
  assert.notEqual(dc.get('gp-01/Patient.ndjson'), da.get('gp-01/Patient.ndjson'));
  assert.notEqual(dc.get('region.json'), da.get('region.json'));
});

test('every tenant: resources have meta.profile, ids are unique, every reference resolves inside the tenant', async () => {
  const { dir } = await generated(PATIENTS, 'determinism');
  let checkedRefs = 0;
  for (const tenant of tenantsOf(dir)) {
    const byType = readTenant(dir, tenant);
    const ids = new Set<string>();
    for (const [type, resources] of byType) {
      for (const r of resources) {
        assert.equal(r.resourceType, type, `${tenant}: ${r.resourceType} in ${type}.ndjson`);
        assert.ok(r.meta?.profile?.length, `${tenant} ${type}/${r.id} has no meta.profile`);
        const key = `${type}/${r.id}`;
        assert.ok(!ids.has(key), `${tenant}: duplicate ${key}`);
        ids.add(key);
      }
    }
    for (const resources of byType.values()) {
      for (const r of resources) {
        for (const ref of referencesIn(r)) {
          assert.ok(ids.has(ref), `${tenant}: ${r.resourceType}/${r.id} refers to ${ref}, which is not in the tenant`);
          checkedRefs++;
        }
      }
    }
  }
  assert.ok(checkedRefs > 10_000, `only ${checkedRefs} references checked`);
});

test('patients: valid test BSNs, one GP each, same BSN under different ids in different tenants', async () => {
  const { dir, summary } = await generated(PATIENTS, 'determinism');
  const idsByBsn = new Map<string, Set<string>>();
  let gpPatients = 0;
  for (const tenant of tenantsOf(dir)) {
    const patients = (readTenant(dir, tenant).get('Patient') ?? []) as Patient[];
    const inTenant = new Set<string>();
    for (const p of patients) {
      const bsn = p.identifier?.find((i) => i.system === 'http://fhir.nl/fhir/NamingSystem/bsn')?.value;
      assert.ok(bsn && /^999\d{6}$/.test(bsn) && passesElevenTest(bsn), `${tenant} Patient/${p.id}: BSN ${bsn}`);
      assert.ok(!inTenant.has(bsn), `${tenant}: BSN ${bsn} twice`);
      inTenant.add(bsn);
      assert.ok(p.generalPractitioner?.length, `${tenant} Patient/${p.id} has no generalPractitioner`);
      let ids = idsByBsn.get(bsn);
      if (!ids) idsByBsn.set(bsn, (ids = new Set()));
      assert.ok(!ids.has(p.id!), `Patient id ${p.id} reused across tenants`);
      ids.add(p.id!);
    }
    if (tenant.startsWith('gp-')) gpPatients += patients.length;
  }
  assert.equal(gpPatients, PATIENTS, 'every patient is listed with exactly one GP practice');
  assert.equal(idsByBsn.size, PATIENTS);
  assert.ok([...idsByBsn.values()].some((s) => s.size >= 3), 'some patients are treated by several organisations');
  assert.equal(summary.patients, PATIENTS);
});

test('region.json lists every sector with URA, AGB, organisations and endpoint placeholders; counts match the files', async () => {
  const { dir } = await generated(PATIENTS, 'determinism');
  const region = JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8'));
  const sectors = new Set(region.tenants.map((t: { sector: string }) => t.sector));
  for (const s of ['gp', 'hospital', 'pharmacy', 'lab', 'vvt', 'ggz', 'hap', 'ambulance']) assert.ok(sectors.has(s), `no ${s} tenant`);
  for (const t of region.tenants) {
    assert.match(t.ura, /^\d{8}$/);
    assert.match(t.agb, /^\d{8}$/);
    assert.ok(t.organisations.length >= 1);
    assert.equal(t.endpoints[0].address, `{base}/fhir/${t.id}`);
    assert.ok(t.healthcareServices.length >= 1);
    for (const [type, n] of Object.entries(t.resources)) {
      const lines = readFileSync(join(dir, t.id, `${type}.ndjson`), 'utf8').split('\n').filter(Boolean).length;
      assert.equal(lines, n, `${t.id} ${type}`);
    }
  }
  const hospital = region.tenants.find((t: { sector: string }) => t.sector === 'hospital');
  assert.ok(hospital.organisations.some((o: { partOf?: string }) => o.partOf === `Organization/org-${hospital.id}`), 'hospital departments');
});

test('MP9: every dispense belongs to a medication agreement of the same pharmaceutical treatment', async () => {
  const { dir } = await generated(PATIENTS, 'determinism');
  const treatment = (r: { extension?: { url: string; valueIdentifier?: { value?: string } }[] }) =>
    r.extension?.find((e) => e.url.endsWith('ext-PharmaceuticalTreatment.Identifier'))?.valueIdentifier?.value;
  const agreements = new Set<string>();
  const dispensed: string[] = [];
  for (const tenant of tenantsOf(dir)) {
    const byType = readTenant(dir, tenant);
    for (const mr of (byType.get('MedicationRequest') ?? []) as MedicationRequest[]) {
      assert.equal(mr.category?.[0].coding?.[0].code, '33633005');
      agreements.add(treatment(mr)!);
    }
    for (const md of (byType.get('MedicationDispense') ?? []) as MedicationDispense[]) dispensed.push(treatment(md)!);
  }
  assert.ok(dispensed.length > 100);
  for (const t of dispensed) assert.ok(agreements.has(t), `dispense for unknown treatment ${t}`);
});
