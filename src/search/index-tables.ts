/**
 * Search index tables: one narrow table per search-parameter type, one row per indexed value.
 *
 * Every row starts with the owning resource (`tenant, type, id`) and the SearchParameter code (`param`),
 * so the storage layer can replace a resource's rows inside the same transaction as the resource write,
 * and every query can (and must) carry the tenant predicate. Value indexes lead with (tenant, param, type)
 * because searches always know those three; the (tenant, type, id) index serves the delete-before-insert
 * of replaceIndexRows, `_include`, sorting and correlated lookups.
 *
 * Design choices that make the query side simple and engine-neutral:
 * - Dates are stored as a closed interval of ISO-8601 UTC strings with milliseconds (`low`..`high`), so a
 *   partial date ('2024') or a Period is a range and every prefix becomes two string comparisons, which
 *   sort lexicographically in both engines. Open period ends use '0001-…' / '9999-…' sentinels.
 * - Strings are stored normalised (lowercase, diacritics stripped) for the default starts-with search,
 *   as a range scan (value >= p AND value < succ(p)), plus the exact original for `:exact`.
 *   On PostgreSQL the text value columns use COLLATE "C" so range scans compare code points like SQLite.
 * - Numbers and quantities share one table (`idx_number`): a point value has low = high.
 */
import { CompiledQuery, PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Resource } from 'fhir/r4';
import type { Database } from '../storage/schema.ts';
import { extractIndexRows, type IndexRows } from './extract.ts';

interface Owner {
  tenant: string;
  type: string;
  id: string;
  param: string;
}

export interface IdxStringTable extends Owner {
  /** Lowercased, accent-stripped value (starts-with / :contains). */
  value: string;
  /** Original value (:exact). */
  exact: string;
}

export interface IdxTokenTable extends Owner {
  system: string | null;
  code: string | null;
  /** Normalised display / text for `:text`. */
  text: string | null;
  /** Identifier.type coding, for `identifier:of-type=typeSystem|typeCode|value`. */
  type_system: string | null;
  type_code: string | null;
}

export interface IdxReferenceTable extends Owner {
  /** Resource type of a local (relative) or absolute RESTful reference. */
  target_type: string | null;
  target_id: string | null;
  /** Absolute URL or canonical (without version) when the reference is not relative. */
  url: string | null;
  /** Canonical version (`url|version`). */
  version: string | null;
  /** Reference.identifier, for `:identifier`. */
  ident_system: string | null;
  ident_value: string | null;
}

export interface IdxDateTable extends Owner {
  low: string;
  high: string;
}

export interface IdxNumberTable extends Owner {
  low: number | null;
  high: number | null;
  system: string | null;
  code: string | null;
  unit: string | null;
  /** Value converted to a canonical UCUM unit (only for the few cheap conversions we know), with that unit. */
  canon_low: number | null;
  canon_high: number | null;
  canon_code: string | null;
}

export interface IdxUriTable extends Owner {
  value: string;
}

/**
 * Composite parameters (at most three components in R4). Each component uses the columns its type needs:
 * token → sys/val (+ txt), string → val (normalised), reference → sys = type, val = id,
 * date → lo/hi, number/quantity → nlo/nhi (+ sys/val = system/code).
 */
export interface IdxCompositeTable extends Owner {
  c1_sys: string | null;
  c1_val: string | null;
  c1_lo: string | null;
  c1_hi: string | null;
  c1_nlo: number | null;
  c1_nhi: number | null;
  c2_sys: string | null;
  c2_val: string | null;
  c2_lo: string | null;
  c2_hi: string | null;
  c2_nlo: number | null;
  c2_nhi: number | null;
  c3_sys: string | null;
  c3_val: string | null;
  c3_lo: string | null;
  c3_hi: string | null;
  c3_nlo: number | null;
  c3_nhi: number | null;
}

export interface IndexTables {
  idx_string: IdxStringTable;
  idx_token: IdxTokenTable;
  idx_reference: IdxReferenceTable;
  idx_date: IdxDateTable;
  idx_number: IdxNumberTable;
  idx_uri: IdxUriTable;
  idx_composite: IdxCompositeTable;
}

export type IndexTableName = keyof IndexTables;

