/**
 * batch and transaction Bundles (FHIR http.html#transaction).
 *
 * transaction: all or nothing. Entries are processed in the order the spec prescribes (DELETE, POST,
 * PUT/PATCH, GET); urn:uuid fullUrls of created resources and conditional references (`Patient?identifier=…`)
 * are resolved first, then every write is planned and committed in ONE database transaction. Any error
 * rolls everything back and the client gets that error. Two entries touching one resource is an error.
 *
 * batch: every entry on its own; a failing entry gets its OperationOutcome in `response.outcome`.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import { executeSearch } from '../../search/execute.ts';
import { parseSearchRequest } from '../../search/parse.ts';
import type { ServerDeps, WriteScope } from '../context.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../types.ts';
import { isRaw } from '../types.ts';
import { planFor, type Dispatch } from './plan-entry.ts';
import { asConflict, parseQueryString, type Plan } from './write.ts';

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

function entryRequest(entry: BundleEntry, index: number): FhirRequest {
  const r = entry.request;
  const where = `Bundle.entry[${index}].request`;
  if (!r?.method || !r.url) throw badRequest('Every entry needs request.method and request.url', where);
  const method = r.method.toUpperCase() as FhirRequest['method'];
  if (!['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw badRequest(`Unsupported method ${r.method}`, `${where}.method`);
  const [path, qs] = r.url.replace(/^\//, '').split('?', 2);
  let body: unknown = entry.resource;
  let bodyKind: FhirRequest['bodyKind'] = 'resource';
  if (method === 'PATCH' && entry.resource?.resourceType === 'Binary') {
    // JSON Patch travels as a Binary in bundles (FHIR http.html#patch).
    const data = (entry.resource as { data?: string }).data;
    body = data ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : undefined;
    bodyKind = 'json-patch';
  }
  return {
    method,
    path,
    query: qs ? parseQueryString(qs) : [],
    headers: { ifMatch: r.ifMatch, ifNoneExist: r.ifNoneExist, ifNoneMatch: r.ifNoneMatch, ifModifiedSince: r.ifModifiedSince },
    body,
    bodyKind,
  };
}

function toEntry(res: FhirResponse): BundleEntry {
  const response: NonNullable<BundleEntry['response']> = { status: String(res.status) };
  if (res.headers.Location) response.location = res.headers.Location;
  if (res.headers.ETag) response.etag = res.headers.ETag;
  if (res.headers['Last-Modified']) response.lastModified = new Date(res.headers['Last-Modified']).toISOString();
  const entry: BundleEntry = { response };
  const body = res.body === undefined ? undefined : isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
  if (body?.resourceType === 'OperationOutcome' && res.status >= 300) response.outcome = body;
  else if (body) entry.resource = body;
  return entry;
}

function errorEntry(e: unknown): BundleEntry {
  const err = e instanceof FhirError ? e : FhirError.of(500, 'exception', (e as Error).message);
  return { response: { status: String(err.status), outcome: err.toOperationOutcome() } };
}

/** Walks a resource and rewrites every Reference.reference (and attachment/uri values) found in the map. */
function rewriteReferences(node: unknown, map: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (const n of node) rewriteReferences(n, map);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'reference' && typeof v === 'string') {
      const hit = map.get(v);
      if (hit) obj[k] = hit;
    } else if (typeof v === 'object') rewriteReferences(v, map);
  }
}

function collectConditionalReferences(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) return node.forEach((n) => collectConditionalReferences(n, out));
  if (typeof node !== 'object' || node === null) return;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'reference' && typeof v === 'string' && /^[A-Z][A-Za-z]+\?/.test(v)) out.add(v);
    else if (typeof v === 'object') collectConditionalReferences(v, out);
  }
}

export async function processBundle(deps: ServerDeps, scope: RequestScope, body: unknown, dispatch: Dispatch, prefer?: string): Promise<FhirResponse> {
  const bundle = body as Bundle;
  if (bundle?.resourceType !== 'Bundle') throw badRequest('POST to the base needs a Bundle', 'resourceType');
  if (bundle.type === 'batch') return batch(deps, scope, bundle, dispatch);
  if (bundle.type === 'transaction') return transaction(deps, scope, bundle, dispatch, prefer);
  throw badRequest(`Bundle.type must be batch or transaction, not '${bundle.type}'`, 'Bundle.type');
}

async function batch(deps: ServerDeps, scope: RequestScope, bundle: Bundle, dispatch: Dispatch): Promise<FhirResponse> {
  const entries: BundleEntry[] = [];
  for (const [i, entry] of (bundle.entry ?? []).entries()) {
    try {
      entries.push(toEntry(await dispatch(scope, entryRequest(entry, i))));
    } catch (e) {
      entries.push(errorEntry(e));
    }
  }
  const out: Bundle = { resourceType: 'Bundle', id: randomUUID(), type: 'batch-response', entry: entries };
  return { status: 200, headers: {}, body: out };
}

