/**
 * create, update (also update-as-create), conditional create/update/delete, delete and patch.
 *
 * Each interaction is *planned* first — checks, conditional look-ups, the new resource — and committed
 * afterwards. A single request commits its one plan in its own transaction; a transaction bundle plans
 * every entry inside one database transaction and commits them together (all or nothing).
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { FhirError, badRequest, gone, notFound, operationOutcome, preconditionFailed } from '../../fhir/outcome.ts';
import { isResourceType } from '../../fhir/definitions/model.ts';
import { applyPatch } from '../../fhir/patch/apply.ts';
import { executeSearch } from '../../search/execute.ts';
import { parseSearchRequest } from '../../search/parse.ts';
import type { CommittedWrite, PlannedWrite } from '../../storage/resource-store.ts';
import type { ServerDeps, WriteScope } from '../context.ts';
import { parseEtag, versionHeaders } from '../http-dates.ts';
import { parsePrefer } from '../prefer.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../types.ts';

/** Either a write with a way to answer once it is committed, or an answer without a write. */
export type Plan =
  | { write: PlannedWrite; respond: (c: CommittedWrite) => FhirResponse }
  | { response: FhirResponse };

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function checkId(id: string, expression: string): void {
  if (!ID.test(id)) throw badRequest(`'${id}' is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)`, expression);
}

function asResource(body: unknown, type: string): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a FHIR resource');
  const r = body as Resource;
  if (typeof r.resourceType !== 'string') throw badRequest('The resource has no resourceType', 'resourceType');
  if (r.resourceType !== type) {
    throw badRequest(`The body is a ${r.resourceType} but the URL names ${type}`, 'resourceType');
  }
  return r;
}

