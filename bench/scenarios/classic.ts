/**
 * The original scenarios of bench/run.ts, as scenario files, on the deterministic bench/data.ts data in tenant
 * 'bench':
 *   ingest        — transaction bundles of 100 (Prefer: return=minimal) from --ingest-clients concurrent clients;
 *   read          — read by id over Patient/Observation/MedicationRequest ids, alternating with the bare
 *                   node:http ceiling (bench/bare-server.ts) over --read-rounds rounds (local servers only);
 *   five-searches — five typical searches, each loaded on its own, rotating over thousands of patients.
 * read and five-searches ingest first when ingest was not selected (the ingest is then not reported).
 * The data is loaded once per side: with --rounds > 1, later rounds of ingest repeat the first round's figure.
 */
import type { Bundle } from 'fhir/r4';
import {
  BSN_SYSTEM,
  BUNDLE_SIZE,
  LOINC,
  OBSERVATIONS_PER_PATIENT,
  PATIENTS_PER_BUNDLE,
  RESOURCES_PER_PATIENT,
  medicationBundle,
  patientBundle,
  patientBundlesFor,
  patientData,
  shuffle,
  totalResources,
} from '../data.ts';
import { FHIR_JSON, failed, latencyOf, q, runMix } from './common.ts';
import type { Ctx, Latency, Metric, Scenario } from './types.ts';

export const TENANT = 'bench';

interface Ingested {
  resources: number;
  seconds: number;
  bundleLatency: Latency;
  patients: string[];
  observations: string[];
  requests: string[];
}

async function postBundle(url: string, bundle: Bundle): Promise<Bundle> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON, Prefer: 'return=minimal' },
    body: JSON.stringify(bundle),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`transaction answered ${res.status}: ${text.slice(0, 600)}`);
  return JSON.parse(text) as Bundle;
}