type ColKind = 'text' | 'real';
/**
 * Column layout per table, after the owner columns: [name, kind, not null]. On PostgreSQL every text column
 * is COLLATE "C": range scans (starts-with on normalised strings, ISO date bounds, uri :below) then compare
 * code points as SQLite's BINARY does, and the columns joined with `resources` (owner columns,
 * target_type/target_id) have the same collation as its key columns (storage/migrate.ts declares them "C");
 * with differing collations PostgreSQL cannot use the resources primary key for `r.id IN (…)`.
 */
const COLUMNS: { [T in IndexTableName]: [Exclude<keyof IndexTables[T], keyof Owner> & string, ColKind, boolean][] } = {
  idx_string: [
    ['value', 'text', true],
    ['exact', 'text', true],
  ],
  idx_token: [
    ['system', 'text', false],
    ['code', 'text', false],
    ['text', 'text', false],
    ['type_system', 'text', false],
    ['type_code', 'text', false],
  ],
  idx_reference: [
    ['target_type', 'text', false],
    ['target_id', 'text', false],
    ['url', 'text', false],
    ['version', 'text', false],
    ['ident_system', 'text', false],
    ['ident_value', 'text', false],
  ],
  idx_date: [
    ['low', 'text', true],
    ['high', 'text', true],
  ],
  idx_number: [
    ['low', 'real', false],
    ['high', 'real', false],
    ['system', 'text', false],
    ['code', 'text', false],
    ['unit', 'text', false],
    ['canon_low', 'real', false],
    ['canon_high', 'real', false],
    ['canon_code', 'text', false],
  ],
  idx_uri: [['value', 'text', true]],
  idx_composite: (['c1', 'c2', 'c3'] as const).flatMap(
    (c) =>
      [
        [`${c}_sys`, 'text', false],
        [`${c}_val`, 'text', false],
        [`${c}_lo`, 'text', false],
        [`${c}_hi`, 'text', false],
        [`${c}_nlo`, 'real', false],
        [`${c}_nhi`, 'real', false],
      ] as [Exclude<keyof IdxCompositeTable, keyof Owner>, ColKind, boolean][],
  ),
};

/** Value indexes per table (after tenant, param, type). */
// Deliberately few: every index costs on each write. `:exact` also constrains the normalised `value`, and
// the rarer :text / :identifier filters run on the (tenant, param, type) prefix.
const VALUE_INDEXES: Record<IndexTableName, string[][]> = {
  idx_string: [['value']],
  idx_token: [['code', 'system']],
  idx_reference: [['target_id', 'target_type'], ['url']],
  idx_date: [['low'], ['high']],
  idx_number: [['low'], ['high']],
  idx_uri: [['value']],
  idx_composite: [['c1_val', 'c2_val']],
};

export const INDEX_TABLES = Object.keys(COLUMNS) as IndexTableName[];



