/** Shared helpers for the search tests (not a test file itself). */
import type { FhirResource } from 'fhir/r4';
import type { Engine } from '../../src/storage/engine.ts';
import { ResourceStore } from '../../src/storage/resource-store.ts';
import { parseSearchRequest } from '../../src/search/parse.ts';
import { executeSearch, type SearchResult } from '../../src/search/execute.ts';

export async function put(engine: Engine, tenant: string, resources: FhirResource[]): Promise<void> {
  const store = new ResourceStore(engine.db, engine.dialect);
  await store.transaction((trx) =>
    store.commit(
      trx,
      tenant,
      resources.map((r) => ({ type: r.resourceType, id: r.id!, resource: structuredClone(r), method: 'PUT' as const })),
    ),
  );
}

export async function del(engine: Engine, tenant: string, type: string, id: string): Promise<void> {
  const store = new ResourceStore(engine.db, engine.dialect);
  await store.transaction((trx) => store.commit(trx, tenant, [{ type, id, resource: null, method: 'DELETE' }]));
}

export interface SearchOpts {
  tenant?: string;
  compartment?: { type: 'Patient'; id: string };
  cursor?: string;
  strict?: boolean;
  baseUrl?: string;
}

export async function search(engine: Engine, type: string | undefined, query: string, opts: SearchOpts = {}): Promise<SearchResult> {
  const req = parseSearchRequest(type, new URLSearchParams(query), { strict: opts.strict ?? true, baseUrl: opts.baseUrl });
  return executeSearch(
    { db: engine.db, dialect: engine.dialect, tenant: opts.tenant ?? 't1', compartment: opts.compartment },
    type,
    req,
    { cursor: opts.cursor },
  );
}

/** Sorted ids of the matches ("Type/id" when several types can match). */
export async function ids(engine: Engine, type: string | undefined, query: string, opts: SearchOpts = {}): Promise<string[]> {
  const r = await search(engine, type, query, { count: undefined, ...opts } as SearchOpts);
  return r.matches.map((m) => (type ? m.id : `${m.type}/${m.id}`)).sort();
}

export const refs = (rows: { type: string; id: string }[]): string[] => rows.map((r) => `${r.type}/${r.id}`).sort();
