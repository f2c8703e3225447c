/**
 * The FHIR face of bulk data, reached through the dispatcher (src/server/dispatch.ts):
 *
 *   GET|POST [base]/$export, [base]/Patient/$export, [base]/Group/[id]/$export   kick-off (Bulk Data IG v2)
 *   POST     [base]/$import                                                     kick-off of an NDJSON import
 *   GET      [base]/$bulk-status/[job]     202 + X-Progress/Retry-After while running, then 200 + manifest
 *   DELETE   [base]/$bulk-status/[job]     cancel, or delete a finished job and its files (202)
 *
 * Output files are served by the Fastify plugin in routes.ts at [base]/$bulk-file/[job]/[file] (streamed).
 */
import type { Parameters, ParametersParameter } from 'fhir/r4';
import { FhirError, badRequest, notFound, operationOutcome } from '../fhir/outcome.ts';
import { isResourceType } from '../fhir/definitions/model.ts';
import { parseSearchRequest } from '../search/parse.ts';
import type { ServerDeps } from '../server/context.ts';
import { parsePrefer } from '../server/prefer.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../server/types.ts';
import { patientLevelTypes, type ExportParams } from './export.ts';
import { bulkService, type ImportParams, type JobView } from './jobs.ts';

export type BulkRoute =
  | { op: 'export'; level: 'system' | 'patient' | 'group'; groupId?: string }
  | { op: 'import' }
  | { op: 'status'; job: string };

/** Which bulk request a path (split below the tenant base) is, if any. */
export function matchBulkRequest(parts: string[]): BulkRoute | undefined {
  const [a, b, c] = parts;
  if (parts.length === 1 && a === '$export') return { op: 'export', level: 'system' };
  if (parts.length === 1 && a === '$import') return { op: 'import' };
  if (parts.length === 2 && a === '$bulk-status') return { op: 'status', job: b };
  if (parts.length === 2 && a === 'Patient' && b === '$export') return { op: 'export', level: 'patient' };
  if (parts.length === 3 && a === 'Group' && c === '$export') return { op: 'export', level: 'group', groupId: b };
  return undefined;
}

const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
/** Search parameters that shape results rather than select them have no place in a _typeFilter. */
const RESULT_PARAMS = new Set(['_include', '_revinclude', '_sort', '_count', '_total', '_summary', '_elements', '_contained', '_containedType']);

export async function bulkOperation(deps: ServerDeps, scope: RequestScope, req: FhirRequest, route: BulkRoute): Promise<FhirResponse> {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (scope.compartment) throw FhirError.of(403, 'forbidden', 'Bulk data operations are not available in a patient context');
  if (route.op === 'status') {
    if (method === 'GET') return status(deps, scope, route.job);
    if (method === 'DELETE') return cancel(deps, scope, route.job);
    throw FhirError.of(405, 'not-supported', `${method} is not allowed on a bulk job status`);
  }
  if (route.op === 'export') {
    if (method !== 'GET' && method !== 'POST') throw FhirError.of(405, 'not-supported', `${method} is not allowed on $export`);
    requireAsync(req, '$export');
    const params = await exportParams(deps, scope, req, route);
    const svc = await bulkService(deps);
    const job = await svc.submit(scope.tenant, 'export', requestUrl(scope, req), params);
    return accepted(scope, job, 'export');
  }
  if (method !== 'POST') throw FhirError.of(405, 'not-supported', `${method} is not allowed on $import; POST a Parameters resource`);
  requireAsync(req, '$import');
  const svc = await bulkService(deps);
  const params = importParams(req.body);
  for (const input of params.inputs) {
    const problem = svc.checkInput(input.url);
    if (problem) throw badRequest(problem, 'Parameters.parameter.part');
  }
  const job = await svc.submit(scope.tenant, 'import', requestUrl(scope, req), params);
  return accepted(scope, job, 'import');
}

