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
  const count = query.find(([k]) => k === '_count')?.[1];
  if (count !== undefined && !/^\d+$/.test(count)) throw badRequest(`_count '${count}' is not a non-negative integer`, '_count');
  const rows = await patientEverything({ db: deps.engine.db, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment }, id, {
    since,
    types,
  });
  const req = parseSearchRequest('Patient', [], { strict: false });
  const applied: [string, string][] = query.filter(([k]) => ['_since', '_type', '_count'].includes(k));
  const raw = searchBundle(scope, 'Patient', { ...req, selfParams: applied }, { matches: rows, includes: [], total: rows.length }, `Patient/${id}/$everything`);
  return { status: 200, headers: {}, body: { raw } };
}

export async function lastnOperation(deps: ServerDeps, scope: RequestScope, query: [string, string][]): Promise<FhirResponse> {
  const maxParam = query.find(([k]) => k === 'max')?.[1];
  const max = maxParam === undefined ? 1 : Number(maxParam);
  if (!Number.isInteger(max) || max < 1) throw badRequest(`max '${maxParam}' must be a positive integer`, 'max');
  const req = parseSearchRequest('Observation', query.filter(([k]) => k !== 'max' && k !== '_format'), { strict: scope.strict });
  const result = await observationLastN({ db: deps.engine.db, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment }, req, max);
  const selfParams: [string, string][] = [...req.selfParams, ...(maxParam ? [['max', maxParam] as [string, string]] : [])];
  const raw = searchBundle(scope, 'Observation', { ...req, selfParams }, result, 'Observation/$lastn');
  return { status: 200, headers: {}, body: { raw } };
}
