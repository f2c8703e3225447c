/**
 * `npm run bench` — Schakel's performance benchmark, built from scenario files (bench/scenarios/*.ts).
 *
 *   npm run bench -- [--scenarios ingest,read,five-searches,crud,search,import] [--db sqlite|postgres|both]
 *                    [--duration 5] [--warmup 1] [--connections 20] [--seed 1]
 *                    [--resources 20000] [--ingest-clients 4] [--read-rounds 2]     (ingest, read, five-searches)
 *                    [--patients 200] [--tenant T]                                  (crud, search, import)
 *                    [--compare REF | --compare-url URL] [--rounds 1] [--db-url URL] [--keep] [--no-append] [--out FILE]
 *
 * Per engine it creates a fresh database per side, loads the data the selected scenarios need, starts the
 * Schakel server as a child process (bench/server-child.ts) and runs the scenarios one after another, printing
 * a table and appending a section to docs/benchmarks.md.
 *
 * --compare REF: the baseline is git commit/branch REF, checked out with `git worktree add` into a temporary
 * directory (node_modules symlinked from this checkout when package-lock.json is the same, else `npm ci`
 * there). Both servers get their own database with identical data; every scenario runs on the candidate, then
 * on the baseline (never at the same time), and the table shows candidate/baseline ratios. The worktree is
 * removed at the end. --compare-url URL: the baseline is an already running FHIR server at URL (its FHIR base;
 * the region tenant is uploaded to it with transaction bundles of PUTs; local-only scenarios are skipped).
 *
 * PostgreSQL: --db-url (a server URL whose user may create databases; the run creates schakel_bench_*
 * databases beside it), else SCHAKEL_TEST_PG_URL, else the run re-executes itself under
 * scripts/with-postgres.sh (throwaway cluster).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { runMix } from './scenarios/common.ts';
import { TENANT as CLASSIC_TENANT } from './scenarios/classic.ts';
import { SCENARIOS, scenariosByName } from './scenarios/index.ts';
import { ensureRegion, hasImport, importTenant, uploadTenant } from './scenarios/region.ts';
import type { BenchOptions, ChildHandle, Ctx, Engine, Metric, Scenario, Storage, Target } from './scenarios/types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------------------
// Options.

const USAGE = `npm run bench -- [--scenarios ${SCENARIOS.map((s) => s.name).join(',')}] [--db sqlite|postgres|both]
                 [--duration 5] [--warmup 1] [--connections 20] [--seed 1]
                 [--resources 20000] [--ingest-clients 4] [--read-rounds 2]
                 [--patients 200] [--tenant T]
                 [--compare REF | --compare-url URL] [--rounds 1] [--db-url URL] [--keep] [--no-append] [--out docs/benchmarks.md]

--rounds N runs every scenario N times per side, alternating sides (ABBA…), and reports the median round.

Scenarios (default ingest,read,five-searches):
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.title}`).join('\n')}`;

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'ingest,read,five-searches' },
    db: { type: 'string', default: 'both' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    resources: { type: 'string', default: '20000' },
    'ingest-clients': { type: 'string', default: '4' },
    'read-rounds': { type: 'string', default: '2' },
    patients: { type: 'string', default: '200' },
    tenant: { type: 'string' },
    compare: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'compare-url': { type: 'string' },
    'db-url': { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-append': { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer, got '${v}'`);
  return n;
}

const opts: BenchOptions = {
  duration: positiveInt('duration', args.duration),
  warmup: Number(args.warmup),
  connections: positiveInt('connections', args.connections),
  seed: positiveInt('seed', args.seed),
  resources: positiveInt('resources', args.resources),
  ingestClients: positiveInt('ingest-clients', args['ingest-clients']),
  readRounds: positiveInt('read-rounds', args['read-rounds']),
  patients: positiveInt('patients', args.patients),
  tenant: args.tenant,
  keep: args.keep ?? false,
};
const engines = (args.db === 'both' ? ['sqlite', 'postgres'] : [args.db]) as Engine[];
for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--db must be sqlite, postgres or both, got '${args.db}'`);
const scenarios = scenariosByName((args.scenarios ?? '').split(',').map((s) => s.trim()).filter(Boolean));
if (args.compare && args['compare-url']) throw new Error('--compare and --compare-url exclude each other');
const append = !(args['no-append'] ?? false);
const rounds = positiveInt('rounds', args.rounds);
const outFile = resolve(ROOT, args.out ?? 'docs/benchmarks.md');

// PostgreSQL without a URL: run ourselves again inside a throwaway cluster.
if (engines.includes('postgres') && !args['db-url'] && !process.env.SCHAKEL_TEST_PG_URL) {
  const r = spawnSync(join(ROOT, 'scripts/with-postgres.sh'), [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  process.exit(r.status ?? 1);
}

// ---------------------------------------------------------------------------------------------------------
// Child processes and clean-up.

/** Load average before anything of ours runs: the machine may be shared (other builds, tests). */
const LOAD_AT_START = loadavg();
const RUN_STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const LOG_DIR = join(ROOT, 'bench/results', RUN_STAMP);
mkdirSync(LOG_DIR, { recursive: true });
const WORK_DIR = mkdtempSync(join(tmpdir(), 'schakel-bench-work-'));
const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