function requireAsync(req: FhirRequest, op: string): void {
  if (parsePrefer(req.headers.prefer).respondAsync !== true) {
    throw FhirError.of(400, 'invalid', `${op} is asynchronous: send the header 'Prefer: respond-async'`, 'Prefer');
  }
}

function requestUrl(scope: RequestScope, req: FhirRequest): string {
  const q = new URLSearchParams(req.query).toString();
  return `${scope.base}/${req.path}${q ? `?${q}` : ''}`;
}

function accepted(scope: RequestScope, job: JobView, what: string): FhirResponse {
  return {
    status: 202,
    headers: { 'Content-Location': `${scope.base}/$bulk-status/${job.id}` },
    body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `Bulk ${what} job ${job.id} accepted; poll the Content-Location for its status` }]),
  };
}

/** Kick-off parameters: from the query string (GET) or a Parameters body (POST). */
function kickoffParams(req: FhirRequest): [string, string][] {
  const out = [...req.query];
  if (req.method === 'POST' && req.body !== undefined) {
    const p = req.body as Parameters;
    if (p.resourceType !== 'Parameters') throw badRequest('The $export body must be a Parameters resource', 'resourceType');
    for (const param of p.parameter ?? []) {
      const v = primitiveOf(param);
      if (v !== undefined) out.push([param.name, v]);
    }
  }
  return out.filter(([k]) => k !== '_format');
}

function primitiveOf(p: ParametersParameter): string | undefined {
  for (const [k, v] of Object.entries(p)) if (k.startsWith('value') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) return String(v);
  return undefined;
}

async function exportParams(deps: ServerDeps, scope: RequestScope, req: FhirRequest, route: Extract<BulkRoute, { op: 'export' }>): Promise<ExportParams> {
  const params: ExportParams = { level: route.level, groupId: route.groupId, typeFilters: {} };
  const strict = parsePrefer(req.headers.prefer).handling === 'strict';
  const filters: string[] = [];
  for (const [name, value] of kickoffParams(req)) {
    if (name === '_outputFormat') {
      if (!NDJSON_FORMATS.has(value)) throw badRequest(`_outputFormat '${value}' is not supported; use application/fhir+ndjson`, '_outputFormat');
    } else if (name === '_type') {
      const types = value.split(',').map((t) => t.trim()).filter(Boolean);
      for (const t of types) if (!isResourceType(t)) throw badRequest(`_type: '${t}' is not a resource type`, '_type');
      params.types = [...new Set([...(params.types ?? []), ...types])];
    } else if (name === '_since') {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
        throw badRequest(`_since '${value}' is not a FHIR instant (e.g. 2025-01-31T12:00:00Z)`, '_since');
      }
      params.since = new Date(value).toISOString();
    } else if (name === '_typeFilter') {
      filters.push(...splitTypeFilter(value));
    } else if (strict) {
      throw badRequest(`Parameter '${name}' is not supported by $export`, name);
    }
  }
  if (route.level !== 'system' && params.types) {
    const allowed = patientLevelTypes();
    const outside = params.types.filter((t) => !allowed.has(t));
    if (outside.length > 0 && strict) throw badRequest(`_type: ${outside.join(', ')} not in the Patient compartment`, '_type');
  }
  for (const f of filters) {
    const q = f.indexOf('?');
    const type = q === -1 ? f : f.slice(0, q);
    if (!isResourceType(type) || q === -1) throw badRequest(`_typeFilter '${f}' is not of the form ResourceType?search-parameters`, '_typeFilter');
    const query = [...new URLSearchParams(f.slice(q + 1)).entries()];
    for (const [k] of query) if (RESULT_PARAMS.has(k.split(':')[0])) throw badRequest(`_typeFilter '${f}': ${k} is not allowed in a type filter`, '_typeFilter');
    try {
      parseSearchRequest(type, query, { strict: true });
    } catch (e) {
      if (e instanceof FhirError) throw badRequest(`_typeFilter '${f}': ${e.message}`, '_typeFilter');
      throw e;
    }
    if (params.types && !params.types.includes(type)) continue;
    (params.typeFilters[type] ??= []).push(f.slice(q + 1));
  }
  if (route.level === 'group') {
    const g = await deps.store.readCurrent(scope.tenant, 'Group', route.groupId!);
    if (!g || g.deleted) throw notFound(`Group/${route.groupId} is not known`);
  }
  return params;
}

