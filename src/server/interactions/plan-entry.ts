/** Maps a write request (single or a bundle entry) to its plan. */
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import { executeSearch } from '../../search/execute.ts';
import { parseSearchRequest } from '../../search/parse.ts';
import type { ServerDeps, WriteScope } from '../context.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../types.ts';
import {
  type Plan,
  checkId,
  planConditionalDelete,
  planConditionalUpdate,
  planCreate,
  planDelete,
  planPatch,
  planUpdate,
  requireType,
} from './write.ts';

export type Dispatch = (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;

export async function planFor(deps: ServerDeps, scope: RequestScope, ws: WriteScope, req: FhirRequest, assignedId?: string): Promise<Plan> {
  const parts = req.path.split('/').filter(Boolean);
  const [type, id, ...rest] = parts;
  if (!type) throw FhirError.of(405, 'not-supported', `${req.method} is not allowed on the base`);
  requireType(type);
  if (rest.length > 0) throw FhirError.of(405, 'not-supported', `${req.method} is not allowed on ${req.path}`);
  if (id !== undefined) checkId(id, `${type}.id`);
  switch (req.method) {
    case 'POST':
      if (id !== undefined) throw FhirError.of(405, 'not-supported', `POST is not allowed on ${type}/${id}; use PUT to update`);
      return planCreate(deps, scope, ws, type, req, assignedId);
    case 'PUT':
      return id === undefined ? planConditionalUpdate(deps, scope, ws, type, req.query, req) : planUpdate(deps, scope, ws, type, id, req);
    case 'DELETE':
      return id === undefined ? planConditionalDelete(deps, scope, ws, type, req.query, req) : planDelete(deps, scope, ws, type, id, req);
    case 'PATCH':
      if (id === undefined) {
        const target = await conditionalTarget(deps, scope, ws, type, req);
        return planPatch(deps, scope, ws, type, target, req);
      }
      return planPatch(deps, scope, ws, type, id, req);
    default:
      throw badRequest(`${req.method} is not a write`);
  }
}

async function conditionalTarget(deps: ServerDeps, scope: RequestScope, ws: WriteScope, type: string, req: FhirRequest): Promise<string> {
  if (req.query.length === 0) throw badRequest('A conditional patch needs search parameters');
  const sreq = parseSearchRequest(type, req.query, { strict: true });
  const res = await executeSearch({ db: ws.trx, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment }, type, { ...sreq, count: 2, total: 'none' });
  if (res.matches.length === 0) throw FhirError.of(404, 'not-found', `No ${type} matched the conditional patch`);
  if (res.matches.length > 1) throw FhirError.of(412, 'conflict', `The conditional patch matched ${res.matches.length} ${type} resources`);
  return res.matches[0].id;
}