function colType(kind: ColKind, dialect: 'sqlite' | 'postgres', collateC: boolean): RawBuilder<unknown> {
  if (kind === 'real') return dialect === 'postgres' ? sql`double precision` : sql`real`;
  return dialect === 'postgres' && collateC ? sql`text collate "C"` : sql`text`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- called by the storage migration with an untyped Kysely (schema DDL)
export async function createIndexTables(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  for (const table of INDEX_TABLES) {
    let ct = db.schema
      .createTable(table)
      .ifNotExists()
      .addColumn('tenant', colType('text', dialect, true), (c) => c.notNull())
      .addColumn('type', colType('text', dialect, true), (c) => c.notNull())
      .addColumn('id', colType('text', dialect, true), (c) => c.notNull())
      .addColumn('param', colType('text', dialect, true), (c) => c.notNull());
    for (const [name, kind, notNull] of COLUMNS[table]) {
      ct = ct.addColumn(name, colType(kind, dialect, true), (c) => (notNull ? c.notNull() : c));
    }
    await ct.execute();
    await db.schema
      .createIndex(`${table}_owner`)
      .ifNotExists()
      .on(table)
      .columns(['tenant', 'type', 'id', 'param'])
      .execute();
    if (dialect === 'postgres') await fixCollations(db, table);
    for (const cols of VALUE_INDEXES[table]) {
      await db.schema
        .createIndex(`${table}_${cols.join('_')}`)
        .ifNotExists()
        .on(table)
        .columns(['tenant', 'param', 'type', ...cols])
        .execute();
    }
  }
}

const VALUE_COLUMNS = Object.fromEntries(INDEX_TABLES.map((t) => [t, COLUMNS[t].map((c) => c[0] as string)])) as Record<IndexTableName, string[]>;

const sqlCache = new Map<string, string>();

/** `INSERT INTO t (…) VALUES (…), …` for n rows, with ? (SQLite) or $k (PostgreSQL) placeholders. */
function insertSql(table: IndexTableName, n: number, pg: boolean): string {
  const key = `${table}:${n}:${pg}`;
  let text = sqlCache.get(key);
  if (text) return text;
  const cols = ['tenant', 'type', 'id', 'param', ...VALUE_COLUMNS[table]];
  const tuples: string[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) tuples.push(`(${cols.map(() => (pg ? `$${++k}` : '?')).join(',')})`);
  text = `INSERT INTO ${table} (${cols.join(',')}) VALUES ${tuples.join(',')}`;
  // Keep the cache small: only full-chunk sizes recur; odd tail sizes are cheap to rebuild.
  if (sqlCache.size < 64) sqlCache.set(key, text);
  return text;
}

/**
 * A database created while some columns used the default collation gets them moved to "C" (PostgreSQL
 * rebuilds the affected indexes); a no-op on current databases.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema DDL on an untyped Kysely
async function fixCollations(db: Kysely<any>, table: IndexTableName): Promise<void> {
  const { rows } = await sql<{ column_name: string; collation_name: string | null }>`
    SELECT column_name, collation_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} AND data_type = 'text'`.execute(db);
  for (const r of rows) {
    if (r.collation_name === 'C') continue;
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(r.column_name)} TYPE text COLLATE "C"`.execute(db);
  }
}

/**
 * Parameters per INSERT: well under SQLite's 32766 and PostgreSQL's 65535 limits; a few hundred rows per
 * statement already amortise the round trip, and larger statements only cost more to prepare.
 */
const MAX_PARAMS = 8000;

export async function replaceIndexRows(
  trx: Kysely<Database>,
  tenant: string,
  items: { type: string; id: string; resource: Resource | null; isNew?: boolean }[],
): Promise<void> {
  if (items.length === 0) return;
  // Delete in chunks grouped by type: (tenant, type, id IN …) uses the owner index. A resource that never
  // existed before has no rows to delete (the common case of an import), so it skips this step.
  const byType = new Map<string, string[]>();
  for (const it of items) {
    if (it.isNew) continue;
    const ids = byType.get(it.type) ?? [];
    ids.push(it.id);
    byType.set(it.type, ids);
  }
  for (const table of INDEX_TABLES) {
    for (const [type, ids] of byType) {
      for (let i = 0; i < ids.length; i += 5000) {
        await trx
          .deleteFrom(table)
          .where('tenant', '=', tenant)
          .where('type', '=', type)
          .where('id', 'in', ids.slice(i, i + 5000))
          .execute();
      }
    }
  }
  // Flat parameter arrays per table, filled straight from the extracted rows: no per-row objects and no
  // query-builder AST for thousands of values (Kysely's insert parsing cost more than SQLite's inserts).
  const params = new Map<IndexTableName, unknown[]>(INDEX_TABLES.map((t) => [t, []]));
  for (const it of items) {
    if (!it.resource) continue;
    const rows: IndexRows = extractIndexRows(it.resource);
    for (const table of INDEX_TABLES) {
      const list = rows[table] as unknown as Record<string, unknown>[];
      if (list.length === 0) continue;
      const out = params.get(table)!;
      const cols = VALUE_COLUMNS[table];
      for (const r of list) {
        out.push(tenant, it.type, it.id, r.param);
        for (const c of cols) out.push(r[c] ?? null);
      }
    }
  }
  const pg = trx.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of INDEX_TABLES) {
    const values = params.get(table)!;
    if (values.length === 0) continue;
    const width = 4 + VALUE_COLUMNS[table].length;
    const perChunk = Math.max(1, Math.floor(MAX_PARAMS / width));
    const total = values.length / width;
    for (let start = 0; start < total; start += perChunk) {
      const n = Math.min(perChunk, total - start);
      const text = insertSql(table, n, pg);
      await trx.executeQuery(CompiledQuery.raw(text, values.slice(start * width, (start + n) * width)));
    }
  }
}
