/**
 * A provider node: storage engine + migrations + tenant registry + the FHIR dispatcher, without HTTP.
 * Lifecycle: open (configure + migrate + load tenants) → serve → close.
 */
import { join } from 'node:path';
import { validateCore, validateResource } from '../fhir/validation/index.ts';
import { createDispatcher } from '../server/dispatch.ts';
import type { ServerDeps } from '../server/context.ts';
import { openEngine, type Engine } from '../storage/engine.ts';
import { migrate } from '../storage/migrate.ts';
import { ResourceStore } from '../storage/resource-store.ts';
import type { Dialect } from '../storage/schema.ts';
import { TenantRegistry } from '../tenants/registry.ts';

export interface NodeOptions {
  db: Dialect;
  /** Data directory for the embedded SQLite database (default ./data). */
  dataDir?: string;
  dbUrl?: string;
  /** SQLite file override (':memory:' in tests). */
  sqliteFile?: string;
}

export interface ProviderNode {
  engine: Engine;
  deps: ServerDeps;
  tenants: TenantRegistry;
  dispatch: ReturnType<typeof createDispatcher>;
  close(): Promise<void>;
}

export async function openNode(opts: NodeOptions): Promise<ProviderNode> {
  const engine = openEngine({
    db: opts.db,
    sqliteFile: opts.sqliteFile ?? join(opts.dataDir ?? 'data', 'schakel.db'),
    dbUrl: opts.dbUrl,
  });
  await migrate(engine.db, engine.dialect);
  const tenants = new TenantRegistry(engine.db);
  await tenants.load();
  const deps: ServerDeps = {
    engine,
    store: new ResourceStore(engine.db, engine.dialect),
    tenants,
    // Writes: R4 core only (fast), unless the tenant opted in to profile validation ('declared' = meta.profile).
    // $validate: core plus the given profile, or the declared ones.
    validate: (resource, o) =>
      o.profiles === undefined ? validateCore(resource) : validateResource(resource, { profiles: o.profiles === 'declared' ? undefined : o.profiles }),
  };
  return { engine, deps, tenants, dispatch: createDispatcher(deps), close: () => engine.close() };
}
