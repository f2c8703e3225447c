/**
 * The resource store: current versions, version history and (through the search module) index rows,
 * always written together in one database transaction so they can never disagree after a crash.
 *
 * Writes are planned in memory first and committed in batches (one multi-row statement per table),
 * which is what makes transaction-bundle ingest fast on both engines.
 */
import type { Resource } from 'fhir/r4';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Transaction } from 'kysely';
import { replaceIndexRows } from '../search/index-tables.ts';
import { preconditionFailed } from '../fhir/outcome.ts';
import type { Database, Dialect } from './schema.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export interface StoredVersion {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  /** JSON text of the resource ('' when deleted). */
  content: string;
  method?: string;
}

export interface PlannedWrite {
  type: string;
  id: string;
  /** null = delete. The resource's meta.versionId/lastUpdated are set by the store. */
  resource: Resource | null;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** If-Match: the version the client expects to replace. */
  expectVersion?: number;
  /** True when the id is new by construction (server-assigned), so no lookup is needed. */
  isNew?: boolean;
}

export interface CommittedWrite {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  /** Whether a live resource existed before (update vs create, delete of an existing resource). */
  existed: boolean;
  resource: Resource | null;
  /** True when a delete found nothing live to delete, or an update changed nothing (no version written). */
  noop?: boolean;
}

/** A committed change as write hooks see it: the stored resource (null = deleted) and the version it replaced. */
export interface WrittenResource {
  type: string;
  id: string;
  /** The resource as stored, null when this write deleted it. */
  resource: Resource | null;
  /** The live version this write replaced (null for a create); for a delete, what was deleted. */
  previous: Resource | null;
}

/**
 * Called inside the commit's database transaction, after the resource, history and index rows are written,
 * with every write that changed something (no-op updates and deletes of nothing are left out). Whatever the
 * hook writes through `trx` commits or rolls back together with the resources (an outbox, for instance).
 * It may return a callback to run once that transaction has committed (when it was opened with
 * `ResourceStore.transaction`, as every write path does) — e.g. to wake a worker that reads what was written.
 */
export type WriteHook = (trx: Transaction<Database>, tenant: string, writes: WrittenResource[]) => Promise<void | (() => void)>;

const CHUNK = 200;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Commit timestamps: every write of one commit shares one `lastUpdated`, and commits get increasing stamps within
 * this process. One stamp per commit (not per resource) keeps a fast import from running ahead of the wall
 * clock; `primeClock` starts the process after the newest stamp already stored, so a restart never stamps a
 * new version earlier than the one it replaces. Ties within a commit are ordered by (type, id, version).
 */
let lastStamp = 0;
export function nextTimestamp(): string {
  let now = Date.now();
  if (now <= lastStamp) now = lastStamp + 1;
  lastStamp = now;
  return new Date(now).toISOString();
}

export function primeClock(newest: string | undefined): void {
  const t = newest ? Date.parse(newest) : Number.NaN;
  if (!Number.isNaN(t) && t > lastStamp) lastStamp = t;
}

type CurrentRow = { version_id: number; last_updated: string; deleted: number; content: string };

