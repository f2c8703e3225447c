/**
 * Opens the database behind a tenant store: SQLite (embedded default) or PostgreSQL (production).
 * Both are driven through one Kysely instance so the rest of the code has a single code path.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database, Dialect } from './schema.ts';

export interface EngineOptions {
  db: Dialect;
  /** SQLite file path (':memory:' allowed for tests). */
  sqliteFile?: string;
  /** PostgreSQL connection string. */
  dbUrl?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /**
   * SQLite commit durability. 'full' (default): every commit is synced to disk before it returns, so an
   * accepted write survives power loss. 'normal': WAL commits survive a process crash but may be lost on power
   * loss — for the audit log's group commits (ADR 0005), where a sync per flush would stall the event loop.
   */
  durability?: 'full' | 'normal';
}

export interface Engine {
  dialect: Dialect;
  db: Kysely<Database>;
  /**
   * SQLite only: a second, read-only connection for the hot read-by-id path. WAL lets it read while the
   * writer connection commits, and it never sees a transaction in progress on the writer connection.
   */
  readConnection?: BetterSqlite3.Database;
  close(): Promise<void>;
}

export function openEngine(opts: EngineOptions): Engine {
  if (opts.db === 'sqlite') {
    const file = opts.sqliteFile ?? ':memory:';
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    // WAL lets readers proceed while a writer commits; synchronous=FULL makes every commit durable
    // (an accepted write survives power loss, not only a process crash).
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(opts.durability === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('temp_store = MEMORY');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const readConnection = file === ':memory:' ? undefined : new BetterSqlite3(file, { readonly: true });
    readConnection?.pragma('busy_timeout = 5000');
    return {
      dialect: 'sqlite',
      db,
      readConnection,
      close: async () => {
        readConnection?.close();
        await db.destroy();
      },
    };
  }
  if (!opts.dbUrl) throw new Error('PostgreSQL needs a connection URL (--db-url postgres://user@host:port/db)');
  // COUNT(*) and BIGINT come back as strings by default; our counts fit comfortably in a JS number.
  pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  const pool = new pg.Pool({ connectionString: opts.dbUrl, max: opts.poolSize ?? 10 });
  // An idle connection the server ends (restart, failover, an administrator) is an 'error' event on the pool; the
  // pool drops that client and the next query opens a new one. Unhandled, the event would kill the process.
  pool.on('error', (e: Error & { code?: string }) => process.stderr.write(`postgres: idle connection lost (${e.code ?? e.message}); it will be replaced\n`));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { dialect: 'postgres', db, close: () => db.destroy() };
}
