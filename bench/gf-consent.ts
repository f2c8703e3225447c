/**
 * Consent registry benchmark.
 *  1. In process: p50/p99/max of `registry.decide()` (input checks + patient key + index look-up + precedence)
 *     over 100k patients with a realistic mix of choices.
 *  2. Over HTTP: answers/s of `POST /national/consent/$check` with autocannon; the server runs in a child process
 *     (this file with `--serve`) so load generator and server do not share an event loop.
 *
 * The index is filled directly with compiled Consents (same path a store write ends in); the store itself is
 * exercised by the tests, not timed here. BSNs are synthetic eleven-test numbers and never printed.
 *
 * Usage: node --import tsx bench/gf-consent.ts [--patients 100000] [--queries 1000000] [--duration 10] [--connections 20]
 */
import { rng } from './scenarios/common.ts';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildApp } from '../src/http/app.ts';
import { openNode } from '../src/node/provider-node.ts';
import { SYSTEMS } from '../src/gf/consent/catalogue.ts';
import { compileConsent } from '../src/gf/consent/model.ts';
import { ConsentRegistry, type DecideRequest } from '../src/gf/consent/registry.ts';
import { registerConsentRoutes } from '../src/gf/consent/routes.ts';
import type { Consent } from 'fhir/r4';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}


/** The i-th synthetic BSN passing the eleven-test (prefix 1xxxxxxxx, never printed). */
function bsn(i: number): string {
  for (let p = 10_000_000 + i * 2; ; p++) {
    const s = String(p);
    let sum = 0;
    for (let k = 0; k < 8; k++) sum += (9 - k) * (s.charCodeAt(k) - 48);
    const d = sum % 11;
    if (d <= 9) return `${s}${d}`;
  }
}

const CATS = ['RPZAC001', 'RPZAC003', 'RPZAC004', 'RPZAC005', 'RPZAC103', 'RPZAC104'];
const ORG_TYPES: Record<string, string> = { RPZAC001: 'Z3', RPZAC003: 'G5', RPZAC004: 'T2', RPZAC005: 'J8', RPZAC103: 'F1', RPZAC104: 'V6' };
const ORGS = Array.from({ length: 2000 }, (_, i) => ({ ura: String(10_000_000 + i), category: CATS[i % CATS.length] }));