function log(message: string): void {
  console.log(`  ${message}`);
}

async function startChild(root: string, script: string, childArgs: string[], logName: string): Promise<ChildHandle> {
  // The harness of this checkout drives both sides; --root makes server-child.ts run the other checkout's src/.
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', script), ...(script === 'server-child.ts' ? ['--root', root] : []), ...childArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const logFile = join(LOG_DIR, logName);
  proc.stderr?.on('data', (d: Buffer) => appendFileSync(logFile, d));
  const lines = createInterface({ input: proc.stdout! });
  const started = await new Promise<{ url: string; pid: number }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start within 120 s (see ${logFile})`)), 120_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      ok(JSON.parse(line) as { url: string; pid: number });
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code} before listening (see ${logFile})`));
    });
  });
  lines.on('line', (l) => appendFileSync(logFile, `${l}\n`));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    children.delete(proc);
  };
  return { url: started.url, pid: proc.pid ?? started.pid, proc, stop };
}

function cleanupAll(): void {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch (e) {
      console.error(`clean-up: ${String(e)}`);
    }
  }
  if (!opts.keep) rmSync(WORK_DIR, { recursive: true, force: true });
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

function sh(cmd: string, cmdArgs: string[], cwd = ROOT): string {
  try {
    return execFileSync(cmd, cmdArgs, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd();
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------------------------------------------------
// The baseline checkout (--compare REF).

interface Checkout {
  root: string;
  name: string;
  commit: string;
  /** Git-ignored files copied into the baseline worktree from this checkout. */
  copied?: string[];
}

function candidateCheckout(): Checkout {
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json']);
  return { root: ROOT, commit, name: `${sh('git', ['rev-parse', '--abbrev-ref', 'HEAD'])}@${commit}${dirty && dirty !== '?' ? ' + uncommitted changes under src/' : ''}` };
}

function baselineCheckout(ref: string): Checkout {
  const commit = sh('git', ['rev-parse', '--short', `${ref}^{commit}`]);
  if (commit === '?') throw new Error(`--compare: '${ref}' is not a commit or branch of this repository`);
  const dir = mkdtempSync(join(tmpdir(), 'schakel-bench-baseline-'));
  rmSync(dir, { recursive: true, force: true });
  // git writes .git/worktrees: take the shared git lock like every other git write in this checkout.
  execFileSync('flock', ['/tmp/git.lock', 'git', 'worktree', 'add', '--detach', dir, commit], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  cleanups.push(() => {
    execFileSync('flock', ['/tmp/git.lock', 'git', 'worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const lock = (root: string) => (existsSync(join(root, 'package-lock.json')) ? readFileSync(join(root, 'package-lock.json'), 'utf8') : '');
  if (lock(dir) === lock(ROOT)) {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    log(`baseline ${ref}@${commit} in ${dir} (node_modules shared with this checkout)`);
  } else {
    log(`baseline ${ref}@${commit}: package-lock.json differs, running npm ci there`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // Files git ignores but the code needs (at the time of writing src/synth/data/*.ts fall under the `data/`
  // pattern of .gitignore, so a checkout of any commit lacks them): copied from this checkout, and said so.
  const ignored = sh('git', ['ls-files', '--others', '--ignored', '--exclude-standard', '--', 'src', 'bin'])
    .split('\n')
    .filter((f) => f && f !== '?' && !existsSync(join(dir, f)));
  for (const f of ignored) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(dir, f));
  }
  if (ignored.length) log(`baseline: copied ${ignored.length} git-ignored source file(s) missing from the commit (${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''})`);
  return { root: dir, commit, name: `${ref}@${commit}`, copied: ignored };
}

// ---------------------------------------------------------------------------------------------------------
// Databases.

async function sqliteStorage(name: string): Promise<Storage> {
  const dir = join(WORK_DIR, `db-${name}`);
  mkdirSync(dir, { recursive: true });
  const version = new BetterSqlite3(':memory:').prepare<[], { v: string }>('SELECT sqlite_version() AS v').get()?.v ?? '?';
  return {
    engine: 'sqlite',
    childArgs: ['--db', 'sqlite', '--data', dir],
    dataDir: dir,
    version: `SQLite ${version} (WAL, synchronous=FULL), database file in ${tmpdir()}`,
    analyze: async () => {
      const db = new BetterSqlite3(join(dir, 'schakel.db'));
      db.exec('ANALYZE');
      db.close();
    },
    cleanup: async () => {
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      else log(`kept SQLite database in ${dir}`);
    },
  };
}

async function postgresStorage(name: string): Promise<Storage> {
  const admin = new URL(args['db-url'] ?? process.env.SCHAKEL_TEST_PG_URL!);
  const db = `schakel_bench_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  const run = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: admin.toString() });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await run(`CREATE DATABASE ${db}`);
  const u = new URL(admin);
  u.pathname = `/${db}`;
  const url = u.toString();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const v = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  const settings = (await c.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers')`)).rows;
  await c.end();
  const s = Object.fromEntries(settings.map((r) => [r.name, r.setting]));
  return {
    engine: 'postgres',
    childArgs: ['--db', 'postgres', '--db-url', url],
    version: `PostgreSQL ${v} (fsync=${s.fsync}, synchronous_commit=${s.synchronous_commit}, shared_buffers=${Math.round((Number(s.shared_buffers) * 8) / 1024)}MB)`,
    analyze: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('ANALYZE');
      await client.end();
    },
    cleanup: async () => {
      if (!opts.keep) await run(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    },
  };
}

const storageFor = (engine: Engine, name: string): Promise<Storage> => (engine === 'sqlite' ? sqliteStorage(name) : postgresStorage(name));

// ---------------------------------------------------------------------------------------------------------
// Targets.

const shared = new Map<string, unknown>();

function ctxFor(target: Target): Ctx {
  return {
    target,
    opts,
    shared,
    workDir: WORK_DIR,
    benchRoot: ROOT,
    log: (m) => log(`[${target.label}] ${m}`),
    startChild: (script, childArgs, logName) => startChild(target.root ?? ROOT, script, childArgs, logName),
  };
}

const needsRegion = scenarios.some((s) => s.needs?.includes('region'));

async function localTarget(label: Target['label'], checkout: Checkout, engine: Engine, useImport: boolean): Promise<Target> {
  const storage = await storageFor(engine, label);
  const target: Target = {
    label,
    name: checkout.name,
    root: checkout.root,
    engine,
    origin: '',
    fhirPath: (tenant) => `/fhir/${tenant}`,
    storage,
    freshStorage: (suffix) => storageFor(engine, `${label}_${suffix}`),
    state: new Map(),
  };
  const ctx = ctxFor(target);
  let region;
  let imported = false;
  if (needsRegion) {
    region = await ensureRegion(ctx);
    if (useImport) {
      try {
        await importTenant(ctx, checkout.root, storage, region);
        imported = true;
      } catch (e) {
        ctx.log(`schakel import failed, loading over HTTP instead: ${String(e).slice(0, 300)}`);
        await storage.cleanup();
        Object.assign(storage, await storageFor(engine, label));
      }
    }
  }
  const tenants = [CLASSIC_TENANT, ...(region ? [region.tenant] : [])];
  const server = await ctx.startChild('server-child.ts', [...storage.childArgs, '--tenant', tenants.join(',')], `${label}-${engine}-server.log`);
  target.origin = server.url;
  target.pid = server.pid;
  target.proc = server.proc;
  target.state.set('stop', server.stop);
  if (region && !imported) await uploadTenant(ctx, target, region);
  if (region) await storage.analyze();
  return target;
}

async function externalTarget(url: string): Promise<Target> {
  const u = new URL(url);
  const path = u.pathname.replace(/\/$/, '');
  const target: Target = { label: 'baseline', name: url, engine: 'external', origin: u.origin, fhirPath: () => path, state: new Map() };
  if (needsRegion) await uploadTenant(ctxFor(target), target, await ensureRegion(ctxFor(target)));
  return target;
}

async function stopTarget(t: Target): Promise<void> {
  const stop = t.state.get('stop') as (() => Promise<void>) | undefined;
  await stop?.();
  await t.storage?.cleanup();
}

// ---------------------------------------------------------------------------------------------------------
// Running scenarios.

interface SideResult {
  target: Target;
  metrics: Metric[];
}

interface EngineRun {
  engine: Engine;
  storage: string;
  sides: SideResult[];
}

async function runScenario(s: Scenario, target: Target): Promise<Metric[]> {
  const ctx = ctxFor(target);
  if (s.localOnly && !target.root) return [];
  try {
    await s.setup?.(ctx);
    if (s.run) return await s.run(ctx);
    const mixes = s.requests?.(ctx);
    const metrics: Metric[] = [];
    for (const mix of Array.isArray(mixes) ? mixes : mixes ? [mixes] : []) metrics.push(...(await runMix(ctx, s.name, mix)));
    return metrics;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    ctx.log(`${s.name} FAILED: ${message}`);
    return [{ scenario: s.name, name: 'scenario', unit: 'req/s', value: NaN, higherIsBetter: true, failure: message.slice(0, 300) }];
  }
}

/** Per metric name, the round with the median value (its latencies too); the note lists every round. */
function medianOfRounds(roundsOf: Metric[][]): Metric[] {
  if (roundsOf.length === 1) return roundsOf[0];
  const names = [...new Set(roundsOf.flat().map((m) => m.name))];
  return names.map((name) => {
    const all = roundsOf.map((ms) => ms.find((m) => m.name === name)).filter((m): m is Metric => !!m);
    const ok = all.filter((m) => !m.failure && Number.isFinite(m.value)).sort((a, b) => a.value - b.value);
    if (ok.length === 0) return all[0];
    const mid = ok[Math.floor((ok.length - 1) / 2)];
    const values = all.map((m) => m.value);
    return { ...mid, rounds: values, note: `median of ${ok.length} rounds (${ok.map((m) => fmtValue(m)).join(', ')})${mid.note ? `; ${mid.note}` : ''}` };
  });
}

function printMetric(label: string, m: Metric): void {
  if (m.failure) console.log(`  [${label}] ${m.scenario} / ${m.name}: FAILED ${m.failure}`);
  else
    console.log(
      `  [${label}] ${m.scenario} / ${m.name}: ${fmtValue(m)}${m.latency ? `, p50 ${fmt(m.latency.p50)} ms, p95 ${fmt(m.latency.p95)} ms, p99 ${fmt(m.latency.p99)} ms` : ''}${
        m.unexpected || m.errors ? ` (${m.unexpected ?? 0} unexpected status, ${m.errors ?? 0} errors)` : ''
      }${m.note ? ` — ${m.note.slice(0, 160)}` : ''}`,
    );
}

async function runEngine(engine: Engine, candidate: Checkout, baseline: Checkout | undefined): Promise<EngineRun> {
  console.log(`\n== ${engine}: scenarios ${scenarios.map((s) => s.name).join(', ')}${baseline ? ` — candidate ${candidate.name} vs baseline ${baseline.name}` : ''}${args['compare-url'] ? ` — vs ${args['compare-url']}` : ''}`);
  const useImport = hasImport(candidate.root) && (!baseline || hasImport(baseline.root));
  const targets: Target[] = [];
  try {
    targets.push(await localTarget('candidate', candidate, engine, useImport));
    if (baseline) targets.push(await localTarget('baseline', baseline, engine, useImport));
    if (args['compare-url']) targets.push(await externalTarget(args['compare-url']));
    const sides: SideResult[] = targets.map((target) => ({ target, metrics: [] }));
    for (const s of scenarios) {
      const perRound = new Map<SideResult, Metric[][]>(sides.map((x) => [x, []]));
      for (let round = 0; round < rounds; round++) {
        // One side at a time; the order flips per scenario and round (ABBA…) so drift in outside load is shared.
        const order = (scenarios.indexOf(s) + round) % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) {
          const ms = await runScenario(s, side.target);
          for (const m of ms) printMetric(side.target.label, m);
          perRound.get(side)!.push(ms);
        }
      }
      for (const side of sides) side.metrics.push(...medianOfRounds(perRound.get(side)!));
    }
    return { engine, storage: targets[0].storage?.version ?? '?', sides };
  } finally {
    for (const t of targets) await stopTarget(t);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report.

function fmt(n: number | undefined, digits = 1): string {
  return n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–';
}

function fmtValue(m: Metric): string {
  if (m.failure) return 'failed';
  if (m.name.endsWith('ratio')) return `${(m.value * 100).toFixed(0)} %`;
  return `${m.unit === 'MB' ? fmt(m.value, 0) : Math.round(m.value)} ${m.unit}`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function machine(c: Checkout): { lines: string[]; summary: string } {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(sh('cat', ['/proc/cpuinfo']))?.[1] ?? cpus()[0]?.model ?? '?';
  const now = sh('git', ['rev-parse', '--short', 'HEAD']);
  const lines = [
    `- CPU: ${cpu}; \`nproc\`: ${availableParallelism()}; memory: ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `- Node.js ${process.version}, ${process.platform}/${process.arch}`,
    `- load average (1/5/15 min) before the run: ${LOAD_AT_START.map((v) => v.toFixed(2)).join(' / ')}; after: ${loadavg().map((v) => v.toFixed(2)).join(' / ')} (the load generator and the servers share these cores; other processes add noise)`,
    `- candidate: \`${c.name}\` (at the start of the run)${now !== c.commit ? `; HEAD moved to \`${now}\` during the run (shared working tree: servers started later may run newer code)` : ''}`,
    '- `free -g`:',
    '',
    '```',
    sh('free', ['-g']),
    '```',
  ];
  return { lines, summary: `${cpu}, ${availableParallelism()} cores, Node ${process.version}, ${c.name}` };
}

function tableRows(runs: EngineRun[]): string[] {
  const compare = runs.some((r) => r.sides.length > 1);
  const rows: string[] = [];
  if (!compare) {
    rows.push('| engine | scenario | metric | value | p50 ms | p95 ms | p99 ms | notes |', '|---|---|---|--:|--:|--:|--:|---|');
    for (const r of runs)
      for (const m of r.sides[0].metrics) {
        const errs = m.unexpected || m.errors ? `${m.unexpected ?? 0} unexpected status, ${m.errors ?? 0} errors. ` : '';
        rows.push(`| ${r.engine} | ${m.scenario} | ${cell(m.name)} | ${m.failure ? `failed: ${cell(m.failure.slice(0, 160))}` : `**${fmtValue(m)}**`} | ${fmt(m.latency?.p50)} | ${fmt(m.latency?.p95)} | ${fmt(m.latency?.p99)} | ${cell(errs + (m.note ?? '').slice(0, 200))} |`);
      }
    return rows;
  }
  rows.push(
    '| engine | scenario | metric | candidate | baseline | candidate/baseline | p50 ms cand./base. | p99 ms cand./base. | notes |',
    '|---|---|---|--:|--:|--:|--:|--:|---|',
  );
  for (const r of runs) {
    const [cand, base] = r.sides;
    const keys = [...new Set([...cand.metrics, ...base.metrics].map((m) => `${m.scenario}\u0000${m.name}`))];
    for (const k of keys) {
      const [scenario, name] = k.split('\u0000');
      const a = cand.metrics.find((m) => m.scenario === scenario && m.name === name);
      const b = base.metrics.find((m) => m.scenario === scenario && m.name === name);
      const ratio = a && b && !a.failure && !b.failure && b.value !== 0 ? a.value / b.value : NaN;
      // Within ±5 % is marked ≈: on a shared machine that is inside run-to-run noise.
      const mark = !a || !Number.isFinite(ratio) ? '' : Math.abs(ratio - 1) < 0.05 ? ' ≈' : (a.higherIsBetter ? ratio > 1 : ratio < 1) ? ' better' : ' worse';
      const notes = [a?.failure && `candidate failed: ${a.failure}`, b?.failure && `baseline failed: ${b.failure}`, (a?.unexpected || b?.unexpected) && `unexpected status ${a?.unexpected ?? 0}/${b?.unexpected ?? 0}`,
        (a?.rounds || b?.rounds) && `rounds cand. ${(a?.rounds ?? []).map((v) => fmt(v, v < 10 ? 2 : 0)).join(' / ')}, base. ${(b?.rounds ?? []).map((v) => fmt(v, v < 10 ? 2 : 0)).join(' / ')}`]
        .filter(Boolean)
        .join('; ');
      rows.push(
        `| ${r.engine} | ${scenario} | ${cell(name)} | ${a ? fmtValue(a) : 'n/a'} | ${b ? fmtValue(b) : 'n/a'} | ${Number.isFinite(ratio) ? `**${ratio.toFixed(2)}**${mark}` : '–'} | ${fmt(a?.latency?.p50)} / ${fmt(b?.latency?.p50)} | ${fmt(a?.latency?.p99)} / ${fmt(b?.latency?.p99)} | ${cell(notes.slice(0, 240))} |`,
      );
    }
  }
  return rows;
}

function commandLine(): string {
  const given = process.argv.slice(2);
  return `npm run bench${given.length ? ` -- ${given.join(' ')}` : ''}`;
}

function report(runs: EngineRun[], startedAt: Date): void {
  const m = machine(candidate);
  const table = tableRows(runs);
  console.log('\n' + table.join('\n'));
  const resultsFile = join(LOG_DIR, 'results.json');
  writeFileSync(
    resultsFile,
    JSON.stringify({ options: opts, scenarios: scenarios.map((s) => s.name), machine: m.summary, runs: runs.map((r) => ({ engine: r.engine, storage: r.storage, sides: r.sides.map((s) => ({ target: s.target.name, label: s.target.label, metrics: s.metrics })) })) }, null, 2),
  );
  console.log(`\nraw results: ${resultsFile}`);
  if (!append) return;
  const baselineName = runs[0]?.sides[1]?.target.name;
  const region = shared.get('region') as { patients: number; totalResources: number; tenant: string } | undefined;
  const notes = scenarios.flatMap((s) => s.report?.(runs.flatMap((r) => r.sides.flatMap((x) => x.metrics.filter((mm) => mm.scenario === s.name)))) ?? []);
  const section = [
    '',
    `## ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${scenarios.map((s) => s.name).join(', ')} on ${runs.map((r) => r.engine).join(' + ')}${baselineName ? ` — compared with ${baselineName}` : ''}`,
    '',
    `Command: \`${commandLine()}\` (${opts.duration} s per load after ${opts.warmup} s warm-up, ${opts.connections} connections, seed ${opts.seed}${rounds > 1 ? `, median of ${rounds} rounds per side` : ''})`,
    '',
    ...m.lines,
    ...(baselineName ? [`- baseline: \`${baselineName}\`${args.compare ? ' (git worktree, servers started from that checkout; same harness, same data, separate databases)' : ''}`] : []),
    ...(baseline?.copied?.length ? [`- the baseline commit lacks ${baseline.copied.length} git-ignored source file(s) (${baseline.copied.slice(0, 3).join(', ')}${baseline.copied.length > 3 ? ', …' : ''}); they were copied from the candidate checkout`] : []),
    ...(region ? [`- region: ${region.patients} patients, ${region.totalResources} resources (\`schakel synth --seed ${opts.seed}\`); crud/search on tenant \`${region.tenant}\``] : []),
    ...(scenarios.some((s) => ['ingest', 'read', 'five-searches'].includes(s.name)) ? [`- bench/data.ts: ${opts.resources} resources requested (tenant \`${CLASSIC_TENANT}\`)`] : []),
    ...runs.map((r) => `- ${r.engine}: ${r.storage}`),
    ...(runs.some((r) => r.engine === 'postgres') && !args['db-url']
      ? ['- PostgreSQL is the throwaway cluster of scripts/with-postgres.sh, which runs with **fsync=off, synchronous_commit=off and full_page_writes=off** (test tuning): its write figures are an upper bound, not comparable with SQLite at synchronous=FULL.']
      : []),
    '',
    ...table,
    '',
    ...notes.map((n) => `- ${n}`),
    ...(notes.length ? [''] : []),
  ];
  if (!existsSync(outFile)) writeFileSync(outFile, '# Benchmarks\n\nSee bench/run.ts (`npm run bench -- --help`).\n');
  appendFileSync(outFile, section.join('\n'));
  console.log(`appended to ${outFile}`);
}

// ---------------------------------------------------------------------------------------------------------

const startedAt = new Date();
const candidate = candidateCheckout();
const baseline = args.compare ? baselineCheckout(args.compare) : undefined;
const runs: EngineRun[] = [];
for (const engine of engines) runs.push(await runEngine(engine, candidate, baseline));
report(runs, startedAt);
cleanupAll();
