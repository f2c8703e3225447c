/** Helpers shared by the scenarios: statistics, the autocannon load runner, small HTTP and /proc helpers. */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { Ctx, Latency, Metric, RequestMix } from './types.ts';

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function latencyOf(values: number[]): Latency {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

/** Deterministic PRNG (mulberry32), so request parameters are the same for baseline and candidate. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

export const q = encodeURIComponent;

export const FHIR_JSON = 'application/fhir+json';

/** Peak resident set size (VmHWM) of a process in MB, or NaN when /proc has no such process. */
export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function failed(scenario: string, name: string, unit: Metric['unit'], failure: string): Metric {
  return { scenario, name, unit, value: NaN, higherIsBetter: unit !== 'MB' && unit !== 's', failure };
}

interface KindStats {
  latencies: number[];
  ok: number;
  hits: number;
  hitChecked: number;
  unexpected: number;
  firstUnexpected?: string;
}

/**
 * Runs one request mix against the target: an unmeasured warm-up of opts.warmup seconds, then opts.duration
 * seconds measured. Latency is timed per request from setupRequest to onResponse (pipelining 1, so that is the
 * request's round trip plus the client's own scheduling) and reported per kind and overall.
 */
export async function runMix(ctx: Ctx, scenario: string, mix: RequestMix, origin: string = ctx.target.origin): Promise<Metric[]> {
  const { opts } = ctx;
  const stats = new Map<string, KindStats>();
  const statsOf = (kind: string): KindStats => {
    let s = stats.get(kind);
    if (!s) stats.set(kind, (s = { latencies: [], ok: 0, hits: 0, hitChecked: 0, unexpected: 0 }));
    return s;
  };
  let measuring = false;
  const requests: autocannon.Request[] = mix.sequence.map((step) => ({
    method: step.method,
    setupRequest: (req: autocannon.Request, context: object) => {
      const c = context as Record<string, unknown>;
      const { path, body } = step.build(c);
      c.__sent = performance.now();
      const headers: Record<string, string> = { accept: FHIR_JSON };
      if (body !== undefined) headers['content-type'] = FHIR_JSON;
      return { ...req, method: step.method, path, body, headers };
    },
    onResponse: (status: number, body: string, context: object, headers?: Record<string, unknown>) => {
      const c = context as Record<string, unknown>;
      const ms = performance.now() - (c.__sent as number);
      if (measuring) {
        const s = statsOf(step.kind);
        if ((step.expect ?? [200]).includes(status)) {
          s.ok++;
          s.latencies.push(ms);
          if (step.hit) {
            s.hitChecked++;
            if (step.hit(body)) s.hits++;
          }
        } else {
          s.unexpected++;
          s.firstUnexpected ??= `${step.method} ${step.kind}: HTTP ${status} ${body.replace(/\s+/g, ' ').slice(0, 200)}`;
        }
      }
      const location = headers?.location ?? headers?.Location;
      step.after?.(status, body, c, typeof location === 'string' ? location : undefined);
    },
  }));
  const load = (duration: number): Promise<autocannon.Result> =>
    new Promise((ok, fail) => {
      autocannon(
        { url: origin, connections: opts.connections, duration, timeout: 30, requests },
        (err: unknown, result) => (err ? fail(err instanceof Error ? err : new Error(String(err))) : ok(result)),
      );
    });
  if (opts.warmup > 0) await load(opts.warmup);
  measuring = true;
  const t0 = performance.now();
  const result = await load(opts.duration);
  const seconds = (performance.now() - t0) / 1000;
  measuring = false;

  const metrics: Metric[] = [];
  const all: number[] = [];
  let ok = 0;
  let unexpected = 0;
  let firstUnexpected: string | undefined;
  for (const s of stats.values()) {
    // Not push(...latencies): a fast scenario records more values than a call may take as arguments.
    for (const l of s.latencies) all.push(l);
    ok += s.ok;
    unexpected += s.unexpected;
    firstUnexpected ??= s.firstUnexpected;
  }
  metrics.push({
    scenario,
    name: mix.total ?? 'all requests',
    unit: 'req/s',
    value: ok / seconds,
    higherIsBetter: true,
    latency: latencyOf(all),
    requests: ok + unexpected,
    unexpected,
    errors: result.errors,
    note: firstUnexpected,
  });
  if (mix.perKind ?? true) {
    for (const [kind, s] of stats) {
      metrics.push({
        scenario,
        name: kind,
        unit: 'req/s',
        value: s.ok / seconds,
        higherIsBetter: true,
        latency: latencyOf(s.latencies),
        requests: s.ok + s.unexpected,
        unexpected: s.unexpected,
        note: [s.hitChecked ? `${((100 * s.hits) / s.hitChecked).toFixed(0)} % of responses found something` : '', s.firstUnexpected ?? ''].filter(Boolean).join('; ') || undefined,
      });
    }
  }
  return metrics;
}

/** A GET that must answer 200; returns the parsed JSON. */
export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: FHIR_JSON } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
