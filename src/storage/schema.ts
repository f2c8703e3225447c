/**
 * Database schema shared by both engines (SQLite and PostgreSQL) through Kysely.
 *
 * Every table carries `tenant` and every primary key starts with it, so a tenant's rows can later be
 * distributed by tenant (Citus-style distribution column) without a schema change, and no query can
 * match across tenants unless it forgets the tenant predicate — which the storage layer never does.
 *
 * Timestamps are ISO-8601 UTC strings with milliseconds ('2026-01-02T03:04:05.678Z'): they sort
 * lexicographically in both engines, so no engine-specific date type is needed.
 */
import type { IndexTables } from '../search/index-tables.ts';

export interface TenantTable {
  tenant: string;
  name: string;
  ura: string | null;
  created: string;
  /** JSON object with per-tenant settings (e.g. profile validation on write). */
  settings: string;
}

/** The current version of every resource, including deleted ones (deleted = 1 → read answers 410). */
export interface ResourceTable {
  tenant: string;
  type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: number;
  /** The resource as stored JSON (with meta.versionId and meta.lastUpdated). Empty string when deleted. */
  content: string;
}

/** Every version ever written (also the current one), for vread and _history. */
export interface ResourceHistoryTable {
  tenant: string;
  type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: number;
  /** 'POST' | 'PUT' | 'PATCH' | 'DELETE' — the request method for history bundle entries. */
  method: string;
  content: string;
}

export interface Database extends IndexTables {
  tenants: TenantTable;
  resources: ResourceTable;
  resource_history: ResourceHistoryTable;
}

export type Dialect = 'sqlite' | 'postgres';