export function validateForWrite(deps: ServerDeps, scope: RequestScope, resource: Resource): void {
  const isError = (i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal';
  // Basic R4 rules broken: 400 (FHIR http.html "failed basic FHIR validation rules").
  const core = deps.validate(resource, {}).filter(isError);
  if (core.length > 0) throw new FhirError(400, core);
  // Profile rules of a tenant that opted in: 422 (http.html "violated applicable FHIR profiles").
  if (deps.tenants.get(scope.tenant)?.settings.validateProfilesOnWrite) {
    const profile = deps.validate(resource, { profiles: 'declared' }).filter(isError);
    if (profile.length > 0) throw new FhirError(422, profile);
  }
}

/** The response body per Prefer: return=representation (default), minimal or OperationOutcome. */
export function preferredBody(prefer: string | undefined, resource: Resource | null, message: string): FhirResponse['body'] {
  const p = parsePrefer(prefer).return ?? 'representation';
  if (p === 'minimal') return undefined;
  if (p === 'OperationOutcome' || resource === null) {
    return operationOutcome([{ severity: 'information', code: 'informational', diagnostics: message }]);
  }
  return resource;
}

function written(scope: RequestScope, req: FhirRequest, c: CommittedWrite, created: boolean, verb: string): FhirResponse {
  return {
    status: created ? 201 : 200,
    headers: versionHeaders(scope.base, c.type, c.id, c.versionId, c.lastUpdated),
    body: preferredBody(req.headers.prefer, c.resource, `${verb} ${c.type}/${c.id} as version ${c.versionId}`),
  };
}

async function findMatches(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, query: [string, string][]): Promise<{ id: string; content: string }[]> {
  if (query.length === 0) throw badRequest(`A conditional ${type} interaction needs search parameters`);
  const req = parseSearchRequest(type, query, { strict: true });
  const res = await executeSearch(
    { db: ws.trx, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment },
    type,
    { ...req, count: 2, total: 'none' },
  );
  return res.matches;
}

export function parseQueryString(q: string): [string, string][] {
  return [...new URLSearchParams(q.startsWith('?') ? q.slice(1) : q).entries()];
}

export async function planCreate(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, req: FhirRequest, id: string = randomUUID()): Promise<Plan> {
  const resource = asResource(req.body, type);
  if (req.headers.ifNoneExist) {
    const matches = await findMatches(deps, scope, ws, type, parseQueryString(req.headers.ifNoneExist));
    if (matches.length > 1) throw preconditionFailed(`If-None-Exist matched ${matches.length} ${type} resources`);
    if (matches.length === 1) {
      const existing = JSON.parse(matches[0].content) as Resource;
      const v = Number(existing.meta?.versionId ?? 1);
      return {
        response: {
          status: 200,
          headers: versionHeaders(scope.base, type, matches[0].id, v, existing.meta?.lastUpdated ?? new Date().toISOString()),
          body: preferredBody(req.headers.prefer, existing, `${type}/${matches[0].id} exists already; nothing created`),
        },
      };
    }
  }
  // A client id in a POST body is ignored (FHIR http.html#create): the server assigns the id.
  const copy = { ...resource, id } as Resource;
  validateForWrite(deps, scope, copy);
  return {
    write: { type, id, resource: copy, method: 'POST', isNew: true },
    respond: (c) => written(scope, req, c, true, 'Created'),
  };
}

export async function planUpdate(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, id: string, req: FhirRequest): Promise<Plan> {
  const resource = asResource(req.body, type);
  checkId(id, 'id');
  if (resource.id === undefined) throw badRequest(`An update needs the id in the body (expected '${id}')`, `${type}.id`);
  if (resource.id !== id) throw badRequest(`The body id '${resource.id}' differs from the URL id '${id}'`, `${type}.id`);
  validateForWrite(deps, scope, resource);
  const expectVersion = parseEtag(req.headers.ifMatch);
  if (Number.isNaN(expectVersion)) throw badRequest(`If-Match '${req.headers.ifMatch}' is not an ETag like W/"3"`);
  return {
    write: { type, id, resource, method: 'PUT', expectVersion },
    respond: (c) => written(scope, req, c, !c.existed, c.existed ? 'Updated' : 'Created'),
  };
}

export async function planConditionalUpdate(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, query: [string, string][], req: FhirRequest): Promise<Plan> {
  const resource = asResource(req.body, type);
  const matches = await findMatches(deps, scope, ws, type, query);
  if (matches.length > 1) throw preconditionFailed(`The conditional update matched ${matches.length} ${type} resources`);
  if (matches.length === 1) {
    if (resource.id !== undefined && resource.id !== matches[0].id) {
      throw badRequest(`The body id '${resource.id}' differs from the matched resource ${type}/${matches[0].id}`, `${type}.id`);
    }
    return planUpdate(deps, scope, ws, type, matches[0].id, { ...req, body: { ...resource, id: matches[0].id } });
  }
  if (resource.id !== undefined) {
    checkId(resource.id, `${type}.id`);
    return planUpdate(deps, scope, ws, type, resource.id, req);
  }
  return planCreate(deps, scope, ws, type, { ...req, headers: { ...req.headers, ifNoneExist: undefined } });
}

export async function planDelete(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, id: string, req: FhirRequest): Promise<Plan> {
  const current = await deps.store.readCurrent(scope.tenant, type, id, ws.trx);
  if (!current) throw notFound(`${type}/${id} is not known`);
  const expectVersion = parseEtag(req.headers.ifMatch);
  if (Number.isNaN(expectVersion)) throw badRequest(`If-Match '${req.headers.ifMatch}' is not an ETag like W/"3"`);
  return {
    write: { type, id, resource: null, method: 'DELETE', expectVersion },
    respond: (c) => ({
      status: 200,
      headers: c.noop ? {} : ({ ETag: `W/"${c.versionId}"` } as Record<string, string>),
      body: operationOutcome([
        { severity: 'information', code: 'informational', diagnostics: c.noop ? `${type}/${id} was already deleted` : `Deleted ${type}/${id}` },
      ]),
    }),
  };
}

export async function planConditionalDelete(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, query: [string, string][], req: FhirRequest): Promise<Plan> {
  const matches = await findMatches(deps, scope, ws, type, query);
  if (matches.length > 1) throw preconditionFailed(`The conditional delete matched ${matches.length} ${type} resources; refine the criteria`);
  if (matches.length === 0) {
    return { response: { status: 200, headers: {}, body: operationOutcome([{ severity: 'information', code: 'not-found', diagnostics: `No ${type} matched; nothing deleted` }]) } };
  }
  return planDelete(deps, scope, ws, type, matches[0].id, req);
}

export async function planPatch(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, id: string, req: FhirRequest): Promise<Plan> {
  const current = await deps.store.readCurrent(scope.tenant, type, id, ws.trx);
  if (!current) throw notFound(`${type}/${id} is not known`);
  if (current.deleted) throw gone(`${type}/${id} was deleted`);
  const expectVersion = parseEtag(req.headers.ifMatch);
  if (Number.isNaN(expectVersion)) throw badRequest(`If-Match '${req.headers.ifMatch}' is not an ETag like W/"3"`);
  if (expectVersion !== undefined && expectVersion !== current.versionId) {
    throw preconditionFailed(`Version conflict on ${type}/${id}: If-Match expects ${expectVersion}, current is ${current.versionId}`);
  }
  const patched = applyPatch(JSON.parse(current.content) as Resource, req.body, req.bodyKind === 'json-patch' ? 'json-patch' : 'fhirpath-patch');
  if (patched.resourceType !== type || patched.id !== id) throw badRequest('A patch may not change resourceType or id');
  validateForWrite(deps, scope, patched);
  return {
    write: { type, id, resource: patched, method: 'PATCH', expectVersion: current.versionId },
    respond: (c) => written(scope, req, c, false, 'Patched'),
  };
}

/** Commits one plan in its own transaction (single interactions outside bundles). */
export async function runSingle(deps: ServerDeps, scope: RequestScope, plan: (ws: WriteScope) => Promise<Plan>): Promise<FhirResponse> {
  try {
    return await deps.store.transaction(async (trx) => {
      const p = await plan({ trx });
      if ('response' in p) return p.response;
      const [c] = await deps.store.commit(trx, scope.tenant, [p.write]);
      return p.respond(c);
    });
  } catch (e) {
    throw asConflict(e);
  }
}

/**
 * Two writers racing for the same new version (PostgreSQL unique violation 23505, SQLite
 * SQLITE_CONSTRAINT_PRIMARYKEY) is a conflict the client may retry: 409, not a server error.
 */
export function asConflict(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '40001' || code === '40P01') {
    return FhirError.of(409, 'conflict', 'A concurrent write changed this resource; retry the request');
  }
  return e;
}

export function requireType(type: string): void {
  if (!isResourceType(type)) throw FhirError.of(404, 'not-supported', `'${type}' is not a FHIR R4 resource type`);
}
