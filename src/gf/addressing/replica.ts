/**
 * Query side of the local replica (mCSD Query Client against the node's own `local-directory` tenant):
 * gathers what endpoint choice needs for one organisation — the Organization by URA, its parents, and their
 * Endpoints — with ordinary FHIR searches through `dispatch`, then decides with the pure `chooseEndpoint`.
 */
import type { Bundle, Endpoint, Organization, Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.ts';
import type { RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import { LOCAL_DIRECTORY_TENANT, URA_SYSTEMS } from './constants.ts';
import type { Dispatch } from './directory.ts';
import { chooseEndpoint, type DirectoryView, type EndpointChoice, type EndpointNeed } from './endpoint-choice.ts';

const MAX_LEVELS = 5;

async function searchAll<T extends Resource>(dispatch: Dispatch, scope: RequestScope, type: string, query: [string, string][]): Promise<T[]> {
  const res = await dispatch(scope, { method: 'GET', path: type, query: [...query, ['_count', '1000']], headers: {} });
  const bundle = (res.body === undefined ? undefined : isRaw(res.body) ? JSON.parse(res.body.raw) : res.body) as Bundle | undefined;
  return (bundle?.entry ?? []).filter((e) => e.resource?.resourceType === type && e.search?.mode !== 'include').map((e) => e.resource as T);
}

/** The organisation (by URA), its ancestors and all their endpoints, from the replica. */
export async function replicaView(dispatch: Dispatch, ura: string, tenant = LOCAL_DIRECTORY_TENANT): Promise<DirectoryView> {
  const scope: RequestScope = { tenant, base: `urn:schakel:${tenant}`, strict: false };
  const organizations: Organization[] = [];
  for (const system of URA_SYSTEMS) organizations.push(...(await searchAll<Organization>(dispatch, scope, 'Organization', [['identifier', `${system}|${ura}`]])));
  const seen = new Set(organizations.map((o) => o.id));
  // Parents, level by level.
  let frontier = organizations.slice();
  for (let level = 0; level < MAX_LEVELS && frontier.length > 0; level++) {
    const parentIds = frontier.map((o) => /(?:^|\/)Organization\/([^/]+)$/.exec(o.partOf?.reference ?? '')?.[1]).filter((id): id is string => !!id && !seen.has(id));
    if (parentIds.length === 0) break;
    frontier = await searchAll<Organization>(dispatch, scope, 'Organization', [['_id', parentIds.join(',')]]);
    for (const o of frontier) seen.add(o.id);
    organizations.push(...frontier);
  }
  const endpoints = new Map<string, Endpoint>();
  const listed = organizations.flatMap((o) => (o.endpoint ?? []).map((r) => /(?:^|\/)Endpoint\/([^/]+)$/.exec(r.reference ?? '')?.[1]).filter((id): id is string => !!id));
  if (listed.length > 0) for (const e of await searchAll<Endpoint>(dispatch, scope, 'Endpoint', [['_id', [...new Set(listed)].join(',')]])) endpoints.set(e.id!, e);
  const orgIds = organizations.map((o) => o.id).filter((id): id is string => !!id);
  if (orgIds.length > 0) {
    for (const e of await searchAll<Endpoint>(dispatch, scope, 'Endpoint', [['organization', orgIds.map((id) => `Organization/${id}`).join(',')]])) endpoints.set(e.id!, e);
  }
  return { organizations, endpoints: [...endpoints.values()] };
}

/** Picks the endpoint to call at organisation `ura` for `need`, from the node's replica of the directory. */
export async function findEndpoint(dispatch: Dispatch, ura: string, need: EndpointNeed, tenant = LOCAL_DIRECTORY_TENANT): Promise<EndpointChoice> {
  try {
    return chooseEndpoint(await replicaView(dispatch, ura, tenant), { ura }, need);
  } catch (e) {
    if (e instanceof FhirError && e.status === 404) return { considered: [], reason: 'The local directory replica is empty' };
    throw e;
  }
}
