/**
 * Test support for bulk data: a real server (node + HTTP app + the bulk plugin) on 127.0.0.1, and a small
 * Bulk Data Access IG client that only speaks HTTP (kick-off, poll, download) — no access to internals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerBulkRoutes } from '../../src/bulk/routes.ts';
import type { BulkConfig } from '../../src/bulk/jobs.ts';
import { buildApp } from '../../src/http/app.ts';
import { openNode, type ProviderNode } from '../../src/node/provider-node.ts';
import type { Dialect } from '../../src/storage/schema.ts';
import { freshEngine } from '../helpers/engines.ts';

export interface BulkTestServer {
  url: string;
  base(tenant: string): string;
  node: ProviderNode;
  dir: string;
  stop(): Promise<void>;
}

export async function startBulkServer(
  db: Dialect,
  opts: { tenants?: string[]; config?: Partial<BulkConfig>; target?: Awaited<ReturnType<typeof freshEngine>>; keep?: boolean } = {},
): Promise<BulkTestServer> {
  const target = opts.target ?? (await freshEngine(db));
  const dir = mkdtempSync(join(tmpdir(), 'schakel-bulk-test-'));
  const node = await openNode(target.opts);
  for (const t of opts.tenants ?? ['t1']) await node.tenants.ensure({ tenant: t });
  const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
  registerBulkRoutes(app, node, { dir: join(dir, 'bulk'), importDirs: [dir], retryAfterSeconds: 1, ...opts.config });
  // Every connection, so stop() can end them all: a keep-alive connection can outlive close() and keep the
  // test process alive for Fastify's 72 s keepAliveTimeout.
  const sockets = new Set<import('node:net').Socket>();
  app.server.on('connection', (sock: import('node:net').Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    url,
    base: (tenant) => `${url}/fhir/${tenant}`,
    node,
    dir,
    stop: async () => {
      await app.close();
      for (const sock of sockets) sock.destroy();
      await node.close();
      if (!opts.keep) {
        await target.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * fetch without keep-alive: a pooled connection to a stopped test server was seen to keep the test process
 * alive for Fastify's 72 s keepAliveTimeout.
 */
export function http(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { connection: 'close', ...(init.headers as Record<string, string> | undefined) } });
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count?: number; inputUrl?: string }[];
  error: { type: string; url: string; count?: number }[];
}

/** Kick-off: returns the status URL (Content-Location) of an accepted request, or the error response. */
export async function kickOff(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; location?: string; body: unknown }> {
  const res = await http(url, {
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/fhir+json',
      prefer: 'respond-async',
      ...(init.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, location: res.headers.get('content-location') ?? undefined, body: text ? JSON.parse(text) : undefined };
}

/** Polls a status URL until it is no longer 202; returns the final response and the X-Progress values seen. */
export async function poll(statusUrl: string, maxWaitMs = 100): Promise<{ status: number; body: unknown; progress: string[]; headers: Headers }> {
  const progress: string[] = [];
  for (;;) {
    const res = await http(statusUrl, { headers: { accept: 'application/json' } });
    const text = await res.text();
    if (res.status !== 202) return { status: res.status, body: text ? JSON.parse(text) : undefined, progress, headers: res.headers };
    progress.push(res.headers.get('x-progress') ?? '');
    const retry = Number(res.headers.get('retry-after') ?? '1');
    // The client honours Retry-After, capped so tests do not idle.
    await new Promise((r) => setTimeout(r, Math.min(retry * 1000, maxWaitMs)));
  }
}

/** Runs an export end to end and downloads every output file: resources per type. */
export async function exportAll(
  kickOffUrl: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ manifest: Manifest; byType: Map<string, unknown[]>; contentTypes: Set<string> }> {
  const k = await kickOff(kickOffUrl, init);
  if (k.status !== 202 || !k.location) throw new Error(`kick-off answered ${k.status}: ${JSON.stringify(k.body)}`);
  const done = await poll(k.location);
  if (done.status !== 200) throw new Error(`status answered ${done.status}: ${JSON.stringify(done.body)}`);
  const manifest = done.body as Manifest;
  const byType = new Map<string, unknown[]>();
  const contentTypes = new Set<string>();
  for (const o of manifest.output) {
    const res = await http(o.url, { headers: { accept: 'application/fhir+ndjson' } });
    if (res.status !== 200) throw new Error(`download of ${o.url} answered ${res.status}`);
    contentTypes.add(res.headers.get('content-type') ?? '');
    const lines = (await res.text()).split('\n').filter((l) => l.length > 0);
    const list = byType.get(o.type) ?? [];
    for (const l of lines) list.push(JSON.parse(l));
    byType.set(o.type, list);
  }
  return { manifest, byType, contentTypes };
}

export function countsOf(byType: Map<string, unknown[]>): Record<string, number> {
  return Object.fromEntries([...byType].map(([t, l]) => [t, l.length]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

/** Writes resources into a tenant through the FHIR API (a transaction bundle of PUTs). */
export async function putAll(base: string, resources: { resourceType: string; id: string }[]): Promise<void> {
  const res = await http(base, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', prefer: 'return=minimal' },
    body: JSON.stringify({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
    }),
  });
  if (res.status !== 200) throw new Error(`transaction answered ${res.status}: ${await res.text()}`);
}

/** Like exportAll, but only counts the downloaded resources per type (streaming; for large exports). */
export async function exportCounts(kickOffUrl: string): Promise<{ manifest: Manifest; counts: Record<string, number> }> {
  const k = await kickOff(kickOffUrl);
  if (k.status !== 202 || !k.location) throw new Error(`kick-off answered ${k.status}: ${JSON.stringify(k.body)}`);
  const done = await poll(k.location, 500);
  if (done.status !== 200) throw new Error(`status answered ${done.status}: ${JSON.stringify(done.body)}`);
  const manifest = done.body as Manifest;
  const counts: Record<string, number> = {};
  const count = (line: string) => {
    const t = (JSON.parse(line) as { resourceType: string }).resourceType;
    counts[t] = (counts[t] ?? 0) + 1;
  };
  for (const o of manifest.output) {
    const res = await http(o.url);
    if (res.status !== 200 || !res.body) throw new Error(`download of ${o.url} answered ${res.status}`);
    let rest = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (l) count(l);
    }
    if (rest) count(rest);
  }
  return { manifest, counts };
}
