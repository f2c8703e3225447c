/**
 * The storage contract runs on every engine: SQLite always, PostgreSQL when the test script started a
 * throwaway cluster (SCHAKEL_TEST_PG_URL). Each call gets an empty, isolated database: a fresh SQLite
 * file, or a fresh PostgreSQL database created through the admin connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Dialect } from '../../src/storage/schema.ts';

export interface EngineTarget {
  db: Dialect;
  /** Options for openNode / startServer. */
  opts: { db: Dialect; sqliteFile?: string; dbUrl?: string; dataDir?: string };
  cleanup(): Promise<void>;
}

export function engineNames(): Dialect[] {
  return process.env.SCHAKEL_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

if (!process.env.SCHAKEL_TEST_PG_URL && !process.env.SCHAKEL_QUIET_PG_SKIP) {
  process.env.SCHAKEL_QUIET_PG_SKIP = '1';
  console.warn('# PostgreSQL variants skipped: SCHAKEL_TEST_PG_URL is not set (npm test starts a cluster)');
}

let counter = 0;

export async function freshEngine(db: Dialect): Promise<EngineTarget> {
  if (db === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'schakel-test-'));
    return {
      db,
      opts: { db, sqliteFile: join(dir, 'test.db'), dataDir: dir },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = process.env.SCHAKEL_TEST_PG_URL;
  if (!base) throw new Error('SCHAKEL_TEST_PG_URL is not set');
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    db,
    opts: { db, dbUrl: url.toString() },
    cleanup: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
