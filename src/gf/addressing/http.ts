/**
 * The directory clients' HTTP: FHIR JSON over fetch, with backoff. 429 and 503 (also 502/504 and network
 * errors) are retried; a `Retry-After` (seconds or HTTP-date) is honoured, capped at `maxDelayMs`; without
 * one the wait grows exponentially with full jitter. `fetch`, `sleep` and the clock are injectable (tests).
 */
import type { OperationOutcome } from 'fhir/r4';

export interface HttpOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Value of the Authorization header (e.g. `Bearer …`), fetched before every request (tokens expire). */
  authorization?: () => string | undefined | Promise<string | undefined>;
  /** Attempts per request, the first included (default 5). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  now?: () => number;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body, undefined when empty or not JSON. */
  json: unknown;
}

export class DirectoryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(`${url} answered ${status}${outcome?.issue?.[0]?.diagnostics ? `: ${outcome.issue[0].diagnostics}` : ''}`);
    this.name = 'DirectoryHttpError';
  }
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Milliseconds a `Retry-After` value asks for, or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function fhirRequest(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> }, opts: HttpOptions = {}): Promise<HttpResult> {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? realSleep;
  const maxAttempts = opts.maxAttempts ?? 5;
  const base = opts.baseDelayMs ?? 500;
  const cap = opts.maxDelayMs ?? 120_000;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    const authorization = await opts.authorization?.();
    const headers: Record<string, string> = { accept: 'application/fhir+json', ...(authorization ? { authorization } : {}), ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/fhir+json';
    let res: Response | undefined;
    let failure: unknown;
    try {
      res = await doFetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    } catch (e) {
      failure = e;
    }
    if (res && !RETRY_STATUS.has(res.status)) {
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json };
    }
    if (attempt >= maxAttempts) {
      if (res) {
        await res.body?.cancel();
        throw new DirectoryHttpError(res.status, url);
      }
      throw failure;
    }
    const asked = res ? retryAfterMs(res.headers.get('retry-after'), now()) : undefined;
    await res?.body?.cancel();
    const backoff = Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
    await sleep(Math.min(cap, asked ?? backoff));
  }
}

/** fhirRequest that throws DirectoryHttpError on any status ≥ 400. */
export async function fhirOk(url: string, init: Parameters<typeof fhirRequest>[1], opts: HttpOptions = {}): Promise<HttpResult> {
  const res = await fhirRequest(url, init, opts);
  if (res.status >= 400) {
    const outcome = (res.json as { resourceType?: string } | undefined)?.resourceType === 'OperationOutcome' ? (res.json as OperationOutcome) : undefined;
    throw new DirectoryHttpError(res.status, url, outcome);
  }
  return res;
}