function choice<T>(r: () => number, xs: T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** A patient's choices: most have generic permits (GP/pharmacy/hospital data to the usual consulters), some object, some name exceptions. */
function consentsFor(i: number, r: () => number): Consent[] {
  const out: Consent[] = [];
  const b = bsn(i);
  const mk = (type: 'permit' | 'deny', holder?: { ura?: string; cat?: string }, consulter?: { ura?: string; cat?: string }, extra: Partial<NonNullable<Consent['provision']>> = {}, status: Consent['status'] = 'active'): Consent => {
    const actor = (a: { ura?: string; cat?: string }, role: string) => ({
      role: { coding: [{ system: SYSTEMS.participationType, code: role }] },
      reference: a.ura ? { identifier: { system: SYSTEMS.ura, value: a.ura } } : { identifier: { system: SYSTEMS.providerCategory, value: a.cat } },
    });
    const actors = [...(holder ? [actor(holder, 'CST')] : []), ...(consulter ? [actor(consulter, 'IRCP')] : [])];
    return {
      resourceType: 'Consent',
      id: `c${i}-${out.length}`,
      status,
      scope: { coding: [{ system: SYSTEMS.consentScope, code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { identifier: { system: SYSTEMS.bsn, value: b } },
      provision: { type, ...(actors.length ? { actor: actors } : {}), ...extra },
    };
  };
  const x = r();
  if (x < 0.2) return out; // no choice recorded
  if (x < 0.27) {
    out.push(mk('deny')); // objection
    return out;
  }
  // generic permits: 1–4 holder categories × the usual consulters
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const h = choice(r, ['RPZAC001', 'RPZAC005', 'RPZAC104', 'RPZAC003']);
    const cat = h === 'RPZAC005' ? 'GGC013' : 'GGC002';
    out.push(mk('permit', { cat: h }, { cat: choice(r, CATS) }, { code: [{ coding: [{ system: SYSTEMS.dataCategory, code: cat }] }] }));
  }
  if (r() < 0.2) out.push(mk('deny', { ura: choice(r, ORGS).ura }, { cat: choice(r, CATS) })); // exception for one holder
  if (r() < 0.1) out.push(mk('permit', { cat: 'RPZAC001' }, { ura: choice(r, ORGS).ura }, { period: { start: '2025-01-01', end: '2025-12-31' } }));
  if (r() < 0.05) out.push(mk('permit', { cat: 'RPZAC104' }, { cat: 'RPZAC104' }, {}, 'inactive')); // revoked
  return out;
}

function question(r: () => number, patients: number, keyed: boolean, registry?: ConsentRegistry): DecideRequest {
  const i = Math.floor(r() * patients);
  const h = choice(r, ORGS);
  const c = choice(r, ORGS);
  const p = r();
  return {
    patient: keyed && registry ? { key: registry.patientKey(bsn(i)) } : { bsn: bsn(i) },
    holder: { ura: h.ura, organizationType: ORG_TYPES[h.category] },
    consulter: { ura: c.ura, organizationType: ORG_TYPES[c.category] },
    dataCategory: choice(r, ['GGC002', 'GGC002', 'GGC012', 'GGC013', 'ObservationLaboratory', 'MedicationRequest']),
    purpose: p < 0.9 ? 'TREAT' : p < 0.95 ? 'ETREAT' : 'HRESCH',
    at: '2025-06-15T12:00:00Z',
  };
}

async function openRegistry(patients: number) {
  const dir = mkdtempSync(join(tmpdir(), 'schakel-consent-bench-'));
  const node = await openNode({ db: 'sqlite', sqliteFile: join(dir, 'b.db'), dataDir: dir });
  const registry = await ConsentRegistry.open({ dispatch: node.dispatch, tenants: node.tenants });
  const r = rng(42);
  let consents = 0;
  const t0 = performance.now();
  for (let i = 0; i < patients; i++) {
    for (const c of consentsFor(i, r)) {
      registry.index.apply(compileConsent(c, registry.cat, 1));
      consents++;
    }
  }
  const loadMs = performance.now() - t0;
  return { node, registry, dir, consents, loadMs };
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function inProcess(patients: number, queries: number) {
  const { node, registry, dir, consents, loadMs } = await openRegistry(patients);
  const r = rng(7);
  const qs = Array.from({ length: 10_000 }, () => question(r, patients, false));
  for (let i = 0; i < 50_000; i++) registry.decide(qs[i % qs.length]); // warm-up
  const lat = new Float64Array(queries);
  const counts: Record<string, number> = { Permit: 0, Deny: 0, NotApplicable: 0 };
  const tAll = performance.now();
  for (let i = 0; i < queries; i++) {
    const q = qs[i % qs.length];
    const t = performance.now();
    const d = registry.decide(q);
    lat[i] = performance.now() - t;
    counts[d.decision]++;
  }
  const totalMs = performance.now() - tAll;
  lat.sort();
  const rss = process.memoryUsage().rss;
  registry.close();
  await node.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    patients,
    consents,
    patientsWithRules: registry.index.patients,
    indexLoadMs: Math.round(loadMs),
    queries,
    p50us: +(pct(lat, 0.5) * 1000).toFixed(2),
    p99us: +(pct(lat, 0.99) * 1000).toFixed(2),
    p999us: +(pct(lat, 0.999) * 1000).toFixed(2),
    maxUs: +(lat[lat.length - 1] * 1000).toFixed(1),
    decisionsPerSecond: Math.round(queries / (totalMs / 1000)),
    mix: counts,
    rssMB: Math.round(rss / 2 ** 20),
  };
}

async function serve(patients: number) {
  const { node, registry } = await openRegistry(patients);
  const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
  await registerConsentRoutes(app, { registry, verifyToken: (a) => (a === 'Bearer bench' ? { ura: '00000000', role: 'node' } : undefined) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  process.send?.({ url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
  process.on('SIGTERM', () => void app.close().then(() => node.close()).then(() => process.exit(0)));
}

async function overHttp(patients: number, duration: number, connections: number) {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', '--patients', String(patients)], { execArgv: ['--import', 'tsx'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const r = rng(9);
  const requests = Array.from({ length: 2000 }, () => ({
    method: 'POST' as const,
    path: '/national/consent/$check',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify(question(r, patients, false)),
  }));
  // warm-up, then the measured run
  await autocannon({ url, connections, duration: 2, requests });
  const res = await autocannon({ url, connections, duration, requests });
  child.kill('SIGTERM');
  return {
    connections,
    durationS: duration,
    answersPerSecond: Math.round(res.requests.average),
    latencyP50ms: res.latency.p50,
    latencyP99ms: res.latency.p99,
    non2xx: res.non2xx,
    errors: res.errors,
  };
}

if (process.argv.includes('--serve')) {
  await serve(flag('patients', 100_000));
} else {
  const patients = flag('patients', 100_000);
  const { loadavg, cpus } = await import('node:os');
  console.log(JSON.stringify({ machine: { cpus: cpus().length, loadavg: loadavg().map((x) => +x.toFixed(2)), node: process.version } }));
  console.log(JSON.stringify({ inProcess: await inProcess(patients, flag('queries', 1_000_000)) }));
  console.log(JSON.stringify({ http: await overHttp(patients, flag('duration', 10), flag('connections', 20)) }));
  console.log(JSON.stringify({ loadavgAfter: loadavg().map((x) => +x.toFixed(2)) }));
}
