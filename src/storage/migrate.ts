/**
 * Creates the tables both engines share. Idempotent: every start runs it.
 * The search index tables belong to the search module (it knows which value columns each parameter type
 * needs); they are created here in the same migration so a fresh database is complete before serving.
 */
import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import { createIndexTables } from '../search/index-tables.ts';
import type { Database, Dialect } from './schema.ts';

export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  // Kysely<any> is what schema builders accept for tables outside the typed Database interface.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema DDL is untyped by design
  const ddl = db as unknown as Kysely<any>;
  // Key columns compare by code point on PostgreSQL (COLLATE "C"), as on SQLite: keyset paging orders the same
  // on both engines, and joins with the search index tables (also "C") can use the primary key.
  const key = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  // The columns `resources` (current version) and `resource_history` (every version) share.
  const versionColumns = (t: CreateTableBuilder<string, never>) =>
    t
      .addColumn('tenant', key, (c) => c.notNull())
      .addColumn('type', key, (c) => c.notNull())
      .addColumn('id', key, (c) => c.notNull())
      .addColumn('version_id', 'integer', (c) => c.notNull())
      .addColumn('last_updated', key, (c) => c.notNull())
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0));
  await ddl.schema
    .createTable('tenants')
    .ifNotExists()
    .addColumn('tenant', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('ura', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await ddl.schema
    .createTable('resources')
    .ifNotExists()
    .$call(versionColumns)
    .addColumn('content', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resources_pk', ['tenant', 'type', 'id'])
    .execute();
  await ddl.schema
    .createIndex('resources_updated')
    .ifNotExists()
    .on('resources')
    .columns(['tenant', 'type', 'last_updated'])
    .execute();

  await ddl.schema
    .createTable('resource_history')
    .ifNotExists()
    .$call(versionColumns)
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_history_pk', ['tenant', 'type', 'id', 'version_id'])
    .execute();
  await ddl.schema
    .createIndex('resource_history_tenant_updated')
    .ifNotExists()
    .on('resource_history')
    .columns(['tenant', 'last_updated'])
    .execute();
  await ddl.schema
    .createIndex('resource_history_type_updated')
    .ifNotExists()
    .on('resource_history')
    .columns(['tenant', 'type', 'last_updated'])
    .execute();

  await createIndexTables(ddl, dialect);
  if (dialect === 'sqlite') await sql`PRAGMA optimize`.execute(db);
}