function idFromLocation(location: string | undefined, type: string): string {
  const m = /([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/\d+$/.exec(location ?? '');
  if (!m || m[1] !== type) throw new Error(`unexpected location '${location}' (expected a ${type})`);
  return m[2];
}

async function ingest(ctx: Ctx): Promise<Ingested> {
  const done = ctx.target.state.get('classic') as Ingested | undefined;
  if (done) return done;
  const { opts, target } = ctx;
  const url = target.origin + target.fhirPath(TENANT);
  const patientBundles = patientBundlesFor(opts.resources);
  ctx.log(`ingest: ${totalResources(patientBundles)} resources (${patientBundles + 1} transaction bundles, ${opts.ingestClients} clients)`);
  const patients: string[] = [];
  const observations: string[] = [];
  const requests: string[] = [];
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await postBundle(url, medicationBundle());
  const worker = async (): Promise<void> => {
    while (next < patientBundles) {
      const b = next++;
      const s = performance.now();
      const response = await postBundle(url, patientBundle(opts.seed, b));
      latencies.push(performance.now() - s);
      const entries = response.entry ?? [];
      if (entries.length !== BUNDLE_SIZE) throw new Error(`bundle ${b}: ${entries.length} response entries, expected ${BUNDLE_SIZE}`);
      for (let k = 0; k < PATIENTS_PER_BUNDLE; k++) {
        const at = k * RESOURCES_PER_PATIENT;
        const p = b * PATIENTS_PER_BUNDLE + k;
        patients[p] = idFromLocation(entries[at].response?.location, 'Patient');
        observations[p] = idFromLocation(entries[at + 1].response?.location, 'Observation');
        requests[p] = idFromLocation(entries[at + 1 + OBSERVATIONS_PER_PATIENT].response?.location, 'MedicationRequest');
      }
    }
  };
  await Promise.all(Array.from({ length: opts.ingestClients }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const result: Ingested = { resources: totalResources(patientBundles), seconds, bundleLatency: latencyOf(latencies), patients, observations, requests };
  target.state.set('classic', result);
  // Planner statistics, as autovacuum/ANALYZE would have them on a database in service.
  await target.storage?.analyze();
  return result;
}

export const ingestScenario: Scenario = {
  name: 'ingest',
  title: `bench/data.ts through transaction bundles of ${BUNDLE_SIZE} (Prefer: return=minimal), concurrent clients`,
  async run(ctx) {
    const i = await ingest(ctx);
    return [
      {
        scenario: 'ingest',
        name: `transaction bundles of ${BUNDLE_SIZE}, ${ctx.opts.ingestClients} clients`,
        unit: 'resources/s',
        value: i.resources / i.seconds,
        higherIsBetter: true,
        latency: i.bundleLatency,
        requests: i.resources,
        note: `latency per bundle; ${i.resources} resources in ${i.seconds.toFixed(1)} s`,
      },
    ];
  },
};

function readPaths(ctx: Ctx, ing: Ingested): string[] {
  const base = ctx.target.fhirPath(TENANT);
  const paths: string[] = [];
  for (let i = 0; i < ing.patients.length; i++) {
    paths.push(`${base}/Patient/${ing.patients[i]}`, `${base}/Observation/${ing.observations[i]}`, `${base}/MedicationRequest/${ing.requests[i]}`);
  }
  return shuffle(paths, ctx.opts.seed).slice(0, 30_000);
}

function rotating(kind: string, paths: string[]) {
  let i = 0;
  return { kind, method: 'GET' as const, build: () => ({ path: paths[i++ % paths.length] }) };
}

export const readScenario: Scenario = {
  name: 'read',
  title: 'read by id (Patient/Observation/MedicationRequest), alternating with the bare node:http ceiling',
  async run(ctx) {
    const ing = await ingest(ctx);
    const paths = readPaths(ctx, ing);
    const mix = { sequence: [rotating('read by id', paths)], total: 'read by id', perKind: false };
    const bare = ctx.target.storage ? await ctx.startChild('bare-server.ts', ctx.target.storage.childArgs, `${ctx.target.label}-${ctx.target.engine}-bare.log`) : undefined;
    const ours: Metric[] = [];
    const theirs: Metric[] = [];
    try {
      for (let round = 0; round < ctx.opts.readRounds; round++) {
        ours.push(...(await runMix(ctx, 'read', mix)));
        if (bare) theirs.push(...(await runMix(ctx, 'read', { ...mix, total: 'bare ceiling: read by id' }, bare.url)));
      }
    } finally {
      await bare?.stop();
    }
    const pool = (ms: Metric[]): Metric => ({
      ...ms[ms.length - 1],
      value: ms.reduce((a, m) => a + m.value, 0) / ms.length,
      note: `mean of rounds ${ms.map((m) => Math.round(m.value)).join(' / ')}; latency of the last round${ms[ms.length - 1].note ? `; ${ms[ms.length - 1].note}` : ''}`,
    });
    const out = [pool(ours)];
    if (theirs.length) {
      out.push(pool(theirs));
      out.push({ scenario: 'read', name: 'schakel/bare ratio', unit: 'req/s', value: out[0].value / out[1].value, higherIsBetter: true, note: 'fraction of the bare ceiling (unit: ratio)' });
    }
    return out;
  },
};

interface SearchDef {
  name: string;
  paths: string[];
}

function fiveSearches(ctx: Ctx, ing: Ingested): SearchDef[] {
  const { opts } = ctx;
  const n = ing.patients.length;
  const chosen = shuffle(
    Array.from({ length: n }, (_, i) => i),
    opts.seed,
  ).slice(0, Math.min(n, 5000));
  const rows = chosen.map((i) => {
    const p = patientData(opts.seed, i);
    return { id: ing.patients[i], bsn: p.bsn, code: p.observations[0].code.coding?.[0].code ?? '' };
  });
  const t = ctx.target.fhirPath(TENANT);
  return [
    { name: 'Observation?patient&code&date=ge', paths: rows.map((r) => `${t}/Observation?patient=${q(`Patient/${r.id}`)}&code=${q(`${LOINC}|${r.code}`)}&date=ge2022-01-01`) },
    { name: 'Patient?identifier (BSN)', paths: rows.map((r) => `${t}/Patient?identifier=${q(`${BSN_SYSTEM}|${r.bsn}`)}`) },
    { name: 'MedicationRequest?patient&_include=medication', paths: rows.map((r) => `${t}/MedicationRequest?patient=${q(`Patient/${r.id}`)}&_include=${q('MedicationRequest:medication')}`) },
    { name: 'Observation?subject.identifier (chain)', paths: rows.map((r) => `${t}/Observation?subject.identifier=${q(`${BSN_SYSTEM}|${r.bsn}`)}`) },
    { name: 'Patient?_id&_revinclude=Observation:subject', paths: rows.map((r) => `${t}/Patient?_id=${q(r.id)}&_revinclude=${q('Observation:subject')}`) },
  ];
}

export const fiveSearchesScenario: Scenario = {
  name: 'five-searches',
  title: 'the five typical searches of the first harness, each loaded on its own',
  async run(ctx) {
    const ing = await ingest(ctx);
    const metrics: Metric[] = [];
    for (const s of fiveSearches(ctx, ing)) {
      // A search that answers errors or empty bundles measures nothing: probe a few first.
      const probe = await fetch(ctx.target.origin + s.paths[0], { headers: { accept: FHIR_JSON } });
      const text = await probe.text();
      const matches = probe.status === 200 ? ((JSON.parse(text) as Bundle).entry ?? []).filter((e) => e.search?.mode !== 'include').length : 0;
      if (probe.status !== 200 || matches === 0) {
        metrics.push(failed('five-searches', s.name, 'req/s', probe.status !== 200 ? `HTTP ${probe.status}: ${text.slice(0, 200)}` : 'no matches in the probe response'));
        continue;
      }
      metrics.push(...(await runMix(ctx, 'five-searches', { sequence: [rotating(s.name, s.paths)], total: s.name, perKind: false })));
    }
    return metrics;
  },
};
