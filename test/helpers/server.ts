/** Starts a real Schakel server on 127.0.0.1 (free port) over a fresh database of the given engine. */
import { startServer, type RunningServer, type ServerOptions } from '../../src/http/server.ts';
import type { Dialect } from '../../src/storage/schema.ts';
import { freshEngine } from './engines.ts';

export interface TestServer {
  url: string;
  base(tenant: string): string;
  server: RunningServer;
  stop(): Promise<void>;
}

// The log streams still run in tests (every line is built and redacted) but go nowhere unless a test asks.
const discard = { write: () => {} };
/** Both log streams built and redacted, written nowhere (the `logger` option of startServer / startNetworkNode). */
export const QUIET_LOGS = { ops: discard, security: discard };

export async function startTestServer(db: Dialect, opts: { tenants?: string[]; qualificationTokens?: string; logger?: ServerOptions['logger'] } = {}): Promise<TestServer> {
  const target = await freshEngine(db);
  const logger = opts.logger ?? QUIET_LOGS;
  const server = await startServer({ port: 0, host: '127.0.0.1', ...target.opts, tenants: opts.tenants ?? ['t1', 't2'], qualificationTokens: opts.qualificationTokens, logger });
  return {
    url: server.url,
    base: (tenant) => `${server.url}/fhir/${tenant}`,
    server,
    stop: async () => {
      await server.close();
      await target.cleanup();
    },
  };
}

export const FHIR_JSON = 'application/fhir+json';

export async function fhir(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { accept: FHIR_JSON, ...(init.body !== undefined ? { 'content-type': FHIR_JSON } : {}), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test responses are checked field by field
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
