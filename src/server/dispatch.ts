/**
 * Routes a FhirRequest to its interaction (FHIR http.html). One place answers "which URL does what",
 * for direct HTTP requests and for the entries of batch/transaction bundles alike.
 */
import type { Resource } from 'fhir/r4';
import { bulkOperation, matchBulkRequest } from '../bulk/operations.ts';
import { FhirError, badRequest } from '../fhir/outcome.ts';
import type { ServerDeps } from './context.ts';
import { processBundle } from './interactions/bundle.ts';
import { history } from './interactions/history.ts';
import { planFor } from './interactions/plan-entry.ts';
import { read, vread } from './interactions/read.ts';
import { search } from './interactions/search.ts';
import { checkId, requireType, runSingle } from './interactions/write.ts';
import { capabilityStatementJson } from './operations/capability.ts';
import { everythingOperation, lastnOperation } from './operations/patient-data.ts';
import { purgePatient } from './operations/purge.ts';
import { validateOperation } from './operations/validate.ts';
import { stripBsn } from './privacy.ts';
import type { FhirRequest, FhirResponse, RequestScope } from './types.ts';
import { isRaw } from './types.ts';

const notAllowed = (method: string, path: string) => FhirError.of(405, 'not-supported', `${method} is not allowed on '${path || '/'}'`);

export function createDispatcher(deps: ServerDeps) {
  const dispatch = async (scope: RequestScope, req: FhirRequest): Promise<FhirResponse> => {
    const res = await route(scope, req);
    // Patient-context answers never carry a BSN (MedMij).
    if (scope.compartment && res.body) {
      const body = isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
      res.body = stripBsn(body);
    }
    return res;
  };

  const route = async (scope: RequestScope, req: FhirRequest): Promise<FhirResponse> => {
    const parts = req.path.split('/').filter(Boolean);
    const m = req.method === 'HEAD' ? 'GET' : req.method;
    if (parts.length === 0) {
      if (m === 'POST') return processBundle(deps, scope, req.body, dispatch, req.headers.prefer);
      if (m === 'GET') return search(deps, scope, undefined, req.query);
      throw notAllowed(m, req.path);
    }
    const [first, second, third, fourth] = parts;
    // --- bulk data (src/bulk, owned by the bulk module): $export / $import kick-off, $bulk-status/{job} ---
    const bulk = matchBulkRequest(parts);
    if (bulk) return bulkOperation(deps, scope, req, bulk);
    // --- end bulk data ---
    if (first === 'metadata' && parts.length === 1) {
      if (m !== 'GET') throw notAllowed(m, req.path);
      return { status: 200, headers: {}, body: { raw: capabilityStatementJson(scope.base, { profileValidation: [] }) } };
    }
    if (first === '_history' && parts.length === 1) {
      if (m !== 'GET') throw notAllowed(m, req.path);
      return history(deps, scope, req.query);
    }
    if (first.startsWith('$')) throw FhirError.of(400, 'not-supported', `System operation ${first} is not supported`);
    const type = first;
    requireType(type);
    if (parts.length === 1) {
      if (m === 'GET') return search(deps, scope, type, req.query);
      if (m === 'POST' || m === 'PUT' || m === 'DELETE' || m === 'PATCH') return write(scope, req);
      throw notAllowed(m, req.path);
    }
    if (second === '_search' && parts.length === 2) {
      if (m !== 'POST') throw notAllowed(m, req.path);
      return search(deps, scope, type, req.query);
    }
    if (second === '_history' && parts.length === 2) {
      if (m !== 'GET') throw notAllowed(m, req.path);
      return history(deps, scope, req.query, type);
    }
    if (second.startsWith('$') && parts.length === 2) return typeOperation(scope, type, second, req);
    const id = second;
    checkId(id, `${type}.id`);
    if (parts.length === 2) {
      if (m === 'GET') return read(deps, scope, type, id, req.headers.ifNoneMatch, req.headers.ifModifiedSince);
      if (m === 'PUT' || m === 'DELETE' || m === 'PATCH') return write(scope, req);
      throw notAllowed(m, req.path);
    }
    if (third?.startsWith('$') && parts.length === 3) return instanceOperation(scope, type, id, third, req);
    if (third === '_history') {
      if (m !== 'GET') throw notAllowed(m, req.path);
      if (parts.length === 3) return history(deps, scope, req.query, type, id);
      if (parts.length === 4) return vread(deps, scope, type, id, fourth);
    }
    throw FhirError.of(404, 'not-found', `No FHIR interaction at '${req.path}'`);
  };

  const write = (scope: RequestScope, req: FhirRequest) => runSingle(deps, scope, (ws) => planFor(deps, scope, ws, req));

  const typeOperation = (scope: RequestScope, type: string, op: string, req: FhirRequest): Promise<FhirResponse> => {
    if (op === '$validate') {
      if (req.method !== 'POST') throw notAllowed(req.method, `${type}/${op}`);
      return validateOperation(deps, scope, type, undefined, req);
    }
    if (op === '$lastn' && type === 'Observation') return lastnOperation(deps, scope, req.query);
    if (op === '$everything' && type === 'Patient' && scope.compartment) {
      return everythingOperation(deps, scope, scope.compartment.id, req.query);
    }
    throw FhirError.of(400, 'not-supported', `Operation ${op} is not supported on ${type}`);
  };

  const instanceOperation = (scope: RequestScope, type: string, id: string, op: string, req: FhirRequest): Promise<FhirResponse> => {
    if (op === '$validate') return validateOperation(deps, scope, type, id, req);
    if (op === '$everything' && type === 'Patient') {
      if (scope.compartment && scope.compartment.id !== id) throw FhirError.of(404, 'not-found', `Patient/${id} is not known`);
      return everythingOperation(deps, scope, id, req.query);
    }
    if (op === '$purge' && type === 'Patient') {
      if (req.method !== 'POST') throw notAllowed(req.method, `${type}/${id}/${op}`);
      if (scope.compartment && scope.compartment.id !== id) throw FhirError.of(403, 'forbidden', 'A patient token may only purge its own patient');
      return purgePatient(deps, scope, id);
    }
    throw badRequest(`Operation ${op} is not supported on ${type}/${id}`);
  };

  return dispatch;
}
