/** read and vread: the stored JSON is answered as is (no parse) unless a filter applies. */
import { FhirError, gone, notFound } from '../../fhir/outcome.ts';
import type { ServerDeps } from '../context.ts';
import { etag, httpDate } from '../http-dates.ts';
import type { StoredVersion } from '../../storage/resource-store.ts';
import type { FhirResponse, RequestScope } from '../types.ts';
import { assertInCompartment } from '../compartment.ts';

export async function read(deps: ServerDeps, scope: RequestScope, type: string, id: string, ifNoneMatch?: string, ifModifiedSince?: string): Promise<FhirResponse> {
  let found = takeReadAhead(scope, type, id);
  if (!found) {
    found = await deps.store.readCurrent(scope.tenant, type, id);
    if (found) scope.readAhead?.set(`${type}/${id}`, found);
  }
  if (!found) throw notFound(`${type}/${id} is not known`);
  if (found.deleted) throw gone(`${type}/${id} was deleted (version ${found.versionId})`);
  await assertInCompartment(deps, scope, type, id, found.content);
  const headers = { ETag: etag(found.versionId), 'Last-Modified': httpDate(found.lastUpdated) };
  if (ifNoneMatch && ifNoneMatch.replace(/^W\//, '') === headers.ETag.replace(/^W\//, '')) {
    return { status: 304, headers };
  }
  if (ifModifiedSince) {
    const since = Date.parse(ifModifiedSince);
    // HTTP dates have second precision: compare at that precision.
    if (!Number.isNaN(since) && Math.floor(Date.parse(found.lastUpdated) / 1000) <= Math.floor(since / 1000)) return { status: 304, headers };
  }
  return { status: 200, headers, body: { raw: found.content } };
}

export async function vread(deps: ServerDeps, scope: RequestScope, type: string, id: string, vid: string): Promise<FhirResponse> {
  const version = Number(vid);
  if (!Number.isInteger(version) || version < 1) throw FhirError.of(400, 'invalid', `Version id '${vid}' is not a positive integer`);
  const found = await deps.store.readVersion(scope.tenant, type, id, version);
  if (!found) throw notFound(`${type}/${id}/_history/${vid} is not known`);
  if (found.deleted) throw gone(`${type}/${id} version ${vid} is a deletion`);
  await assertInCompartment(deps, scope, type, id, found.content);
  return {
    status: 200,
    headers: { ETag: etag(found.versionId), 'Last-Modified': httpDate(found.lastUpdated) },
    body: { raw: found.content },
  };
}

/** A version read earlier in this request (RequestScope.readAhead), used once; a read from the store records its row for the next. */
function takeReadAhead(scope: RequestScope, type: string, id: string): StoredVersion | undefined {
  const memo = scope.readAhead;
  if (!memo) return undefined;
  const key = `${type}/${id}`;
  const hit = memo.get(key);
  if (hit) memo.delete(key);
  return hit;
}