export class ResourceStore {
  /** Prepared once on the read-only SQLite connection: the hot path of read-by-id skips the query builder. */
  private readonly readStatement?: BetterSqlite3.Statement<[string, string, string], CurrentRow>;
  /** Write hooks; empty = commit does no extra work at all. */
  private readonly hooks: WriteHook[] = [];
  /** Callbacks hooks asked for, per open transaction, run after it commits. */
  private readonly afterCommit = new WeakMap<Transaction<Database>, (() => void)[]>();

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readConnection?: BetterSqlite3.Database,
  ) {
    this.readStatement = readConnection?.prepare<[string, string, string], CurrentRow>(
      'SELECT version_id, last_updated, deleted, content FROM resources WHERE tenant = ? AND type = ? AND id = ?',
    );
  }

  /** Installs a hook that runs inside every commit's transaction; returns its removal. */
  addWriteHook(hook: WriteHook): () => void {
    this.hooks.push(hook);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  /** Runs fn in one database transaction (all or nothing). */
  async transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    if (this.hooks.length === 0) return this.db.transaction().execute(fn);
    let open: Transaction<Database> | undefined;
    const result = await this.db.transaction().execute((trx) => {
      open = trx;
      return fn(trx);
    });
    const after = open && this.afterCommit.get(open);
    if (after) for (const f of after) f();
    return result;
  }

  async readCurrent(tenant: string, type: string, id: string, db?: Db): Promise<StoredVersion | undefined> {
    if (!db && this.readStatement) {
      const row = this.readStatement.get(tenant, type, id);
      return row && toStored({ type, id, ...row });
    }
    const row = await (db ?? this.db)
      .selectFrom('resources')
      .select(['version_id', 'last_updated', 'deleted', 'content'])
      .where('tenant', '=', tenant)
      .where('type', '=', type)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toStored({ type, id, ...row });
  }

  /** The newest stored `lastUpdated` (to prime the commit clock at start). */
  async newestStamp(): Promise<string | undefined> {
    const row = await this.db.selectFrom('resource_history').select((eb) => eb.fn.max('last_updated').as('newest')).executeTakeFirst();
    return (row?.newest as string | null | undefined) ?? undefined;
  }

  async readVersion(tenant: string, type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const row = await this.db
      .selectFrom('resource_history')
      .select(['version_id', 'last_updated', 'deleted', 'content', 'method'])
      .where('tenant', '=', tenant)
      .where('type', '=', type)
      .where('id', '=', id)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    return row && toStored({ type, id, ...row });
  }

  /** Has this id ever existed (any version)? Distinguishes 404 from 410. */
  async exists(tenant: string, type: string, id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('resources')
      .select('id')
      .where('tenant', '=', tenant)
      .where('type', '=', type)
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * History newest first, keyset-paged on (last_updated, type, id, version_id).
   * `before` is the cursor: the sort key of the last entry of the previous page.
   */
  async history(
    tenant: string,
    opts: { type?: string; id?: string; since?: string; at?: string; count: number; before?: HistoryCursor },
  ): Promise<{ entries: StoredVersion[]; next?: HistoryCursor }> {
    let q = this.db
      .selectFrom('resource_history')
      .select(['type', 'id', 'version_id', 'last_updated', 'deleted', 'content', 'method'])
      .where('tenant', '=', tenant);
    if (opts.type) q = q.where('type', '=', opts.type);
    if (opts.id) q = q.where('id', '=', opts.id);
    if (opts.since) q = q.where('last_updated', '>=', opts.since);
    if (opts.at) q = q.where('last_updated', '<=', opts.at);
    const b = opts.before;
    if (b) {
      q = q.where((eb) =>
        eb.or([
          eb('last_updated', '<', b.lastUpdated),
          eb.and([
            eb('last_updated', '=', b.lastUpdated),
            eb.or([
              eb('type', '<', b.type),
              eb.and([
                eb('type', '=', b.type),
                eb.or([eb('id', '<', b.id), eb.and([eb('id', '=', b.id), eb('version_id', '<', b.versionId)])]),
              ]),
            ]),
          ]),
        ]),
      );
    }
    const rows = await q
      .orderBy('last_updated', 'desc')
      .orderBy('type', 'desc')
      .orderBy('id', 'desc')
      .orderBy('version_id', 'desc')
      .limit(opts.count + 1)
      .execute();
    const entries = rows.slice(0, opts.count).map(toStored);
    const last = entries[entries.length - 1];
    const next =
      rows.length > opts.count && last
        ? { lastUpdated: last.lastUpdated, type: last.type, id: last.id, versionId: last.versionId }
        : undefined;
    return { entries, next };
  }

  /**
   * Commits planned writes inside trx: checks If-Match, assigns versions and timestamps, writes
   * current rows, history rows and index rows. Throws FhirError (412) on a version conflict.
   */
  async commit(trx: Transaction<Database>, tenant: string, writes: PlannedWrite[]): Promise<CommittedWrite[]> {
    const current = await this.currentVersions(trx, tenant, writes.filter((w) => !w.isNew));
    const results: CommittedWrite[] = [];
    const lastUpdated = nextTimestamp();
    const historyRows: Database['resource_history'][] = [];
    const currentRows = new Map<string, Database['resources']>();
    const indexItems: { type: string; id: string; resource: Resource | null; isNew: boolean }[] = [];
    // Only collected when someone listens: the previous version is parsed for hooks alone.
    const hooked: WrittenResource[] | undefined = this.hooks.length > 0 ? [] : undefined;
    for (const w of writes) {
      const key = `${w.type}/${w.id}`;
      const before = current.get(key);
      const liveBefore = before !== undefined && !before.deleted;
      if (w.expectVersion !== undefined && (!liveBefore || before.versionId !== w.expectVersion)) {
        throw preconditionFailed(
          `Version conflict on ${key}: If-Match expects version ${w.expectVersion}, current is ${
            liveBefore ? before.versionId : 'none'
          }`,
        );
      }
      if (w.resource === null && !liveBefore) {
        results.push({ type: w.type, id: w.id, versionId: before?.versionId ?? 0, lastUpdated: before?.lastUpdated ?? '', existed: false, resource: null, noop: true });
        continue;
      }
      if (w.resource && liveBefore && before.content !== undefined && w.method !== 'POST') {
        // An update that changes nothing keeps the current version (no new history row, nothing for
        // replicas to fetch): the body with the current meta is byte-identical to what is stored.
        const same = { ...w.resource, id: w.id, meta: { ...(w.resource.meta ?? {}), versionId: String(before.versionId), lastUpdated: before.lastUpdated } };
        if (JSON.stringify(same) === before.content) {
          results.push({ type: w.type, id: w.id, versionId: before.versionId, lastUpdated: before.lastUpdated, existed: true, resource: same as Resource, noop: true });
          continue;
        }
      }
      if (hooked) {
        // A bundle may write one resource twice: the version it replaces is the one planned just before.
        const previous = liveBefore && before.content ? (JSON.parse(before.content) as Resource) : null;
        hooked.push({ type: w.type, id: w.id, resource: w.resource, previous });
      }
      const versionId = (before?.versionId ?? 0) + 1;
      let content = '';
      if (w.resource) {
        w.resource.id = w.id;
        w.resource.meta = { ...(w.resource.meta ?? {}), versionId: String(versionId), lastUpdated };
        content = JSON.stringify(w.resource);
      }
      const deleted = w.resource === null ? 1 : 0;
      historyRows.push({ tenant, type: w.type, id: w.id, version_id: versionId, last_updated: lastUpdated, deleted, method: w.method, content });
      currentRows.set(key, { tenant, type: w.type, id: w.id, version_id: versionId, last_updated: lastUpdated, deleted, content });
      current.set(key, { versionId, deleted: deleted === 1, lastUpdated, content });
      indexItems.push({ type: w.type, id: w.id, resource: w.resource, isNew: before === undefined });
      results.push({ type: w.type, id: w.id, versionId, lastUpdated, existed: liveBefore, resource: w.resource });
    }
    for (const part of chunks(historyRows)) await trx.insertInto('resource_history').values(part).execute();
    for (const part of chunks([...currentRows.values()])) {
      await trx
        .insertInto('resources')
        .values(part)
        .onConflict((oc) =>
          oc.columns(['tenant', 'type', 'id']).doUpdateSet((eb) => ({
            version_id: eb.ref('excluded.version_id'),
            last_updated: eb.ref('excluded.last_updated'),
            deleted: eb.ref('excluded.deleted'),
            content: eb.ref('excluded.content'),
          })),
        )
        .execute();
    }
    if (indexItems.length > 0) await replaceIndexRows(trx, tenant, dedupeLast(indexItems));
    if (hooked && hooked.length > 0) {
      for (const hook of this.hooks) {
        const after = await hook(trx, tenant, hooked);
        if (after) this.afterCommit.set(trx, [...(this.afterCommit.get(trx) ?? []), after]);
      }
    }
    return results;
  }

  private async currentVersions(
    trx: Transaction<Database>,
    tenant: string,
    writes: PlannedWrite[],
  ): Promise<Map<string, CurrentVersion>> {
    const out = new Map<string, CurrentVersion>();
    const byType = new Map<string, string[]>();
    for (const w of writes) {
      const ids = byType.get(w.type) ?? [];
      ids.push(w.id);
      byType.set(w.type, ids);
    }
    for (const [type, ids] of byType) {
      for (const part of chunks([...new Set(ids)], 500)) {
        let q = trx
          .selectFrom('resources')
          .select(['id', 'version_id', 'deleted', 'last_updated', 'content'])
          .where('tenant', '=', tenant)
          .where('type', '=', type)
          .where('id', 'in', part);
        // Row locks serialise concurrent writers of one resource on PostgreSQL (SQLite has one writer).
        if (this.dialect === 'postgres') q = q.forUpdate();
        for (const r of await q.execute()) {
          out.set(`${type}/${r.id}`, { versionId: r.version_id, deleted: r.deleted === 1, lastUpdated: r.last_updated, content: r.content });
        }
      }
    }
    return out;
  }
}

function toStored(r: { type: string; id: string; version_id: number; last_updated: string; deleted: number; content: string; method?: string }): StoredVersion {
  return { type: r.type, id: r.id, versionId: r.version_id, lastUpdated: r.last_updated, deleted: r.deleted === 1, content: r.content, method: r.method };
}

interface CurrentVersion {
  versionId: number;
  deleted: boolean;
  lastUpdated: string;
  content?: string;
}

export interface HistoryCursor {
  lastUpdated: string;
  type: string;
  id: string;
  versionId: number;
}

/** When one bundle writes a resource twice, only its final state is indexed. */
function dedupeLast<T extends { type: string; id: string }>(items: T[]): T[] {
  const m = new Map<string, T>();
  for (const it of items) m.set(`${it.type}/${it.id}`, it);
  return [...m.values()];
}
