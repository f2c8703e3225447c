/**
 * `npm run bench` — Schakel's performance benchmark.
 *
 *   npm run bench -- [--resources 20000] [--db sqlite|postgres|both] [--duration 5] [--warmup 1]
 *                    [--connections 20] [--ingest-clients 4] [--read-rounds 2] [--seed 1] [--db-url URL]
 *                    [--scenarios read,search] [--keep] [--no-append] [--out docs/benchmarks.md]
 *
 * Per engine it: starts a fresh database, starts the Schakel server as a child process (bench/server-child.ts),
 * ingests deterministic synthetic data (bench/data.ts) through transaction bundles of 100, starts the bare
 * node:http ceiling server on the same database (bench/bare-server.ts), and loads both with autocannon:
 * read by id (Schakel and bare, one after the other, never at the same time) and five typical searches.
 * Prints a table and appends a section to docs/benchmarks.md.
 *
 * PostgreSQL: --db-url (an empty database), else SCHAKEL_TEST_PG_URL (a fresh database `schakel_bench` is
 * created beside it), else the run re-executes itself under scripts/with-postgres.sh (throwaway cluster).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
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
} from './data.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TENANT = 'bench';
type Engine = 'sqlite' | 'postgres';

// ---------------------------------------------------------------------------------------------------------
// Options.

const { values: args } = parseArgs({
  options: {
    resources: { type: 'string', default: '20000' },
    db: { type: 'string', default: 'both' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '20' },
    'ingest-clients': { type: 'string', default: '4' },
    'read-rounds': { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    'db-url': { type: 'string' },
    scenarios: { type: 'string', default: 'read,search' },
    keep: { type: 'boolean', default: false },
    'no-append': { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(readHeaderUsage());
  process.exit(0);
}

function readHeaderUsage(): string {
  return [
    'npm run bench -- [--resources 20000] [--db sqlite|postgres|both] [--duration 5] [--warmup 1]',
    '                 [--connections 20] [--ingest-clients 4] [--read-rounds 2] [--seed 1] [--db-url URL]',
    '                 [--scenarios read,search] [--keep] [--no-append] [--out docs/benchmarks.md]',
  ].join('\n');
}

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer, got '${v}'`);
  return n;
}

const opts = {
  resources: positiveInt('resources', args.resources),
  engines: (args.db === 'both' ? ['sqlite', 'postgres'] : [args.db]) as Engine[],
  duration: positiveInt('duration', args.duration),
  warmup: Number(args.warmup),
  connections: positiveInt('connections', args.connections),
  ingestClients: positiveInt('ingest-clients', args['ingest-clients']),
  readRounds: positiveInt('read-rounds', args['read-rounds']),
  seed: positiveInt('seed', args.seed),
  scenarios: new Set((args.scenarios ?? '').split(',').map((s) => s.trim())),
  keep: args.keep ?? false,
  append: !(args['no-append'] ?? false),
  out: resolve(ROOT, args.out ?? 'docs/benchmarks.md'),
};
for (const e of opts.engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--db must be sqlite, postgres or both, got '${args.db}'`);

// PostgreSQL without a URL: run ourselves again inside a throwaway cluster.
if (opts.engines.includes('postgres') && !args['db-url'] && !process.env.SCHAKEL_TEST_PG_URL) {
  const r = spawnSync(join(ROOT, 'scripts/with-postgres.sh'), [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  process.exit(r.status ?? 1);
}

// ---------------------------------------------------------------------------------------------------------
// Child processes.

interface Child {
  url: string;
  proc: ChildProcess;
}

/** Load average before anything of ours runs: the machine may be shared (other builds, tests). */
const LOAD_AT_START = loadavg();
const RUN_STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const LOG_DIR = join(ROOT, 'bench/results', RUN_STAMP);
mkdirSync(LOG_DIR, { recursive: true });
const children = new Set<ChildProcess>();

async function startChild(script: string, childArgs: string[], logName: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', script), ...childArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const log = join(LOG_DIR, logName);
  proc.stderr?.on('data', (d: Buffer) => appendFileSync(log, d));
  const lines = createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start within 120 s (see ${log})`)), 120_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      ok((JSON.parse(line) as { url: string }).url);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code} before listening (see ${log})`));
    });
  });
  lines.on('line', (l) => appendFileSync(log, `${l}\n`));
  return { url, proc };
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((ok) => c.proc.once('exit', () => ok()));
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
  children.delete(c.proc);
}

