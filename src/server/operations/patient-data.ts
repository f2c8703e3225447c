/** Patient/$everything and Observation/$lastn, answered as searchset Bundles. */
import { badRequest } from '../../fhir/outcome.ts';
import { patientEverything } from '../../search/everything.ts';
import { observationLastN } from '../../search/lastn.ts';
import { parseSearchRequest } from '../../search/parse.ts';
import type { ServerDeps } from '../context.ts';
import { searchBundle } from '../interactions/search.ts';
import type { FhirResponse, RequestScope } from '../types.ts';

export async function everythingOperation(deps: ServerDeps, scope: RequestScope, id: string, query: [string, string][]): Promise<FhirResponse> {
  const since = query.find(([k]) => k === '_since')?.[1];
  const types = query.find(([k]) => k === '_type')?.[1]?.split(',');
  const countParam = query.find(([k]) => k === '_count')?.[1];
  if (countParam !== undefined && !/^\d+$/.test(countParam)) throw badRequest(`_count '${countParam}' is not a non-negative integer`, '_count');
  const cursorParam = query.find(([k]) => k === '_cursor')?.[1];
  const result = await patientEverything({ db: deps.engine.db, dialect: deps.engine.dialect, tenant: scope.tenant }, id, {
    since,
    types,
    count: countParam === undefined ? undefined : Number(countParam),
    cursor: cursorParam,
  });
  const req = parseSearchRequest('Patient', [], { strict: false });
  const applied: [string, string][] = query.filter(([k]) => ['_since', '_type', '_count'].includes(k));
  const raw = searchBundle(scope, 'Patient', { ...req, applied }, result, `Patient/${id}/$everything`);
  return { status: 200, headers: {}, body: { raw } };
}

export async function lastnOperation(deps: ServerDeps, scope: RequestScope, query: [string, string][]): Promise<FhirResponse> {
  const maxParam = query.find(([k]) => k === 'max')?.[1];
  const max = maxParam === undefined ? 1 : Number(maxParam);
  if (!Number.isInteger(max) || max < 1) throw badRequest(`max '${maxParam}' must be a positive integer`, 'max');
  const req = parseSearchRequest('Observation', query.filter(([k]) => k !== 'max' && k !== '_format'), { strict: scope.strict });
  const result = await observationLastN({ db: deps.engine.db, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment }, req, max);
  const selfParams: [string, string][] = [...req.applied, ...(maxParam ? [['max', maxParam] as [string, string]] : [])];
  const raw = searchBundle(scope, 'Observation', { ...req, applied: selfParams }, result, 'Observation/$lastn');
  return { status: 200, headers: {}, body: { raw } };
}
