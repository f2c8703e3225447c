/**
 * The scenario contract of `npm run bench` (bench/run.ts). A scenario is a module in bench/scenarios/ that
 * exports a {@link Scenario}; bench/scenarios/index.ts lists them by name for `--scenarios a,b,c`.
 *
 * A scenario either describes an HTTP load (`requests(ctx)`: a sequence of requests every connection loops
 * over, run by the common autocannon runner with warm-up, per-kind latencies and status checks) or measures
 * something itself (`run(ctx)`: import/export, ingest). Both produce {@link Metric}s; `--compare` divides the
 * candidate's metric by the baseline's metric of the same scenario and name.
 */
import type { ChildProcess } from 'node:child_process';

export type Engine = 'sqlite' | 'postgres';

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface Metric {
  scenario: string;
  /** What was measured, unique within the scenario (e.g. 'all requests', 'create', 'Patient?name'). */
  name: string;
  unit: 'req/s' | 'resources/s' | 'MB' | 's';
  value: number;
  /** For the compare table: whether a larger value is better (throughput) or worse (memory, time). */
  higherIsBetter: boolean;
  latency?: Latency;
  requests?: number;
  /** Responses with an unexpected status. */
  unexpected?: number;
  /** Connection errors and timeouts. */
  errors?: number;
  note?: string;
  /** Values of every round when the run has --rounds > 1 (value is then the median round's). */
  rounds?: number[];
  /** Set when the scenario could not measure this (the value is then NaN). */
  failure?: string;
}

/** A database a server (or an import) runs on. */
export interface Storage {
  engine: Engine;
  /** Arguments for bench/server-child.ts, bench/bare-server.ts and `schakel import`. */
  childArgs: string[];
  version: string;
  /** SQLite data directory (for SQLite only). */
  dataDir?: string;
  analyze(): Promise<void>;
  cleanup(): Promise<void>;
}

/** One side of a run: the checkout under test ('candidate') or the one it is compared with ('baseline'). */
export interface Target {
  label: 'candidate' | 'baseline';
  /** Human-readable: 'main@1a2b3c4 (working tree)', 'v0.1@…', or the external URL. */
  name: string;
  /** The checkout whose src/ the server runs; absent for an external server (--compare-url). */
  root?: string;
  engine: Engine | 'external';
  /** Origin of the server, e.g. http://127.0.0.1:41234 (no path). */
  origin: string;
  /** Path of a tenant's FHIR base on that origin, e.g. /fhir/bench (external: the URL's path, tenant ignored). */
  fhirPath(tenant: string): string;
  /** Process id of the server (local only), for VmHWM in /proc/PID/status. */
  pid?: number;
  proc?: ChildProcess;
  storage?: Storage;
  /** A fresh, empty database of the same engine (import scenario). */
  freshStorage?(suffix: string): Promise<Storage>;
  /** Scenario state per target (ids created by ingest, loaded region tenant…). */
  state: Map<string, unknown>;
}

export interface BenchOptions {
  duration: number;
  warmup: number;
  connections: number;
  seed: number;
  /** bench/data.ts resources for the classic scenarios (ingest, read, five-searches). */
  resources: number;
  ingestClients: number;
  readRounds: number;
  /** Patients in the synthetic region (crud, search, import). */
  patients: number;
  /** Region tenant the crud and search scenarios run against (default: the one with the most clinical data). */
  tenant?: string;
  keep: boolean;
}

export interface ChildHandle {
  url: string;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export interface Ctx {
  target: Target;
  opts: BenchOptions;
  /** Data shared by both targets (so baseline and candidate see identical data). */
  shared: Map<string, unknown>;
  /** Directory for logs and temporary files of this run. */
  workDir: string;
  /** The candidate checkout (where bench/ lives). */
  benchRoot: string;
  log(message: string): void;
  /** Starts a bench child (server-child.ts, bare-server.ts) for this target's checkout. */
  startChild(script: 'server-child.ts' | 'bare-server.ts', args: string[], logName: string): Promise<ChildHandle>;
}

/** One request of a load sequence. Every connection loops over the sequence; `context` lives for one loop. */
export interface MixStep {
  /** Metric name the latency is reported under (several steps may share one). */
  kind: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and body; may read what earlier steps of this loop stored in `context`. */
  build(context: Record<string, unknown>): { path: string; body?: string };
  /** Statuses that count as success (default 200). */
  expect?: number[];
  /** Whether a successful response found something (e.g. a searchset with entries); reported as a hit rate. */
  hit?(body: string): boolean;
  /** Called with the response of this step, e.g. to keep the id of a created resource. */
  after?(status: number, body: string, context: Record<string, unknown>, location: string | undefined): void;
}

export interface RequestMix {
  sequence: MixStep[];
  /** Name of the overall throughput metric (default 'all requests'). */
  total?: string;
  /** Also report one metric per kind (default true). */
  perKind?: boolean;
}

export interface Scenario {
  name: string;
  /** One line for --help and docs. */
  title: string;
  /** Data the target must hold before its server starts ('region': the synthetic region's tenant). */
  needs?: 'region'[];
  /** Only for local Schakel servers (not for --compare-url). */
  localOnly?: boolean;
  setup?(ctx: Ctx): Promise<void>;
  requests?(ctx: Ctx): RequestMix | RequestMix[];
  run?(ctx: Ctx): Promise<Metric[]>;
  /** Extra markdown lines for docs/benchmarks.md under the results of this scenario. */
  report?(metrics: Metric[]): string[];
}
