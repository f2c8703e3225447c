/** Shared set-up for the addressing tests: a directory on a fresh database, test tokens, a FHIR JSON fetch. */
import { freshEngine } from '../../helpers/engines.ts';
import type { Dialect } from '../../../src/storage/schema.ts';
import { startDirectory, type RunningDirectory } from '../../../src/gf/addressing/service.ts';

/** Test tokens: `Bearer ura:<URA>` stands for a verified access token of that organisation. */
export function verifyTestToken(authorization: string | undefined): { ura: string } | undefined {
  const m = /^Bearer ura:(\d{8})$/.exec(authorization ?? '');
  return m ? { ura: m[1] } : undefined;
}
export const tokenFor = (ura: string) => `Bearer ura:${ura}`;

export interface TestDirectory extends RunningDirectory {
  stop(): Promise<void>;
}

export async function startTestDirectory(db: Dialect = 'sqlite'): Promise<TestDirectory> {
  const target = await freshEngine(db);
  const dir = await startDirectory({ port: 0, host: '127.0.0.1', ...target.opts, verifyToken: verifyTestToken });
  return Object.assign(dir, {
    stop: async () => {
      await dir.close();
      await target.cleanup();
    },
  });
}

export async function call(url: string, init: { method?: string; body?: unknown; ura?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/fhir+json',
      ...(init.ura ? { authorization: tokenFor(init.ura) } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test responses are checked field by field
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** A scripted directory: answers each request with the next scripted reply (the last one repeats), and records the URLs. */
export async function startFakeDirectory(replies: ((url: string) => { status: number; headers?: Record<string, string>; body?: unknown })[]) {
  const { createServer } = await import('node:http');
  const urls: string[] = [];
  let i = 0;
  const server = createServer((req, res) => {
    urls.push(req.url ?? '');
    const reply = replies[Math.min(i++, replies.length - 1)](req.url ?? '');
    res.writeHead(reply.status, { 'content-type': 'application/fhir+json', ...reply.headers });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/fhir`;
  return { base, urls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