function killChildren(): void {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Statistics.

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function latencyOf(values: number[]): Latency {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

// ---------------------------------------------------------------------------------------------------------
// Ingest.

interface Ingested {
  resources: number;
  seconds: number;
  perSecond: number;
  bundleLatency: Latency;
  /** Per patient index: server id of the patient, its first Observation and first MedicationRequest. */
  patients: string[];
  observations: string[];
  requests: string[];
}

async function postBundle(base: string, bundle: Bundle): Promise<Bundle> {
  const res = await fetch(`${base}/fhir/${TENANT}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', Prefer: 'return=minimal' },
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

async function ingest(base: string, patientBundles: number): Promise<Ingested> {
  const patients: string[] = [];
  const observations: string[] = [];
  const requests: string[] = [];
  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await postBundle(base, medicationBundle());
  let lastReport = t0;
  const worker = async (): Promise<void> => {
    while (next < patientBundles) {
      const b = next++;
      const bundle = patientBundle(opts.seed, b);
      const s = performance.now();
      const response = await postBundle(base, bundle);
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
      done++;
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        const n = totalResources(done);
        process.stderr.write(`  ingest: ${n} resources, ${Math.round(n / ((now - t0) / 1000))}/s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.ingestClients }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const resources = totalResources(patientBundles);
  return { resources, seconds, perSecond: resources / seconds, bundleLatency: latencyOf(latencies), patients, observations, requests };
}

// ---------------------------------------------------------------------------------------------------------
// Load scenarios.

interface ScenarioResult {
  name: string;
  server: 'schakel' | 'bare';
  example: string;
  reqPerSec: number;
  latency: Latency;
  requests: number;
  non2xx: number;
  errors: number;
  /** Average entries per searchset (matches + included) in sampled responses. */
  entries?: { match: number; include: number };
  failure?: string;
  /** req/s of each measured round (read by id runs several, alternating with the bare server). */
  rounds?: number[];
}

function runAutocannon(base: string, paths: string[], duration: number, onResponse?: (ms: number, status: number) => void): Promise<autocannon.Result> {
  let i = 0;
  return new Promise((ok, fail) => {
    const instance = autocannon(
      {
        url: base,
        connections: opts.connections,
        duration,
        headers: { accept: 'application/fhir+json' },
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
      },
      (err: unknown, result) => (err ? fail(err instanceof Error ? err : new Error(String(err))) : ok(result)),
    );
    if (onResponse) instance.on('response', (_client, status, _bytes, ms) => onResponse(ms, status));
  });
}

async function sample(base: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(base + path, { headers: { accept: 'application/fhir+json' } });
  return { status: res.status, body: await res.text() };
}

async function scenario(name: string, server: 'schakel' | 'bare', base: string, paths: string[], isSearch: boolean, rounds = 1): Promise<ScenarioResult> {
  const result: ScenarioResult = { name, server, example: paths[0], reqPerSec: 0, latency: latencyOf([]), requests: 0, non2xx: 0, errors: 0 };
  // Check a few responses first: a scenario that answers errors or empty bundles measures nothing.
  let match = 0;
  let include = 0;
  const probes = Math.min(5, paths.length);
  for (let k = 0; k < probes; k++) {
    const r = await sample(base, paths[k]);
    if (r.status !== 200) {
      result.failure = `HTTP ${r.status}: ${r.body.replace(/\s+/g, ' ').slice(0, 300)}`;
      return result;
    }
    if (isSearch) {
      const b = JSON.parse(r.body) as Bundle;
      for (const e of b.entry ?? []) {
        if (e.search?.mode === 'include') include++;
        else match++;
      }
    }
  }
  if (isSearch) {
    result.entries = { match: match / probes, include: include / probes };
    if (match === 0) {
      result.failure = `no matches in ${probes} sampled responses (e.g. ${paths[0]})`;
      return result;
    }
  }
  if (rounds > 0) await measure(result, base, paths, rounds);
  return result;
}

/** Warm-up, then `rounds` measured periods pooled into `result` (latencies pooled, req/s over the total time). */
async function measure(result: ScenarioResult, base: string, paths: string[], rounds: number, pooled: Pooled = newPool()): Promise<Pooled> {
  for (let round = 0; round < rounds; round++) {
    if (opts.warmup > 0) await runAutocannon(base, paths, opts.warmup);
    const ac = await runAutocannon(base, paths, opts.duration, (ms, status) => {
      if (status >= 200 && status < 300) pooled.latencies.push(ms);
    });
    pooled.seconds += (ac.finish.getTime() - ac.start.getTime()) / 1000;
    pooled.non2xx += ac.non2xx;
    pooled.errors += ac.errors + ac.timeouts;
    pooled.perRound.push(ac.requests.total / ((ac.finish.getTime() - ac.start.getTime()) / 1000));
  }
  result.requests = pooled.latencies.length;
  result.reqPerSec = pooled.latencies.length / pooled.seconds;
  result.latency = latencyOf(pooled.latencies);
  result.non2xx = pooled.non2xx;
  result.errors = pooled.errors;
  result.rounds = pooled.perRound.map((v) => Math.round(v));
  return pooled;
}

interface Pooled {
  latencies: number[];
  seconds: number;
  non2xx: number;
  errors: number;
  perRound: number[];
}

function newPool(): Pooled {
  return { latencies: [], seconds: 0, non2xx: 0, errors: 0, perRound: [] };
}

/**
 * Read by id on Schakel and on the bare ceiling, alternating (schakel, bare, schakel, bare, …) so that load
 * from other processes on a shared machine hits both sides alike.
 */
async function readComparison(ours: string, bare: string, paths: string[]): Promise<ScenarioResult[]> {
  const a = await scenario('Read by id', 'schakel', ours, paths, false, 0);
  const b = await scenario('Read by id', 'bare', bare, paths, false, 0);
  if (a.failure || b.failure) return [a, b];
  const pa = newPool();
  const pb = newPool();
  for (let round = 0; round < opts.readRounds; round++) {
    await measure(a, ours, paths, 1, pa);
    await measure(b, bare, paths, 1, pb);
  }
  return [a, b];
}

function q(v: string): string {
  return encodeURIComponent(v);
}

interface SearchScenario {
  name: string;
  query: string;
  paths: string[];
}

/** Request lists over many patients (shuffled, deterministic), so no scenario hammers one hot row. */
function searchScenarios(ing: Ingested): SearchScenario[] {
  const n = ing.patients.length;
  const chosen = shuffle(Array.from({ length: n }, (_, i) => i), opts.seed).slice(0, Math.min(n, 5000));
  const sinceDate = '2022-01-01';
  const rows = chosen.map((i) => {
    const p = patientData(opts.seed, i);
    const code = p.observations[0].code.coding?.[0].code ?? '';
    return { id: ing.patients[i], bsn: p.bsn, code };
  });
  const t = `/fhir/${TENANT}`;
  return [
    {
      name: 'Observation by patient+code+date',
      query: `Observation?patient=Patient/{id}&code=${LOINC}|{code}&date=ge${sinceDate}`,
      paths: rows.map((r) => `${t}/Observation?patient=${q(`Patient/${r.id}`)}&code=${q(`${LOINC}|${r.code}`)}&date=ge${sinceDate}`),
    },
    {
      name: 'Patient by BSN identifier',
      query: `Patient?identifier=${BSN_SYSTEM}|{bsn}`,
      paths: rows.map((r) => `${t}/Patient?identifier=${q(`${BSN_SYSTEM}|${r.bsn}`)}`),
    },
    {
      name: 'MedicationRequest + _include medication',
      query: 'MedicationRequest?patient=Patient/{id}&_include=MedicationRequest:medication',
      paths: rows.map((r) => `${t}/MedicationRequest?patient=${q(`Patient/${r.id}`)}&_include=${q('MedicationRequest:medication')}`),
    },
    {
      name: 'Chained Observation?subject.identifier',
      query: `Observation?subject.identifier=${BSN_SYSTEM}|{bsn}`,
      paths: rows.map((r) => `${t}/Observation?subject.identifier=${q(`${BSN_SYSTEM}|${r.bsn}`)}`),
    },
    {
      name: 'Patient + _revinclude Observation:subject',
      query: 'Patient?_id={id}&_revinclude=Observation:subject',
      paths: rows.map((r) => `${t}/Patient?_id=${q(r.id)}&_revinclude=${q('Observation:subject')}`),
    },
  ];
}

function readPaths(ing: Ingested): string[] {
  const paths: string[] = [];
  for (let i = 0; i < ing.patients.length; i++) {
    paths.push(`/fhir/${TENANT}/Patient/${ing.patients[i]}`);
    paths.push(`/fhir/${TENANT}/Observation/${ing.observations[i]}`);
    paths.push(`/fhir/${TENANT}/MedicationRequest/${ing.requests[i]}`);
  }
  return shuffle(paths, opts.seed).slice(0, 30_000);
}

// ---------------------------------------------------------------------------------------------------------
// Databases.

interface Storage {
  childArgs: string[];
  version: string;
  analyze(): Promise<void>;
  cleanup(): Promise<void>;
}

async function sqliteStorage(): Promise<Storage> {
  const dir = mkdtempSync(join(tmpdir(), 'schakel-bench-'));
  const version = new BetterSqlite3(':memory:').prepare<[], { v: string }>('SELECT sqlite_version() AS v').get()?.v ?? '?';
  return {
    childArgs: ['--db', 'sqlite', '--data', dir],
    version: `SQLite ${version} (WAL, synchronous=FULL), database file in ${tmpdir()}`,
    analyze: async () => {
      const db = new BetterSqlite3(join(dir, 'schakel.db'));
      db.exec('ANALYZE');
      db.close();
    },
    cleanup: async () => {
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      else console.log(`  kept SQLite database in ${dir}`);
    },
  };
}

async function postgresStorage(): Promise<Storage> {
  let url = args['db-url'];
  let drop: (() => Promise<void>) | undefined;
  if (!url) {
    // A fresh database beside the test database of the (throwaway) cluster.
    const admin = new URL(process.env.SCHAKEL_TEST_PG_URL!);
    const name = 'schakel_bench';
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    const u = new URL(admin);
    u.pathname = `/${name}`;
    url = u.toString();
    drop = async () => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const v = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  const settings = (await c.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers')`)).rows;
  await c.end();
  const s = Object.fromEntries(settings.map((r) => [r.name, r.setting]));
  const sharedMb = Math.round((Number(s.shared_buffers) * 8) / 1024);
  return {
    childArgs: ['--db', 'postgres', '--db-url', url],
    version: `PostgreSQL ${v} (fsync=${s.fsync}, synchronous_commit=${s.synchronous_commit}, shared_buffers=${sharedMb}MB)`,
    analyze: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('ANALYZE');
      await client.end();
    },
    cleanup: async () => {
      if (drop && !opts.keep) await drop();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// One engine.

interface EngineRun {
  engine: Engine;
  storage: string;
  ingest: Ingested;
  scenarios: ScenarioResult[];
  readRatio?: number;
}

async function runEngine(engine: Engine): Promise<EngineRun> {
  const patientBundles = patientBundlesFor(opts.resources);
  console.log(`\n== ${engine}: ingest ${totalResources(patientBundles)} resources (${patientBundles + 1} transaction bundles, ${opts.ingestClients} clients)`);
  const storage = engine === 'sqlite' ? await sqliteStorage() : await postgresStorage();
  const scenarios: ScenarioResult[] = [];
  let ours: Child | undefined;
  let bare: Child | undefined;
  try {
    ours = await startChild('server-child.ts', storage.childArgs, `${engine}-schakel.log`);
    const ing = await ingest(ours.url, patientBundles);
    console.log(`  ${Math.round(ing.perSecond)} resources/s (${ing.seconds.toFixed(1)} s; bundle p50 ${ing.bundleLatency.p50.toFixed(0)} ms, p99 ${ing.bundleLatency.p99.toFixed(0)} ms)`);
    // Planner statistics, as autovacuum/ANALYZE would have them on a database in service.
    await storage.analyze();

    const print = (r: ScenarioResult): void => {
      scenarios.push(r);
      if (r.failure) console.log(`  ${r.server.padEnd(7)} ${r.name}: FAILED ${r.failure}`);
      else console.log(`  ${r.server.padEnd(7)} ${r.name}: ${Math.round(r.reqPerSec)} req/s${r.rounds && r.rounds.length > 1 ? ` (rounds: ${r.rounds.join(', ')})` : ''}, p50 ${r.latency.p50.toFixed(1)} ms, p95 ${r.latency.p95.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms${r.non2xx || r.errors ? ` (${r.non2xx} non-2xx, ${r.errors} errors)` : ''}`);
    };

    if (opts.scenarios.has('read')) {
      bare = await startChild('bare-server.ts', storage.childArgs, `${engine}-bare.log`);
      const paths = readPaths(ing);
      for (const r of await readComparison(ours.url, bare.url, paths)) print(r);
      await stopChild(bare);
      bare = undefined;
    }
    if (opts.scenarios.has('search')) {
      for (const s of searchScenarios(ing)) {
        const r = await scenario(s.name, 'schakel', ours.url, s.paths, true);
        r.example = s.query;
        print(r);
      }
    }
    const readOurs = scenarios.find((s) => s.name === 'Read by id' && s.server === 'schakel' && !s.failure);
    const readBare = scenarios.find((s) => s.name === 'Read by id' && s.server === 'bare' && !s.failure);
    return {
      engine,
      storage: storage.version,
      ingest: ing,
      scenarios,
      readRatio: readOurs && readBare ? readOurs.reqPerSec / readBare.reqPerSec : undefined,
    };
  } finally {
    if (bare) await stopChild(bare);
    if (ours) await stopChild(ours);
    await storage.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report.

function sh(cmd: string, cmdArgs: string[]): string {
  try {
    return execFileSync(cmd, cmdArgs, { cwd: ROOT, encoding: 'utf8' }).trimEnd();
  } catch {
    return '?';
  }
}

function machine(): { lines: string[]; summary: string } {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(sh('cat', ['/proc/cpuinfo']))?.[1] ?? cpus()[0]?.model ?? '?';
  const free = sh('free', ['-g']);
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json']);
  const lines = [
    `- CPU: ${cpu}; \`nproc\`: ${availableParallelism()}; memory: ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `- Node.js ${process.version}, ${process.platform}/${process.arch}`,
    `- load average (1/5/15 min) before the run: ${LOAD_AT_START.map((v) => v.toFixed(2)).join(' / ')}; after: ${loadavg().map((v) => v.toFixed(2)).join(' / ')} (the load generator and both servers share these cores; other processes add noise)`,
    `- git commit \`${commit}\`${dirty && dirty !== '?' ? ` with uncommitted changes in ${dirty.split('\n').length} files under src/ (shared working tree)` : ''}`,
    '- `free -g`:',
    '',
    '```',
    free,
    '```',
  ];
  return { lines, summary: `${cpu}, ${availableParallelism()} cores, Node ${process.version}, commit ${commit}` };
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

function tableRows(runs: EngineRun[]): string[] {
  const rows = [
    '| engine | scenario | server | throughput | p50 ms | p95 ms | p99 ms | entries/response (match+include) | vs bare |',
    '|---|---|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of runs) {
    const i = r.ingest;
    rows.push(
      `| ${r.engine} | Ingest: transaction bundles of ${BUNDLE_SIZE}, ${opts.ingestClients} clients | schakel | **${Math.round(i.perSecond)} resources/s** | ${fmt(i.bundleLatency.p50, 0)} (bundle) | ${fmt(i.bundleLatency.p95, 0)} | ${fmt(i.bundleLatency.p99, 0)} | | |`,
    );
    for (const s of r.scenarios) {
      const vs = s.name === 'Read by id' && s.server === 'schakel' && r.readRatio !== undefined ? `**${(r.readRatio * 100).toFixed(0)} %**` : '';
      const entries = s.entries ? `${fmt(s.entries.match)}+${fmt(s.entries.include)}` : '';
      if (s.failure) {
        rows.push(`| ${r.engine} | ${s.name} | ${s.server} | failed: ${s.failure.replace(/\|/g, '\\|').slice(0, 160)} | | | | | |`);
        continue;
      }
      const errs = s.non2xx || s.errors ? ` (${s.non2xx} non-2xx, ${s.errors} errors)` : '';
      rows.push(
        `| ${r.engine} | ${s.name} | ${s.server} | ${Math.round(s.reqPerSec)} req/s${s.rounds && s.rounds.length > 1 ? ` (rounds ${s.rounds.join(' / ')})` : ''}${errs} | ${fmt(s.latency.p50)} | ${fmt(s.latency.p95)} | ${fmt(s.latency.p99)} | ${entries} | ${vs} |`,
      );
    }
  }
  return rows;
}

/** Horizontal bars of req/s (text, so it renders anywhere). */
function chart(runs: EngineRun[]): string[] {
  const items: [string, number][] = [];
  for (const r of runs) for (const s of r.scenarios) if (!s.failure) items.push([`${r.engine.padEnd(8)} ${s.server === 'bare' ? 'bare ceiling: read' : s.name}`, s.reqPerSec]);
  if (items.length === 0) return [];
  const max = Math.max(...items.map(([, v]) => v));
  const width = Math.max(...items.map(([l]) => l.length));
  const out = ['```', 'req/s'];
  for (const [label, v] of items) out.push(`${label.padEnd(width)} ${'█'.repeat(Math.max(1, Math.round((v / max) * 40)))} ${Math.round(v)}`);
  out.push('```');
  return out;
}

function commandLine(): string {
  const given = process.argv.slice(2);
  return `npm run bench${given.length ? ` -- ${given.join(' ')}` : ''}`;
}

const DOC_INTRO = `# Benchmarks

\`npm run bench\` (bench/run.ts) measures, per storage engine (SQLite, PostgreSQL):

- **ingest** — deterministic synthetic Dutch data (bench/data.ts: Patients with a BSN, Observations with LOINC
  codes and dates, a Medication catalogue, MedicationRequests) POSTed as FHIR transaction bundles of 100 entries
  with \`Prefer: return=minimal\` by a few concurrent clients; resources/s over the whole load;
- **read by id** over HTTP (req/s, p50/p95/p99), rotating over Patient, Observation and MedicationRequest ids;
- the same reads against a **bare ceiling**: a node:http server without framework or FHIR logic that answers
  \`SELECT content FROM resources WHERE tenant=? AND type=? AND id=?\` from the same database
  (bench/bare-server.ts); "vs bare" is Schakel's read throughput as a fraction of that ceiling;
- **five typical searches** (p50/p95/p99), each rotating over thousands of patients.

Both servers run as child processes; the load generator (autocannon) runs in the parent on the same machine, so
on small machines it competes with the server for CPU — compare runs on the same machine only (each section
records the load average before and after). Servers are loaded one at a time; read by id alternates Schakel and
the bare server over \`--read-rounds\` rounds so outside load hits both alike. Each measured period follows a
warm-up that is not measured. Latency percentiles are over every 2xx response of the measured periods. After
ingest the runner runs \`ANALYZE\` (what autovacuum or a periodic ANALYZE provides in service).

Data per patient: 1 Patient, 20 Observations (4 LOINC series), 4 MedicationRequests; 4 patients per bundle,
plus one bundle with a catalogue of 100 Medications. \`--seed\` makes it reproducible.

The 1M-resource run: \`npm run bench -- --resources 1000000 --db both --duration 10 --connections 20\`.
`;

function report(runs: EngineRun[], startedAt: Date): void {
  const m = machine();
  const table = tableRows(runs);
  console.log('\n' + table.join('\n'));
  const ratioLine = runs
    .filter((r) => r.readRatio !== undefined)
    .map((r) => `${r.engine}: ${(r.readRatio! * 100).toFixed(0)} % of the bare ceiling`)
    .join('; ');
  if (ratioLine) console.log(`\nRead by id, Schakel vs bare node:http: ${ratioLine}`);

  const resultsFile = join(LOG_DIR, 'results.json');
  writeFileSync(resultsFile, JSON.stringify({ options: { ...opts, scenarios: [...opts.scenarios] }, machine: m.summary, runs: runs.map((r) => ({ ...r, ingest: { ...r.ingest, patients: r.ingest.patients.length, observations: undefined, requests: undefined } })) }, null, 2));
  console.log(`\nraw results: ${resultsFile}`);
  if (!opts.append) return;

  const section = [
    '',
    `## ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${runs.map((r) => r.ingest.resources).join('/')} resources, ${runs.map((r) => r.engine).join(' + ')}`,
    '',
    `Command: \`${commandLine()}\` (${opts.duration} s per scenario after ${opts.warmup} s warm-up, ${opts.connections} connections, seed ${opts.seed})`,
    '',
    ...m.lines,
    ...runs.map((r) => `- ${r.engine}: ${r.storage}`),
    ...(runs.some((r) => r.engine === 'postgres') && !args['db-url']
      ? ['- PostgreSQL is the throwaway cluster of scripts/with-postgres.sh, which runs with **fsync=off, synchronous_commit=off and full_page_writes=off** (test tuning): its write figures are an upper bound, not comparable with SQLite at synchronous=FULL.']
      : []),
    '',
    ...table,
    '',
    ...(ratioLine ? [`Read by id, Schakel vs bare node:http ceiling: ${ratioLine}.`, ''] : []),
    ...chart(runs),
    '',
  ];
  if (!existsSync(opts.out)) writeFileSync(opts.out, DOC_INTRO);
  appendFileSync(opts.out, section.join('\n'));
  console.log(`appended to ${opts.out}`);
}

// ---------------------------------------------------------------------------------------------------------

const startedAt = new Date();
const runs: EngineRun[] = [];
for (const engine of opts.engines) runs.push(await runEngine(engine));
report(runs, startedAt);
