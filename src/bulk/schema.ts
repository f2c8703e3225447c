/**
 * The bulk module's own tables, created lazily (idempotent) the first time a node uses bulk import or export:
 *
 * - `bulk_jobs`: asynchronous $export/$import jobs, so a restart keeps finished manifests (and resumes or
 *   restarts unfinished jobs);
 * - `bulk_checkpoints`: per imported NDJSON source, how far it has been committed (byte offset, line count).
 *   A checkpoint is written in the same database transaction as the resources of its batch, so after a crash
 *   the data and the checkpoint always agree and a resumed import neither skips nor repeats a line.
 *
 * Like every table, both start with `tenant` (ADR 0002).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, Dialect } from '../storage/schema.ts';

export type JobKind = 'export' | 'import';
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface BulkJobTable {
  tenant: string;
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** The kick-off request URL (for the manifest's `request`). */
  request: string;
  /** JSON: the parsed kick-off parameters. */
  params: string;
  /** Human-readable progress for X-Progress. */
  progress: string;
  transaction_time: string;
  /** JSON: output/error file lists once completed. */
  result: string | null;
  error: string | null;
  created: string;
  updated: string;
  /** When the job's files are deleted (completed jobs only). */
  expires: string | null;
}

export interface BulkCheckpointTable {
  tenant: string;
  /** Absolute file path or URL of the NDJSON source. */
  source: string;
  /** Size/mtime of the source when the import began: a changed file starts over. */
  fingerprint: string;
  byte_offset: number;
  lines: number;
  imported: number;
  errors: number;
  done: number;
  updated: string;
}

export interface BulkTables {
  bulk_jobs: BulkJobTable;
  bulk_checkpoints: BulkCheckpointTable;
}

export type BulkDatabase = Database & BulkTables;
export type BulkDb = Kysely<BulkDatabase>;

export const bulkDb = (db: Kysely<Database>): BulkDb => db as unknown as BulkDb;
export const bulkTrx = (trx: Transaction<Database>): Transaction<BulkDatabase> => trx as unknown as Transaction<BulkDatabase>;

const ready = new WeakMap<object, Promise<void>>();

/** Creates the bulk tables if missing; memoised per database handle. */
export function ensureBulkSchema(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  let p = ready.get(db);
  if (!p) {
    p = migrateBulk(db, dialect);
    ready.set(db, p);
    p.catch(() => ready.delete(db));
  }
  return p;
}

async function migrateBulk(db: Kysely<Database>, _dialect: Dialect): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema DDL is untyped by design (as in storage/migrate.ts)
  const ddl = db as unknown as Kysely<any>;
  await ddl.schema
    .createTable('bulk_jobs')
    .ifNotExists()
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('progress', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('transaction_time', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addColumn('expires', 'text')
    .addPrimaryKeyConstraint('bulk_jobs_pk', ['tenant', 'id'])
    .execute();
  await ddl.schema
    .createTable('bulk_checkpoints')
    .ifNotExists()
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('byte_offset', 'bigint', (c) => c.notNull())
    .addColumn('lines', 'bigint', (c) => c.notNull())
    .addColumn('imported', 'bigint', (c) => c.notNull())
    .addColumn('errors', 'bigint', (c) => c.notNull())
    .addColumn('done', 'integer', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bulk_checkpoints_pk', ['tenant', 'source'])
    .execute();
}
