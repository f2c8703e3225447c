/** _history on instance, type and system level, newest first, with _since, _at and _count (keyset paging). */
import { badRequest, notFound } from '../../fhir/outcome.ts';
import type { HistoryCursor } from '../../storage/resource-store.ts';
import type { ServerDeps } from '../context.ts';
import { randomUUID } from 'node:crypto';
import type { FhirResponse, RequestScope } from '../types.ts';
import { encodeCursor, decodeCursor } from '../cursor.ts';

const MAX_COUNT = 1000;

function instant(value: string, name: string): string {
  const d = new Date(value);
  if (!/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(value) || Number.isNaN(d.getTime())) {
    throw badRequest(`${name} '${value}' is not a valid instant`, name);
  }
  return d.toISOString();
}

export async function history(deps: ServerDeps, scope: RequestScope, query: [string, string][], type?: string, id?: string): Promise<FhirResponse> {
  let count = 50;
  let since: string | undefined;
  let at: string | undefined;
  let before: HistoryCursor | undefined;
  const applied: [string, string][] = [];
  for (const [k, v] of query) {
    if (k === '_count') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`_count '${v}' is not a non-negative integer`, '_count');
      count = Math.min(n, MAX_COUNT);
      applied.push([k, String(count)]);
    } else if (k === '_since') {
      since = instant(v, '_since');
      applied.push([k, v]);
    } else if (k === '_at') {
      at = instant(v, '_at');
      applied.push([k, v]);
    } else if (k === '_cursor') {
      before = decodeCursor<HistoryCursor>(v);
    } else if (k === '_format') {
      applied.push([k, v]);
    } else if (scope.strict) {
      throw badRequest(`Unknown _history parameter '${k}'`, k);
    }
  }
  if (id) {
    const exists = await deps.store.exists(scope.tenant, type!, id);
    if (!exists) throw notFound(`${type}/${id} is not known`);
  }
  const { entries, next } = await deps.store.history(scope.tenant, { type, id, since, at, count, before });
  const path = [type, id, '_history'].filter(Boolean).join('/');
  const qs = (extra: [string, string][]) => {
    const all = [...applied, ...extra];
    return all.length ? `?${new URLSearchParams(all).toString()}` : '';
  };
  const links = [{ relation: 'self', url: `${scope.base}/${path}${qs([])}` }];
  if (next) links.push({ relation: 'next', url: `${scope.base}/${path}${qs([['_cursor', encodeCursor(next)]])}` });
  const parts: string[] = [];
  for (const e of entries) {
    const fullUrl = `${scope.base}/${e.type}/${e.id}`;
    const request = JSON.stringify({
      method: e.method === 'PATCH' ? 'PATCH' : e.method,
      url: e.method === 'POST' ? e.type : `${e.type}/${e.id}`,
    });
    const response = JSON.stringify({
      status: e.deleted ? '204' : e.versionId === 1 ? '201' : '200',
      etag: `W/"${e.versionId}"`,
      lastModified: e.lastUpdated,
    });
    parts.push(
      `{"fullUrl":${JSON.stringify(fullUrl)}${e.deleted ? '' : `,"resource":${e.content}`},"request":${request},"response":${response}}`,
    );
  }
  const raw = `{"resourceType":"Bundle","id":"${randomUUID()}","meta":{"lastUpdated":"${new Date().toISOString()}"},"type":"history","link":${JSON.stringify(links)},"entry":[${parts.join(',')}]}`;
  return { status: 200, headers: {}, body: { raw } };
}
