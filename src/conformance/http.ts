/**
 * TestScript operations → HTTP. Builds the request (method, URL, headers, body) from an operation and
 * the script context, executes it with fetch and records request and response for later asserts.
 */
import type { Resource, TestScriptSetupActionOperation } from 'fhir/r4';
import type { HttpExchange, HttpRequestRecord, ScriptContext } from './context.ts';
import { unresolvedPlaceholders } from './placeholders.ts';
import { formatOfMime, mimeType, parseResource, serializeResource, sniffFormat, type WireFormat } from './resources.ts';

export class OperationError extends Error {}

export const PURGE_SYSTEM = 'http://fhir.interoplab.eu/fhir/CodeSystem/Interoplab-CL-operation-codes';

const METHODS: Record<string, string> = {
  read: 'GET',
  vread: 'GET',
  search: 'GET',
  'search-type': 'GET',
  'search-system': 'GET',
  history: 'GET',
  'history-instance': 'GET',
  'history-type': 'GET',
  capabilities: 'GET',
  update: 'PUT',
  updateCreate: 'PUT',
  create: 'POST',
  transaction: 'POST',
  batch: 'POST',
  purge: 'POST',
  delete: 'DELETE',
  patch: 'PATCH',
  // http-operations codes (STU3 eOverdracht notification and friends)
  get: 'GET',
  post: 'POST',
  put: 'PUT',
  head: 'HEAD',
  options: 'OPTIONS',
};

/**
 * Percent-encodes a query component but keeps `:`, `,`, `/`, `$` and `@` readable: they are legal in a
 * query, and servers echo parameters in the self link, which the queryParamsInSelfLink rule compares.
 */
function encodeComponent(s: string): string {
  let decoded = s;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    // Not valid percent-encoding: encode the raw text.
  }
  return encodeURIComponent(decoded).replace(/%(3A|2C|2F|24|40)/gi, (m) => decodeURIComponent(m));
}

export function encodeQuery(query: string): string {
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const i = pair.indexOf('=');
      return i < 0 ? encodeComponent(pair) : `${encodeComponent(pair.slice(0, i))}=${encodeComponent(pair.slice(i + 1))}`;
    })
    .join('&');
}

function joinUrl(base: string, path: string): string {
  if (/^https?:\/\//i.test(path)) return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function checkResolved(what: string, text: string): string {
  const left = unresolvedPlaceholders(text);
  if (left.length) throw new OperationError(`${what} has unresolved variable(s) ${left.join(', ')}`);
  return text;
}

/** The URL of an operation, relative parts resolved against base. */
export function operationUrl(op: TestScriptSetupActionOperation, ctx: ScriptContext, base: string): string {
  const code = op.type?.code ?? '';
  let url: string;
  if (op.url) {
    url = joinUrl(base, checkResolved('url', ctx.expand(op.url)));
  } else if (code === 'transaction' || code === 'batch') {
    url = base.replace(/\/+$/, '');
  } else {
    let type = op.resource ?? '';
    const fixture = op.sourceId ? ctx.source(op.sourceId) : undefined;
    if (!type && fixture && (code === 'update' || code === 'create' || code === 'updateCreate')) type = fixture.resourceType;
    let path = type;
    if (op.params) {
      const params = checkResolved('params', ctx.expand(op.params));
      // `?a=b` and `/id` attach directly; a bare `id/$purge` is a path segment.
      path += params.startsWith('?') || params.startsWith('/') ? params : `/${params}`;
    } else {
      const target = op.targetId ? ctx.source(op.targetId) : code === 'update' || code === 'updateCreate' ? fixture : undefined;
      if (target?.id) path += `/${target.id}`;
      else if (code === 'purge') throw new OperationError('purge needs params or targetId');
    }
    url = joinUrl(base, path);
  }
  if (op.encodeRequestUrl !== false) {
    const q = url.indexOf('?');
    if (q >= 0) url = url.slice(0, q + 1) + encodeQuery(url.slice(q + 1));
  }
  return url;
}

export function operationMethod(op: TestScriptSetupActionOperation): string {
  const code = op.type?.code ?? '';
  const m = METHODS[code];
  if (!m) throw new OperationError(`unsupported operation type ${op.type?.system ?? ''}#${code}`);
  return m;
}

/** Builds the complete request; throws OperationError when it cannot be built (e.g. unbound variable). */
export async function buildRequest(
  op: TestScriptSetupActionOperation,
  ctx: ScriptContext,
  base: string,
): Promise<HttpRequestRecord> {
  const method = operationMethod(op);
  const url = operationUrl(op, ctx, base);
  const headers: Record<string, string> = {};
  const accept = mimeType(op.accept);
  if (accept) headers['Accept'] = accept;
  let body: string | undefined;
  let resource: Resource | undefined;
  if (op.sourceId) {
    resource = ctx.source(op.sourceId);
    if (!resource) throw new OperationError(`sourceId ${op.sourceId} is neither a fixture nor a response`);
    const fmt: WireFormat = op.contentType === 'xml' ? 'xml' : op.contentType === 'json' ? 'json' : (formatOfMime(accept) ?? 'json');
    body = await serializeResource(resource, fmt);
    headers['Content-Type'] = mimeType(fmt) as string;
  } else if (op.contentType && method !== 'GET' && method !== 'DELETE' && method !== 'HEAD') {
    const ct = mimeType(op.contentType);
    if (ct) headers['Content-Type'] = ct;
  }
  for (const h of op.requestHeader ?? []) {
    // Expanded per request: `${UUID}` yields a fresh MedMij-Request-ID every time.
    headers[h.field] = checkResolved(`header ${h.field}`, ctx.expand(h.value));
  }
  return { method, url, headers, body, resource };
}

export interface ExecuteOptions {
  timeoutMs?: number;
}

/** Sends a request and records the response; a network failure throws OperationError. */
export async function execute(req: HttpRequestRecord, opts: ExecuteOptions = {}): Promise<HttpExchange> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new OperationError(`${req.method} ${req.url} failed: ${(err as Error).message}${cause ? ` (${cause})` : ''}`);
  }
  const body = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k.toLowerCase()] = v;
  });
  const format = formatOfMime(headers['content-type']) ?? (body ? sniffFormat(body) : undefined);
  let resource: Resource | undefined;
  if (body && format) {
    try {
      resource = await parseResource(body, format);
    } catch {
      // An unparseable body stays unparsed; resource and expression asserts then fail with a clear message.
    }
  }
  return { request: req, response: { status: res.status, headers, body, resource, format } };
}
