/**
 * A provider node: storage engine + migrations + tenant registry + the FHIR dispatcher, without HTTP.
 * Lifecycle: open (configure + migrate + load tenants) → serve → close.
 */
import { dirname, join } from 'node:path';
import type { Kysely } from 'kysely';
import { AuditLog } from '../gf/audit/log.ts';
import { validateCore, validateResource } from '../fhir/validation/index.ts';
import { createDispatcher } from '../server/dispatch.ts';
import type { ServerDeps } from '../server/context.ts';
import { openEngine, type Engine } from '../storage/engine.ts';
import { migrate } from '../storage/migrate.ts';
import { ResourceStore, primeClock } from '../storage/resource-store.ts';
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
  /** NEN 7513 audit log, in a store apart from the clinical data. */
  audit: AuditLog;
  close(): Promise<void>;
}

export async function openNode(opts: NodeOptions): Promise<ProviderNode> {
  const engine = openEngine({ db: opts.db, sqliteFile: opts.sqliteFile ?? join(opts.dataDir ?? 'data', 'schakel.db'), dbUrl: opts.dbUrl });
  await migrate(engine.db, engine.dialect);
  const tenants = new TenantRegistry(engine.db);
  await tenants.load();
  const deps: ServerDeps = {
    engine,
    store: new ResourceStore(engine.db, engine.dialect, engine.readConnection),
    tenants,
    // Writes: R4 core only (fast), unless the tenant opted in to profile validation ('declared' = meta.profile).
    // $validate: core plus the given profile, or the declared ones.
    validate: (resource, o) =>
      o.profiles === undefined ? validateCore(resource) : validateResource(resource, { profiles: o.profiles === 'declared' ? undefined : o.profiles }),
  };
  primeClock(await deps.store.newestStamp());
  // The audit log lives apart from clinical data: its own SQLite file, or its own tables on PostgreSQL.
  const sqliteFile = opts.sqliteFile ?? join(opts.dataDir ?? 'data', 'schakel.db');
  const auditEngine =
    opts.db === 'sqlite'
      ? openEngine({ db: 'sqlite', sqliteFile: sqliteFile === ':memory:' ? ':memory:' : join(dirname(sqliteFile), 'audit.db'), durability: 'normal' })
      : openEngine({ db: 'postgres', dbUrl: opts.dbUrl, poolSize: 2 });
  const audit = await AuditLog.open(auditEngine.db as unknown as Kysely<object>, auditEngine.dialect);
  return {
    engine,
    deps,
    tenants,
    audit,
    dispatch: createDispatcher(deps),
    close: async () => {
      await audit.close();
      await auditEngine.close();
      await engine.close();
    },
  };
}
