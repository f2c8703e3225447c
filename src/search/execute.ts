/**
 * Search execution: SearchRequest → one SQL query for the page (criteria, compartment, sort keys, keyset),
 * an optional count, then includes. Returns stored JSON text so the HTTP layer can splice it into the Bundle.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { Criterion, SearchRequest } from './parse.ts';
import { compileCriteria } from './compile.ts';
import { compartmentTypes, inCompartment, inCompartmentAnyType } from './compartment.ts';
import { decodeCursor, encodeCursor, keysetPredicate, orderBy, sortColumn, type KeyValue } from './sort.ts';
import { resolveIncludes, type Row } from './include.ts';
import { latestStopCriterion } from './latest-stop.ts';

type Sql = RawBuilder<unknown>;

export interface SearchContext {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  tenant: string;
  compartment?: { type: 'Patient'; id: string };
}

export interface SearchResult {
  matches: Row[];
  includes: Row[];
  total?: number;
  nextCursor?: string;
}

// MedMij clients (and the Nictiz qualification scripts) expect a patient's medication list in one page without _count.
export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 1000;
/** `_total=estimate` counts at most this many rows (then reports the cap). */
export const ESTIMATE_CAP = 10_000;

interface Plan {
  /** Tenant, liveness, type and compartment: always applied. */
  base: Sql[];
  /** The request's criteria (AND). */
  criteria: Sql[];
  types: string[];
  single?: string;
}

/** WHERE parts (on alias `r`) for everything but paging. Exported for $lastn and $everything. */
export function planWhere(ctx: SearchContext, type: string | undefined, req: Pick<SearchRequest, 'types' | 'criteria'>, extra: Criterion[] = []): Plan {
  const types = type ? [type] : req.types;
  const single = types.length === 1 ? types[0] : undefined;
  const typeExpr: Sql = single ? sql`${single}` : sql.ref('r.type');
  const base: Sql[] = [sql`r.tenant = ${ctx.tenant}`, sql`r.deleted = 0`];
  if (single) base.push(sql`r.type = ${single}`);
  else if (types.length > 0) base.push(sql`r.type IN (${sql.join(types)})`);
  if (ctx.compartment) {
    const pid = ctx.compartment.id;
    base.push(single ? inCompartment(ctx.tenant, 'r', single, pid) : inCompartmentAnyType(ctx.tenant, 'r', types.length > 0 ? types : compartmentTypes(), pid));
  }
  const criteria = compileCriteria({ tenant: ctx.tenant, dialect: ctx.dialect }, [...req.criteria, ...extra], 'r', typeExpr);
  return { base, criteria, types, single };
}

export function whereOf(plan: Plan, alsoMatching?: Sql): Sql {
  const crit = plan.criteria.length ? sql.join(plan.criteria, sql` AND `) : undefined;
  const parts = [...plan.base];
  if (crit && alsoMatching) parts.push(sql`((${crit}) OR ${alsoMatching})`);
  else if (crit) parts.push(crit);
  return sql.join(parts, sql` AND `);
}

export async function executeSearch(ctx: SearchContext, type: string | undefined, req: SearchRequest, page?: { cursor?: string }): Promise<SearchResult> {
  const count = Math.min(req.count ?? DEFAULT_COUNT, MAX_COUNT);
  const plan = planWhere(ctx, type, req);
  // MP9 is-latest-stop: also the latest stopped building block per treatment, even outside the criteria.
  const latest = req.latestStop && plan.single ? await latestStopCriterion(ctx, plan.single, req) : undefined;
  const where = whereOf(plan, latest);

  let total: number | undefined;
  if (req.total !== 'none') {
    const inner = sql`SELECT 1 AS one FROM resources AS r WHERE ${where}`;
    const q =
      req.total === 'accurate'
        ? sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM (${inner}) AS c`
        : sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM (${inner} LIMIT ${ESTIMATE_CAP}) AS c`;
    const { rows } = await q.execute(ctx.db);
    total = Number(rows[0]?.n ?? 0);
  }
  if (count === 0) return { matches: [], includes: [], total };

  // Sort keys k0..kn, then type and id as tie-breakers (non-null).
  const keys = req.sort.map((k) => sortColumn(k, 'r', ctx.tenant, ctx.dialect));
  const selectKeys = keys.map((k, i) => sql`${k.expr} AS ${sql.ref(`k${i}`)}`);
  const cols = [
    ...keys.map((k, i) => ({ ref: sql.ref(`q.k${i}`) as Sql, desc: k.desc, nullable: req.sort[i].code !== '_id' && req.sort[i].code !== '_lastUpdated' })),
    { ref: sql.ref('q.type') as Sql, desc: false, nullable: false },
    { ref: sql.ref('q.id') as Sql, desc: false, nullable: false },
  ];
  const inner = sql`SELECT r.type AS type, r.id AS id, r.content AS content${selectKeys.length ? sql`, ${sql.join(selectKeys)}` : sql``} FROM resources AS r WHERE ${where}`;
  let after: Sql = sql`1 = 1`;
  if (page?.cursor) after = keysetPredicate(cols, decodeCursor(page.cursor, cols.length).k);
  const q = sql<Row & Record<string, KeyValue>>`SELECT * FROM (${inner}) AS q WHERE ${after} ORDER BY ${orderBy(cols)} LIMIT ${count + 1}`;
  const { rows } = await q.execute(ctx.db);

  let nextCursor: string | undefined;
  if (rows.length > count) {
    rows.length = count;
    const last = rows[count - 1];
    nextCursor = encodeCursor({ k: [...keys.map((_, i) => normKey(last[`k${i}`])), last.type, last.id] });
  }
  const matches: Row[] = rows.map((r) => ({ type: r.type, id: r.id, content: r.content }));
  const includes = await resolveIncludes({ db: ctx.db, tenant: ctx.tenant, compartment: ctx.compartment }, req, matches);
  return { matches, includes, total, nextCursor };
}

function normKey(v: unknown): KeyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return String(v);
}
