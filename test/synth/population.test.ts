import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, Observation, Patient } from 'fhir/r4';
import { generated, readTenant, tenantsOf } from './helpers.ts';

const PATIENTS = 2000;
const AS_OF = Date.parse('2025-06-01T00:00:00Z');

interface GpData {
  ages: Map<string, number>;
  withCode: Map<string, Set<string>>;
  observations: Observation[];
}

async function gpData(): Promise<GpData> {
  const { dir } = await generated(PATIENTS, 'population');
  const ages = new Map<string, number>();
  const withCode = new Map<string, Set<string>>();
  const observations: Observation[] = [];
  for (const tenant of tenantsOf(dir).filter((t) => t.startsWith('gp-'))) {
    const byType = readTenant(dir, tenant);
    for (const p of byType.get('Patient') as Patient[]) ages.set(`Patient/${p.id}`, (AS_OF - Date.parse(p.birthDate!)) / (365.25 * 86_400_000));
    for (const c of (byType.get('Condition') ?? []) as Condition[]) {
      const code = c.code!.coding![0].code!;
      let s = withCode.get(code);
      if (!s) withCode.set(code, (s = new Set()));
      s.add(c.subject.reference!);
    }
    observations.push(...((byType.get('Observation') ?? []) as Observation[]));
  }
  return { ages, withCode, observations };
}

const data = gpData();

test('chronic prevalence is within plausible Dutch bounds (2,000 patients)', async () => {
  const { ages, withCode } = await data;
  assert.equal(ages.size, PATIENTS);
  const prevalence = (code: string) => (withCode.get(code)?.size ?? 0) / PATIENTS;
  const bounds: [string, string, number, number][] = [
    ['diabetes type 2', '44054006', 0.045, 0.095],
    ['heart failure', '84114007', 0.006, 0.028],
    ['COPD', '13645005', 0.02, 0.055],
    ['hypertension', '38341003', 0.15, 0.25],
  ];
  for (const [label, code, lo, hi] of bounds) {
    const p = prevalence(code);
    assert.ok(p >= lo && p <= hi, `${label}: ${(p * 100).toFixed(2)}% not in [${lo * 100}%, ${hi * 100}%]`);
  }
});

test('chronic disease rises with age', async () => {
  const { ages, withCode } = await data;
  const rate = (code: string, lo: number, hi: number) => {
    const group = [...ages].filter(([, a]) => a >= lo && a < hi).map(([ref]) => ref);
    return group.filter((ref) => withCode.get(code)?.has(ref)).length / group.length;
  };
  for (const code of ['44054006', '38341003', '13645005']) {
    assert.ok(rate(code, 65, 200) > 3 * rate(code, 0, 45), `${code}: 65+ ${rate(code, 65, 200)} vs <45 ${rate(code, 0, 45)}`);
  }
});

test('age pyramid resembles the Dutch population', async () => {
  const { ages } = await data;
  const all = [...ages.values()];
  const share = (lo: number, hi: number) => all.filter((a) => a >= lo && a < hi).length / all.length;
  const checks: [string, number, number, number][] = [
    ['0-19', share(0, 20), 0.18, 0.25],
    ['20-64', share(20, 65), 0.54, 0.63],
    ['65+', share(65, 200), 0.17, 0.23],
    ['80+', share(80, 200), 0.035, 0.07],
  ];
  for (const [label, s, lo, hi] of checks) assert.ok(s >= lo && s <= hi, `${label}: ${(s * 100).toFixed(1)}%`);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  assert.ok(mean > 40 && mean < 45, `mean age ${mean.toFixed(1)}`);
  assert.ok(Math.max(...all) < 101 && Math.min(...all) >= 0);
});

test('time series are plausible: HbA1c per diabetic, blood pressure, weight', async () => {
  const { observations } = await data;
  const byPatient = new Map<string, Observation[]>();
  for (const o of observations) {
    const code = o.code.coding![0].code!;
    const key = `${o.subject!.reference}|${code}`;
    let l = byPatient.get(key);
    if (!l) byPatient.set(key, (l = []));
    l.push(o);
  }
  let hba1cSeries = 0;
  for (const [key, series] of byPatient) {
    const code = key.split('|')[1];
    const sorted = series.sort((a, b) => a.effectiveDateTime!.localeCompare(b.effectiveDateTime!));
    if (code === '59261-8') {
      const values = sorted.map((o) => o.valueQuantity!.value!);
      for (const v of values) assert.ok(v >= 38 && v <= 110, `HbA1c ${v}`);
      if (values.length >= 3) hba1cSeries++;
      for (let i = 1; i < values.length; i++) assert.ok(Math.abs(values[i] - values[i - 1]) < 25, `HbA1c jump ${values[i - 1]} -> ${values[i]}`);
    }
    if (code === '85354-9') {
      for (const o of sorted) {
        const [sys, dia] = o.component!.map((c) => c.valueQuantity!.value!);
        assert.ok(sys > dia && sys >= 70 && sys <= 230 && dia >= 40 && dia <= 140, `BP ${sys}/${dia}`);
      }
    }
    if (code === '29463-7') {
      const values = sorted.map((o) => o.valueQuantity!.value!);
      for (let i = 1; i < values.length; i++) assert.ok(Math.abs(values[i] - values[i - 1]) < 8, `weight jump ${values[i - 1]} -> ${values[i]}`);
    }
  }
  assert.ok(hba1cSeries >= 40, `only ${hba1cSeries} diabetics with an HbA1c series`);
});
