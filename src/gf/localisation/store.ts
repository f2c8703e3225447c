/**
 * Localisation entries in their own table (see docs/adr/0004-localisation-storage.md): one row per
 * (pseudonym × category × custodian), unique, so registration is idempotent by construction and the lookup
 * by pseudonym (+ category) is one B-tree range scan. The tenant column keeps the ARCHITECTURE rule that
 * every table carries the tenant (always `national-nvi` here).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { StoredEntry } from './list.ts';

export const NVI_TENANT = 'national-nvi';

export interface LocalisationTable {
  tenant: string;
  id: string;
  pseudonym: string;
  category: string;
  custodian: string;
  source: string;
  last_updated: string;
}
export interface LocalisationTables {
  gf_localisation: LocalisationTable;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any node database (its own schema type) can host this table
export type AnyKysely = Kysely<any>;

export async function migrateLocalisation(db: AnyKysely): Promise<void> {
  await db.schema
    .createTable('gf_localisation')
    .ifNotExists()
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('pseudonym', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('custodian', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gf_localisation_pk', ['tenant', 'id'])
    .execute();
  // Lookup (pseudonym [+ category]) and idempotency in one index.
  await db.schema.createIndex('gf_localisation_key').ifNotExists().unique().on('gf_localisation').columns(['tenant', 'pseudonym', 'category', 'custodian']).execute();
  // Search by pseudonym in id order (keyset paging) without a sort or a scan of the primary key.
  await db.schema.createIndex('gf_localisation_subject').ifNotExists().on('gf_localisation').columns(['tenant', 'pseudonym', 'id']).execute();
  // A custodian's own records by registering installation (reconciliation), keyset-paged by id.
  await db.schema.createIndex('gf_localisation_custodian').ifNotExists().on('gf_localisation').columns(['tenant', 'custodian', 'source', 'id']).execute();
}

const toEntry = (r: LocalisationTable): StoredEntry & { pseudonym: string } => ({ id: r.id, pseudonym: r.pseudonym, category: r.category, custodian: r.custodian, source: r.source, lastUpdated: r.last_updated });

export interface Page {
  entries: StoredEntry[];
  /** Last id of this page when more may follow. */
  next?: string;
}

export class LocalisationStore {
  readonly db: Kysely<LocalisationTables>;
  constructor(
    db: AnyKysely,
    readonly tenant = NVI_TENANT,
  ) {
    this.db = db as Kysely<LocalisationTables>;
  }

  /** Inserts unless the (pseudonym, category, custodian) entry exists; returns the entry either way. */
  async register(e: { pseudonym: string; category: string; custodian: string; source: string }): Promise<{ created: boolean; entry: StoredEntry }> {
    const row: LocalisationTable = { tenant: this.tenant, id: randomUUID(), pseudonym: e.pseudonym, category: e.category, custodian: e.custodian, source: e.source, last_updated: new Date().toISOString() };
    const inserted = await this.db
      .insertInto('gf_localisation')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant', 'pseudonym', 'category', 'custodian']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { created: true, entry: toEntry(row) };
    const existing = await this.db
      .selectFrom('gf_localisation')
      .selectAll()
      .where('tenant', '=', this.tenant)
      .where('pseudonym', '=', e.pseudonym)
      .where('category', '=', e.category)
      .where('custodian', '=', e.custodian)
      .executeTakeFirstOrThrow();
    return { created: false, entry: toEntry(existing) };
  }

  async get(id: string): Promise<(StoredEntry & { pseudonym: string }) | undefined> {
    const r = await this.db.selectFrom('gf_localisation').selectAll().where('tenant', '=', this.tenant).where('id', '=', id).executeTakeFirst();
    return r ? toEntry(r) : undefined;
  }

  async deleteById(id: string): Promise<void> {
    await this.db.deleteFrom('gf_localisation').where('tenant', '=', this.tenant).where('id', '=', id).execute();
  }

  /** Deletes a custodian's entries for a pseudonym (and categories); returns how many went. */
  async deleteWhere(q: { pseudonym: string; categories?: string[]; custodian: string; source?: string }): Promise<number> {
    let d = this.db.deleteFrom('gf_localisation').where('tenant', '=', this.tenant).where('pseudonym', '=', q.pseudonym).where('custodian', '=', q.custodian);
    if (q.categories?.length) d = d.where('category', 'in', q.categories);
    if (q.source) d = d.where('source', '=', q.source);
    const r = await d.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Search: by pseudonym (± categories ± source), or — for a custodian's own records — by source. */
  async search(q: { pseudonym?: string; categories?: string[]; source?: string; custodian?: string; after?: string; limit: number }): Promise<Page> {
    let s = this.db.selectFrom('gf_localisation').select(['id', 'category', 'custodian', 'source', 'last_updated']).where('tenant', '=', this.tenant);
    if (q.pseudonym !== undefined) s = s.where('pseudonym', '=', q.pseudonym);
    if (q.categories?.length) s = s.where('category', 'in', q.categories);
    if (q.source !== undefined) s = s.where('source', '=', q.source);
    if (q.custodian !== undefined) s = s.where('custodian', '=', q.custodian);
    if (q.after !== undefined) s = s.where('id', '>', q.after);
    const rows = await s.orderBy('id').limit(q.limit + 1).execute();
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit).map((r) => ({ id: r.id, category: r.category, custodian: r.custodian, source: r.source, lastUpdated: r.last_updated }));
    return { entries: page, next: more ? page[page.length - 1].id : undefined };
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('gf_localisation').select(sql<number>`count(*)`.as('n')).where('tenant', '=', this.tenant).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Runs fn atomically (transaction bundles). */
  async atomically<T>(fn: (store: LocalisationStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new LocalisationStore(trx, this.tenant)));
  }
}
