/**
 * PostgreSQL for search tests: when SCHAKEL_TEST_PG_URL is set (the CI script starts a throwaway cluster and
 * sets it), every call to `openSearchDb('postgres')` gets a fresh, empty database on that cluster; otherwise
 * the PostgreSQL variants are skipped with a clear message. SQLite always runs (a temp file per call).
 */
import { openEngine, type Engine } from '../../src/storage/engine.ts';
import { migrate } from '../../src/storage/migrate.ts';
import type { Dialect } from '../../src/storage/schema.ts';
import { freshEngine } from './engines.ts';

export function pgTestUrl(): string | undefined {
  return process.env.SCHAKEL_TEST_PG_URL || undefined;
}

/**
 * Both dialects, always: suites pass `{ skip: pgSkip(dialect) }` so that without a cluster the PostgreSQL
 * variant shows up as skipped (with the reason) instead of silently missing.
 */
export function testDialects(): Dialect[] {
  return ['sqlite', 'postgres'];
}

/** `skip` option for node:test describe/it: a message when PostgreSQL is unavailable. */
export function pgSkip(dialect: Dialect): string | false {
  return dialect === 'postgres' && !pgTestUrl() ? 'PostgreSQL variant skipped: SCHAKEL_TEST_PG_URL is not set' : false;
}

/** A migrated, empty database of the given dialect (an isolated one from `freshEngine`); `close` drops it. */
export async function openSearchDb(dialect: Dialect): Promise<{ engine: Engine; close(): Promise<void> }> {
  const target = await freshEngine(dialect);
  const engine = openEngine({ db: dialect, sqliteFile: target.opts.sqliteFile, dbUrl: target.opts.dbUrl, poolSize: 4 });
  await migrate(engine.db, dialect);
  return {
    engine,
    close: async () => {
      await engine.close();
      await target.cleanup();
    },
  };
}
