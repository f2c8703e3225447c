/**
 * PostgreSQL for search tests: when SCHAKEL_TEST_PG_URL is set (the CI script starts a throwaway cluster and
 * sets it), every call to `openSearchDb('postgres')` gets a fresh, empty database on that cluster; otherwise
 * the PostgreSQL variants are skipped with a clear message. SQLite always runs (a temp file per call).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openEngine, type Engine } from '../../src/storage/engine.ts';
import { migrate } from '../../src/storage/migrate.ts';
import type { Dialect } from '../../src/storage/schema.ts';

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

let counter = 0;

/** A migrated, empty database of the given dialect; `close` drops it. */
export async function openSearchDb(dialect: Dialect): Promise<{ engine: Engine; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'schakel-search-'));
    const engine = openEngine({ db: 'sqlite', sqliteFile: join(dir, 'test.db') });
    await migrate(engine.db, 'sqlite');
    return {
      engine,
      close: async () => {
        await engine.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const base = pgTestUrl();
  if (!base) throw new Error('SCHAKEL_TEST_PG_URL is not set');
  const name = `s_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const engine = openEngine({ db: 'postgres', dbUrl: url.toString(), poolSize: 4 });
  await migrate(engine.db, 'postgres');
  return {
    engine,
    close: async () => {
      await engine.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