/** `_typeFilter` values may hold several queries separated by commas; a comma starts a new query only before `Type?`. */
export function splitTypeFilter(value: string): string[] {
  return value
    .split(/,(?=[A-Z][A-Za-z]+\?)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function importParams(body: unknown): ImportParams {
  const p = body as Parameters | undefined;
  if (!p || p.resourceType !== 'Parameters') throw badRequest('$import needs a Parameters resource naming its inputs', 'resourceType');
  const inputs: ImportParams['inputs'] = [];
  for (const param of p.parameter ?? []) {
    if (param.name === 'inputFormat') {
      const v = primitiveOf(param) ?? '';
      if (!NDJSON_FORMATS.has(v)) throw badRequest(`inputFormat '${v}' is not supported; use application/fhir+ndjson`, 'Parameters.parameter.inputFormat');
    } else if (param.name === 'input') {
      const parts = param.part ?? [];
      const url = parts.find((x) => x.name === 'url');
      const type = parts.find((x) => x.name === 'type');
      const u = url ? primitiveOf(url) : undefined;
      if (!u) throw badRequest('Every $import input needs a url part', 'Parameters.parameter.input.part.url');
      const t = type ? primitiveOf(type) : undefined;
      if (t !== undefined && !isResourceType(t)) throw badRequest(`input type '${t}' is not a resource type`, 'Parameters.parameter.input.part.type');
      inputs.push({ url: u, type: t });
    }
  }
  if (inputs.length === 0) throw badRequest('$import needs at least one input', 'Parameters.parameter.input');
  return { inputs };
}

async function status(deps: ServerDeps, scope: RequestScope, id: string): Promise<FhirResponse> {
  const svc = await bulkService(deps);
  const job = await svc.get(scope.tenant, id);
  if (!job) throw notFound(`Bulk job ${id} is not known (it may have expired or been cancelled)`);
  if (job.status === 'queued' || job.status === 'running') {
    return { status: 202, headers: { 'X-Progress': job.progress || job.status, 'Retry-After': String(svc.config.retryAfterSeconds) } };
  }
  if (job.status === 'failed') {
    return { status: 500, headers: {}, body: operationOutcome([{ severity: 'error', code: 'exception', diagnostics: `Bulk ${job.kind} job failed: ${job.error ?? 'unknown error'}` }]) };
  }
  const result = job.result ?? { output: [], error: [] };
  const fileUrl = (file: string) => `${scope.base}/$bulk-file/${job.id}/${encodeURIComponent(file)}`;
  const manifest = {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: false,
    output: result.output.map((o) => (o.inputUrl !== undefined ? { type: o.type, inputUrl: o.inputUrl, count: o.count } : { type: o.type, url: fileUrl(o.file), count: o.count })),
    error: result.error.map((o) => ({ type: o.type, url: fileUrl(o.file), count: o.count })),
  };
  const headers: Record<string, string> = {};
  if (job.expires) headers.Expires = new Date(job.expires).toUTCString();
  return { status: 200, headers, body: { raw: JSON.stringify(manifest) } };
}

async function cancel(deps: ServerDeps, scope: RequestScope, id: string): Promise<FhirResponse> {
  const svc = await bulkService(deps);
  if (!(await svc.cancel(scope.tenant, id))) throw notFound(`Bulk job ${id} is not known (it may have expired or been cancelled)`);
  return {
    status: 202,
    headers: {},
    body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `Bulk job ${id} cancelled and its files deleted` }]),
  };
}