async function transaction(deps: ServerDeps, scope: RequestScope, bundle: Bundle, dispatch: Dispatch, prefer?: string): Promise<FhirResponse> {
  const list = bundle.entry ?? [];
  const requests = list.map((e, i) => entryRequest(e, i));
  // Propagate the outer Prefer header (e.g. return=minimal for bulk loads) to every entry.
  for (const r of requests) r.headers.prefer = prefer;

  // 1. Server ids for every POST; urn:uuid / fullUrl → Type/id.
  const refMap = new Map<string, string>();
  const postIds = new Map<number, string>();
  requests.forEach((r, i) => {
    if (r.method === 'POST' && !r.path.includes('/') && !r.path.startsWith('$')) {
      const id = randomUUID();
      postIds.set(i, id);
      const full = list[i].fullUrl;
      if (full) refMap.set(full, `${r.path}/${id}`);
    } else if ((r.method === 'PUT' || r.method === 'PATCH') && /^[A-Za-z]+\/[^/]+$/.test(r.path)) {
      const full = list[i].fullUrl;
      if (full?.startsWith('urn:')) refMap.set(full, r.path);
    }
  });

  const responses: (BundleEntry | undefined)[] = new Array(list.length);
  const order = requests.map((_, i) => i).sort((a, b) => ORDER[requests[a].method] - ORDER[requests[b].method] || a - b);

  try {
    await deps.store.transaction((trx) => planAndCommit(deps, scope, { trx }, { list, requests, order, postIds, refMap, responses }));
  } catch (e) {
    throw asConflict(e);
  }

  // 4. Reads after the writes (outside the write transaction, which is committed by now).
  for (const i of order) {
    const r = requests[i];
    if (r.method !== 'GET' && r.method !== 'HEAD') continue;
    try {
      responses[i] = toEntry(await dispatch(scope, r));
    } catch (e) {
      responses[i] = errorEntry(e);
    }
  }
  const out: Bundle = { resourceType: 'Bundle', id: randomUUID(), type: 'transaction-response', entry: responses.map((e) => e ?? {}) };
  return { status: 200, headers: {}, body: out };
}

/** A transaction bundle being processed: its entries, their requests, processing order and results. */
interface TransactionWork {
  list: BundleEntry[];
  requests: FhirRequest[];
  /** Entry indexes in processing order (DELETE, POST, PUT/PATCH, GET). */
  order: number[];
  /** Server-assigned ids of POST entries. */
  postIds: Map<number, string>;
  /** fullUrl / conditional reference → Type/id. */
  refMap: Map<string, string>;
  responses: (BundleEntry | undefined)[];
}

/** Steps 2 and 3 of a transaction, inside its database transaction. */
async function planAndCommit(deps: ServerDeps, scope: RequestScope, ws: WriteScope, work: TransactionWork): Promise<void> {
  const { list, requests, order, postIds, refMap, responses } = work;
  const trx = ws.trx;
  // 2. Conditional references, resolved against the state before this transaction.
  const conditional = new Set<string>();
  for (const e of list) if (e.resource) collectConditionalReferences(e.resource, conditional);
  for (const ref of conditional) {
    const [type, qs] = ref.split('?', 2);
    const req = parseSearchRequest(type, parseQueryString(qs), { strict: true });
    const res = await executeSearch({ db: trx, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment }, type, { ...req, count: 2, total: 'none' });
    if (res.matches.length !== 1) {
      throw FhirError.of(412, 'conflict', `Conditional reference '${ref}' matched ${res.matches.length} resources; it must match exactly one`);
    }
    refMap.set(ref, `${type}/${res.matches[0].id}`);
  }
  for (const r of requests) if (r.body) rewriteReferences(r.body, refMap);
  // Conditional request URLs may contain urn:uuid values too.
  for (const r of requests) r.query = r.query.map(([k, v]) => [k, refMap.get(v) ?? v]);

  // 3. Plan every write, then commit them together.
  const plans: { index: number; plan: Plan }[] = [];
  const touched = new Set<string>();
  for (const i of order) {
    const r = requests[i];
    if (r.method === 'GET' || r.method === 'HEAD') continue;
    try {
      const plan = await planFor(deps, scope, ws, r, postIds.get(i));
      if ('write' in plan) {
        const key = `${plan.write.type}/${plan.write.id}`;
        if (touched.has(key)) throw badRequest(`The transaction touches ${key} more than once`, `Bundle.entry[${i}]`);
        touched.add(key);
      }
      plans.push({ index: i, plan });
    } catch (e) {
      throw withEntry(e, i);
    }
  }
  const writes = plans.flatMap((p) => ('write' in p.plan ? [p.plan.write] : []));
  const committed = await deps.store.commit(trx, scope.tenant, writes);
  let c = 0;
  for (const p of plans) {
    const res = 'write' in p.plan ? p.plan.respond(committed[c++]) : p.plan.response;
    responses[p.index] = toEntry(res);
  }
}

function withEntry(e: unknown, index: number): unknown {
  if (!(e instanceof FhirError)) return e;
  return new FhirError(
    e.status,
    e.issues.map((i) => ({ ...i, diagnostics: `Bundle.entry[${index}]: ${i.diagnostics}`, expression: i.expression?.map((x) => `Bundle.entry[${index}].resource.${x.replace(/^[A-Z][A-Za-z]+\./, '')}`) ?? [`Bundle.entry[${index}]`] })),
  );
}
