/**
 * Sorting and keyset paging. Each sort key is a scalar per resource (a correlated MIN/MAX over its index
 * rows, or a resources column); the resource type and id are always appended as the final tie-breakers, so
 * the order is total and a cursor (the key values of the last row) identifies the next page exactly —
 * no OFFSET, stable under concurrent inserts, no duplicates or gaps across pages.
 * Missing values sort last in both directions (NULLS LAST, emulated in the keyset predicate).
 */
import { sql, type RawBuilder } from 'kysely';
import { badRequest } from '../fhir/outcome.ts';
import type { SortKey } from './parse.ts';
import { effectiveType } from './parse.ts';

type Sql = RawBuilder<unknown>;
export type KeyValue = string | number | null;

export interface SortColumn {
  expr: Sql;
  desc: boolean;
}

const SORT_SOURCE: Record<string, { table: string; asc: string; desc: string }> = {
  string: { table: 'idx_string', asc: 'value', desc: 'value' },
  token: { table: 'idx_token', asc: 'code', desc: 'code' },
  date: { table: 'idx_date', asc: 'low', desc: 'high' },
  number: { table: 'idx_number', asc: 'low', desc: 'high' },
  quantity: { table: 'idx_number', asc: 'low', desc: 'high' },
  uri: { table: 'idx_uri', asc: 'value', desc: 'value' },
  reference: { table: 'idx_reference', asc: 'target_id', desc: 'target_id' },
};

/**
 * SQL for one sort key of row `r`: ascending uses the smallest value, descending the largest.
 * A correlated MIN/MAX over the resource's own index rows: cost proportional to the matching resources
 * (a join on a per-resource aggregate would aggregate the whole type even when 50 resources match).
 * On SQLite the owner index is named explicitly: without statistics its planner would probe through the
 * (tenant, param, type, value) index and turn the sort into N × N work.
 */
export function sortColumn(key: SortKey, r: string, tenant: string, dialect: 'sqlite' | 'postgres'): SortColumn {
  if (key.code === '_id') return { expr: sql.ref(`${r}.id`), desc: key.desc };
  if (key.code === '_lastUpdated') return { expr: sql.ref(`${r}.last_updated`), desc: key.desc };
  const src = SORT_SOURCE[effectiveType(key.param!)];
  const c = key.desc ? src.desc : src.asc;
  const agg = key.desc ? sql`MAX(${sql.ref(`s.${c}`)})` : sql`MIN(${sql.ref(`s.${c}`)})`;
  const hint = dialect === 'sqlite' ? sql` INDEXED BY ${sql.raw(`${src.table}_owner`)}` : sql``;
  const expr = sql`(SELECT ${agg} FROM ${sql.table(src.table)} AS s${hint} WHERE s.tenant = ${tenant} AND s.type = ${sql.ref(`${r}.type`)} AND s.id = ${sql.ref(`${r}.id`)} AND s.param = ${key.param!.code})`;
  return { expr, desc: key.desc };
}

export interface Cursor {
  /** Values of the sort keys, then type and id of the last row of the previous page. */
  k: KeyValue[];
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(s: string, nKeys: number): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (!Array.isArray(c.k) || c.k.length !== nKeys || !c.k.every((v) => v === null || typeof v === 'string' || typeof v === 'number')) throw new Error('shape');
    return c;
  } catch {
    throw badRequest('Invalid paging cursor', '_cursor');
  }
}

/**
 * Rows strictly after the cursor in the order (k1 dir1 NULLS LAST, …, type, id):
 *   OR over i of (k1 = c1 AND … AND k(i-1) = c(i-1) AND ki after ci)
 * where, with NULLS LAST, "after a null" is impossible and every null is after a non-null.
 */
export function keysetPredicate(cols: { ref: Sql; desc: boolean; nullable: boolean }[], values: KeyValue[]): Sql {
  const disjuncts: Sql[] = [];
  const eqs: Sql[] = [];
  for (let i = 0; i < cols.length; i++) {
    const { ref, desc, nullable } = cols[i];
    const v = values[i];
    if (v === null) {
      eqs.push(sql`${ref} IS NULL`);
      continue;
    }
    const after = desc ? sql`${ref} < ${v}` : sql`${ref} > ${v}`;
    const afterOrNull = nullable ? sql`(${after} OR ${ref} IS NULL)` : after;
    disjuncts.push(eqs.length ? sql`(${sql.join([...eqs, afterOrNull], sql` AND `)})` : afterOrNull);
    eqs.push(sql`${ref} = ${v}`);
  }
  return disjuncts.length ? sql`(${sql.join(disjuncts, sql` OR `)})` : sql`1 = 0`;
}

export function orderBy(cols: { ref: Sql; desc: boolean; nullable: boolean }[]): Sql {
  return sql.join(
    cols.map((c) => {
      const dir = c.desc ? sql`DESC` : sql`ASC`;
      // Explicit NULLS LAST: PostgreSQL puts nulls first for DESC by default, SQLite first for ASC.
      return c.nullable ? sql`${c.ref} ${dir} NULLS LAST` : sql`${c.ref} ${dir}`;
    }),
  );
}
