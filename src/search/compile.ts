/**
 * Criteria → SQL. Each criterion becomes a membership test of the resource row `r` in a set of ids drawn
 * from an index table: `r.id IN (SELECT id FROM idx_… WHERE tenant = $t AND type = $T AND param = $p AND …)`.
 * Non-correlated sets let both planners use the (tenant, param, type, value) indexes once per query instead
 * of probing per row. Chains and `_has` nest such sets; every nested SELECT carries the tenant predicate.
 *
 * The type is a literal for typed search and `r.type` (correlated) for a system search over several types.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Criterion, DateValue, LeafValue, NumberValue, ReferenceValue, TokenValue } from './parse.ts';
import { effectiveType } from './parse.ts';
import type { IndexTableName } from './index-tables.ts';
import type { SearchParamType } from './registry.ts';
import { prefixUpperBound } from './normalize.ts';
import { canonicalUnit } from './extract.ts';

type Sql = RawBuilder<unknown>;

export interface CompileCtx {
  tenant: string;
  dialect: 'sqlite' | 'postgres';
}

const TABLE: Record<SearchParamType, IndexTableName | undefined> = {
  string: 'idx_string',
  token: 'idx_token',
  reference: 'idx_reference',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_number',
  uri: 'idx_uri',
  composite: 'idx_composite',
  special: undefined,
};

const TRUE: Sql = sql`1 = 1`;
const FALSE: Sql = sql`1 = 0`;

const or = (xs: Sql[]): Sql => (xs.length === 0 ? FALSE : xs.length === 1 ? xs[0] : sql`(${sql.join(xs, sql` OR `)})`);
const and = (xs: Sql[]): Sql => (xs.length === 0 ? TRUE : xs.length === 1 ? xs[0] : sql`(${sql.join(xs, sql` AND `)})`);
const col = (alias: string, c: string): Sql => sql.ref(`${alias}.${c}`);

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** Starts-with on a normalised column as a range scan (index-friendly in both engines). */
function startsWith(column: Sql, prefix: string): Sql {
  return sql`(${column} >= ${prefix} AND ${column} < ${prefixUpperBound(prefix)})`;
}

// ---- per-type value predicates on one index row (alias `x`) ----------------------------------------------

function tokenPredicate(v: TokenValue, a: string, modifier?: string): Sql {
  if (v.text !== undefined) {
    // :text — word-prefix match on display/text: "hyper" matches "essential hypertension".
    const t = v.text;
    return sql`(${startsWith(col(a, 'text'), t)} OR ${col(a, 'text')} LIKE ${'% ' + likeEscape(t) + '%'} ESCAPE '\\')`;
  }
  const parts: Sql[] = [];
  if (v.code !== undefined) parts.push(sql`${col(a, 'code')} = ${v.code}`);
  if (v.system === null) parts.push(sql`${col(a, 'system')} IS NULL`);
  else if (v.system !== undefined) parts.push(sql`${col(a, 'system')} = ${v.system}`);
  if (modifier === 'of-type') {
    if (v.typeSystem !== undefined) parts.push(sql`${col(a, 'type_system')} = ${v.typeSystem}`);
    if (v.typeCode !== undefined) parts.push(sql`${col(a, 'type_code')} = ${v.typeCode}`);
  }
  return and(parts);
}

/**
 * Date prefixes against an indexed interval [low, high] and the search interval [ql, qh] (both closed):
 * eq = indexed within search; gt/lt = some part after/before the search range; ge/le = overlaps or
 * after/before; sa/eb = entirely after/before; ap = overlaps the search range widened by 10% of its
 * distance to now (at least a day).
 */
export function datePredicate(v: DateValue, low: Sql, high: Sql): Sql {
  const { low: ql, high: qh } = v.range;
  switch (v.prefix) {
    case 'eq':
      return sql`(${low} >= ${ql} AND ${high} <= ${qh})`;
    case 'ne':
      return sql`NOT (${low} >= ${ql} AND ${high} <= ${qh})`;
    case 'gt':
      return sql`${high} > ${qh}`;
    case 'lt':
      return sql`${low} < ${ql}`;
    case 'ge':
      return sql`${high} >= ${ql}`;
    case 'le':
      return sql`${low} <= ${qh}`;
    case 'sa':
      return sql`${low} > ${qh}`;
    case 'eb':
      return sql`${high} < ${ql}`;
    case 'ap': {
      const lo = Date.parse(ql);
      const hi = Date.parse(qh);
      const now = Date.now();
      const delta = Math.max(86_400_000, 0.1 * Math.abs(now - (lo + hi) / 2));
      const wl = new Date(Math.max(lo - delta, -62135596800000)).toISOString();
      const wh = new Date(Math.min(hi + delta, 253402300799999)).toISOString();
      return sql`(${low} <= ${wh} AND ${high} >= ${wl})`;
    }
  }
}

/**
 * Number prefixes: `eq` uses the precision of the search value ([low, high) implied by its significant
 * digits), the comparisons use the value itself. Indexed values are points or ranges (low/high).
 */
function numberRangePredicate(v: { prefix: NumberValue['prefix']; value: number; low: number; high: number }, low: Sql, high: Sql): Sql {
  // Open range ends are stored as ±1e308 (see extract.ts), so plain comparisons can use the indexes.
  const lo = low;
  const hi = high;
  switch (v.prefix) {
    case 'eq':
      return sql`(${lo} >= ${v.low} AND ${hi} < ${v.high})`;
    case 'ne':
      return sql`NOT (${lo} >= ${v.low} AND ${hi} < ${v.high})`;
    case 'gt':
      return sql`${hi} > ${v.value}`;
    case 'lt':
      return sql`${lo} < ${v.value}`;
    case 'ge':
      return sql`${hi} >= ${v.value}`;
    case 'le':
      return sql`${lo} <= ${v.value}`;
    case 'sa':
      return sql`${lo} > ${v.value}`;
    case 'eb':
      return sql`${hi} < ${v.value}`;
    case 'ap': {
      const d = Math.abs(v.value) * 0.1 || 0.1;
      return sql`(${lo} <= ${v.value + d} AND ${hi} >= ${v.value - d})`;
    }
  }
}

function quantityPredicate(v: NumberValue, a: string, cols = { low: 'low', high: 'high', system: 'system', code: 'code', unit: 'unit' as string | undefined }, canon = true): Sql {
  const raw: Sql[] = [numberRangePredicate(v, col(a, cols.low), col(a, cols.high))];
  if (v.system !== undefined) raw.push(sql`${col(a, cols.system)} = ${v.system}`);
  if (v.code !== undefined) {
    raw.push(cols.unit ? sql`(${col(a, cols.code)} = ${v.code} OR ${col(a, cols.unit)} = ${v.code})` : sql`${col(a, cols.code)} = ${v.code}`);
  }
  const conv = canon && v.code !== undefined && (v.system === undefined || v.system === 'http://unitsofmeasure.org') ? canonicalUnit(v.code) : undefined;
  if (!conv) return and(raw);
  // Same physical quantity in another unit (5 g matches 5000 mg): compare canonical values.
  const f = conv.factor;
  const cv = { prefix: v.prefix, value: v.value * f, low: v.low * f, high: v.high * f };
  const viaCanon = and([sql`${col(a, 'canon_code')} = ${conv.code}`, numberRangePredicate(cv, col(a, 'canon_low'), col(a, 'canon_high'))]);
  return or([and(raw), viaCanon]);
}

function referencePredicate(v: ReferenceValue, a: string, typeModifier: string | undefined, targets: string[]): Sql {
  if (v.identifier) {
    const t = v.identifier;
    const parts: Sql[] = [];
    if (t.code !== undefined) parts.push(sql`${col(a, 'ident_value')} = ${t.code}`);
    if (t.system === null) parts.push(sql`${col(a, 'ident_system')} IS NULL`);
    else if (t.system !== undefined) parts.push(sql`${col(a, 'ident_system')} = ${t.system}`);
    return and(parts);
  }
  if (v.url !== undefined) {
    const parts: Sql[] = [sql`${col(a, 'url')} = ${v.url}`];
    if (v.version !== undefined) parts.push(sql`${col(a, 'version')} = ${v.version}`);
    return and(parts);
  }
  const parts: Sql[] = [sql`${col(a, 'target_id')} = ${v.id}`, sql`${col(a, 'url')} IS NULL`];
  const type = v.type ?? typeModifier;
  if (type) parts.push(sql`${col(a, 'target_type')} = ${type}`);
  else if (targets.length > 0) parts.push(sql`${col(a, 'target_type')} IN (${sql.join(targets)})`);
  return and(parts);
}

function uriPredicate(value: string, a: string, modifier: string | undefined): Sql {
  const c = col(a, 'value');
  if (modifier === 'below') return startsWith(c, value);
  if (modifier === 'above') {
    // The indexed uri is a prefix of the search value at a path boundary (or equal).
    const prefixes = new Set<string>([value]);
    for (let i = value.indexOf('/', value.indexOf('//') + 2); i > 0; i = value.indexOf('/', i + 1)) prefixes.add(value.slice(0, i));
    return sql`${c} IN (${sql.join([...prefixes])})`;
  }
  return sql`${c} = ${value}`;
}

function componentPredicate(v: LeafValue, type: SearchParamType, a: string, i: number): Sql {
  const c = (s: string) => col(a, `c${i}_${s}`);
  switch (v.kind) {
    case 'token': {
      const parts: Sql[] = [];
      if (v.code !== undefined) parts.push(sql`${c('val')} = ${v.code}`);
      if (v.system === null) parts.push(sql`${c('sys')} IS NULL`);
      else if (v.system !== undefined) parts.push(sql`${c('sys')} = ${v.system}`);
      return and(parts);
    }
    case 'string':
      return startsWith(c('val'), v.normalized);
    case 'date':
      return datePredicate(v, c('lo'), c('hi'));
    case 'number': {
      const parts: Sql[] = [numberRangePredicate(v, c('nlo'), c('nhi'))];
      if (type === 'quantity') {
        if (v.system !== undefined) parts.push(sql`${c('sys')} = ${v.system}`);
        if (v.code !== undefined) parts.push(sql`${c('val')} = ${v.code}`);
      }
      return and(parts);
    }
    case 'reference':
      return v.id !== undefined ? and([sql`${c('val')} = ${v.id}`, ...(v.type ? [sql`${c('sys')} = ${v.type}`] : [])]) : sql`${c('val')} = ${v.url ?? ''}`;
    case 'uri':
      return sql`${c('val')} = ${v.value}`;
    case 'composite':
      return FALSE;
  }
}

function valuePredicate(v: LeafValue, crit: Extract<Criterion, { kind: 'param' }>, a: string): Sql {
  const modifier = crit.modifier;
  switch (v.kind) {
    case 'token':
      return tokenPredicate(v, a, modifier);
    case 'string':
      if (modifier === 'exact') return sql`(${col(a, 'value')} = ${v.normalized} AND ${col(a, 'exact')} = ${v.value})`;
      if (modifier === 'contains') return sql`${col(a, 'value')} LIKE ${'%' + likeEscape(v.normalized) + '%'} ESCAPE '\\'`;
      return startsWith(col(a, 'value'), v.normalized);
    case 'date':
      return datePredicate(v, col(a, 'low'), col(a, 'high'));
    case 'number':
      return crit.param.type === 'quantity' ? quantityPredicate(v, a) : numberRangePredicate(v, col(a, 'low'), col(a, 'high'));
    case 'reference': {
      const typeMod = modifier && /^[A-Z]/.test(modifier) ? modifier : undefined;
      return referencePredicate(v, a, typeMod, crit.param.targets);
    }
    case 'uri':
      return uriPredicate(v.value, a, modifier);
    case 'composite': {
      const comps = crit.param.components ?? [];
      return and(v.parts.map((p, i) => componentPredicate(p, comps[i]?.param.type ?? 'token', a, i + 1)));
    }
  }
}

// ---- id sets ------------------------------------------------------------------------------------------------

let aliasSeq = 0;
const nextAlias = () => `x${++aliasSeq % 1_000_000}`;

/** `SELECT id FROM <table> x WHERE tenant AND type AND param AND <where>` */
function idSet(ctx: CompileCtx, table: IndexTableName, typeExpr: Sql, code: string, where: (a: string) => Sql): Sql {
  const a = nextAlias();
  return sql`SELECT ${col(a, 'id')} FROM ${sql.table(table)} AS ${sql.raw(a)} WHERE ${col(a, 'tenant')} = ${ctx.tenant} AND ${col(a, 'type')} = ${typeExpr} AND ${col(a, 'param')} = ${code} AND ${where(a)}`;
}

/** `EXISTS (SELECT 1 FROM <table> x WHERE x is a row of resource r for param AND <where>)` — an owner-index probe. */
function probe(ctx: CompileCtx, table: IndexTableName, r: string, typeExpr: Sql, code: string, where: (a: string) => Sql): Sql {
  const a = nextAlias();
  // Without ANALYZE statistics SQLite may probe through a value index whose range matches most rows
  // (e.g. low < X), making the probe a scan per candidate; the owner index is always the right one.
  const hint = ctx.dialect === 'sqlite' ? sql` INDEXED BY ${sql.raw(`${table}_owner`)}` : sql``;
  return sql`EXISTS (SELECT 1 FROM ${sql.table(table)} AS ${sql.raw(a)}${hint} WHERE ${col(a, 'tenant')} = ${ctx.tenant} AND ${col(a, 'type')} = ${typeExpr} AND ${col(a, 'id')} = ${col(r, 'id')} AND ${col(a, 'param')} = ${code} AND ${where(a)})`;
}

/**
 * How selective a criterion probably is (lower = fewer rows): the most selective one drives the query as
 * an id set (`r.id IN (…)`), the others are checked per candidate through the owner index (`EXISTS`).
 * SQLite plans IN-subqueries in written order and materialises all of them, so a broad one (a code shared
 * by a third of all Observations, an open date range) would otherwise be built in full on every search.
 * PostgreSQL turns both forms into semi-joins and plans them itself.
 */
export function criterionRank(c: Criterion): number {
  if (c.kind === 'chain') return 1.5; // usually a name or identifier of the target: selective
  if (c.kind === 'has') return 4;
  if (c.missing !== undefined || c.modifier === 'not' || c.modifier === 'text' || c.modifier === 'contains' || c.modifier === 'below' || c.modifier === 'above') return 9;
  if (c.param.special === 'id') return 0;
  if (c.param.special === 'lastUpdated') return 6;
  switch (effectiveType(c.param)) {
    case 'reference':
    case 'uri':
      return 1;
    case 'token':
      return c.values.every((v) => v.kind === 'token' && v.code !== undefined && v.system !== undefined) ? 1 : 2;
    case 'composite':
      return 2;
    case 'string':
      return 3;
    default:
      return 5;
  }
}

/** All criteria of one resource alias, the most selective as the driving id set. */
export function compileCriteria(ctx: CompileCtx, criteria: Criterion[], r: string, typeExpr: Sql): Sql[] {
  const ranked = criteria.map((c) => ({ c, rank: criterionRank(c) })).sort((a, b) => a.rank - b.rank);
  return ranked.map(({ c, rank }, i) => compileCriterion(ctx, c, r, typeExpr, i === 0 && rank < 9 ? 'in' : 'exists'));
}

/**
 * Boolean SQL: does resource row `r` (alias given) satisfy criterion `c`? `typeExpr` is the SQL for r's type.
 * `mode` chooses the id-set (`in`) or per-row probe (`exists`) form; negations always probe.
 */
export function compileCriterion(ctx: CompileCtx, c: Criterion, r: string, typeExpr: Sql, mode: 'in' | 'exists' = 'in'): Sql {
  const rid = col(r, 'id');
  switch (c.kind) {
    case 'param': {
      const type = effectiveType(c.param);
      if (c.param.special === 'id') {
        const ids = c.values.map((v) => (v.kind === 'token' ? (v.code ?? '') : ''));
        if (c.missing !== undefined) return c.missing ? FALSE : TRUE;
        return sql`${rid} IN (${sql.join(ids)})`;
      }
      if (c.param.special === 'lastUpdated') {
        if (c.missing !== undefined) return c.missing ? FALSE : TRUE;
        const lu = col(r, 'last_updated');
        return or(c.values.map((v) => (v.kind === 'date' ? datePredicate(v, lu, lu) : FALSE)));
      }
      const table = TABLE[type];
      if (!table) return FALSE;
      const code = c.param.code;
      if (c.missing !== undefined) {
        const p = probe(ctx, table, r, typeExpr, code, () => TRUE);
        return c.missing ? sql`NOT ${p}` : p;
      }
      if (c.modifier === 'not') {
        // :not — resources with no value matching (including those without a value at all).
        return sql`NOT ${probe(ctx, table, r, typeExpr, code, (a) => or(c.values.map((v) => valuePredicate(v, { ...c, modifier: undefined }, a))))}`;
      }
      const where = (a: string) => or(c.values.map((v) => valuePredicate(v, c, a)));
      return mode === 'in' ? sql`${rid} IN (${idSet(ctx, table, typeExpr, code, where)})` : probe(ctx, table, r, typeExpr, code, where);
    }
    case 'chain': {
      // Referencing rows whose target (of each allowed target type) satisfies the next criterion. One
      // branch per target type, combined with UNION ALL (id set) or OR (probe): an OR inside one index
      // scan would stop both engines from using the (…, target_id, target_type) index.
      const branch = (tt: string) => (a: string) => {
        const t = nextAlias();
        const inner = compileCriterion(ctx, c.next, t, sql`${tt}`);
        const targets = sql`SELECT ${col(t, 'id')} FROM resources AS ${sql.raw(t)} WHERE ${col(t, 'tenant')} = ${ctx.tenant} AND ${col(t, 'type')} = ${tt} AND ${col(t, 'deleted')} = 0 AND ${inner}`;
        return sql`${col(a, 'target_type')} = ${tt} AND ${col(a, 'url')} IS NULL AND ${col(a, 'target_id')} IN (${targets})`;
      };
      if (mode === 'in') {
        const sets = c.targetTypes.map((tt) => idSet(ctx, 'idx_reference', typeExpr, c.param.code, branch(tt)));
        return sql`${rid} IN (${sql.join(sets, sql` UNION ALL `)})`;
      }
      return or(c.targetTypes.map((tt) => probe(ctx, 'idx_reference', r, typeExpr, c.param.code, branch(tt))));
    }
    case 'has': {
      // Ids of our type referenced (through refParam) by a sourceType resource matching the next criterion.
      const s = nextAlias();
      const inner = compileCriterion(ctx, c.next, s, sql`${c.sourceType}`);
      const sources = sql`SELECT ${col(s, 'id')} FROM resources AS ${sql.raw(s)} WHERE ${col(s, 'tenant')} = ${ctx.tenant} AND ${col(s, 'type')} = ${c.sourceType} AND ${col(s, 'deleted')} = 0 AND ${inner}`;
      const a = nextAlias();
      const base = sql`FROM idx_reference AS ${sql.raw(a)} WHERE ${col(a, 'tenant')} = ${ctx.tenant} AND ${col(a, 'type')} = ${c.sourceType} AND ${col(a, 'param')} = ${c.refParam.code} AND ${col(a, 'target_type')} = ${typeExpr} AND ${col(a, 'url')} IS NULL`;
      return mode === 'in'
        ? sql`${rid} IN (SELECT ${col(a, 'target_id')} ${base} AND ${col(a, 'id')} IN (${sources}))`
        : sql`EXISTS (SELECT 1 ${base} AND ${col(a, 'target_id')} = ${rid} AND ${col(a, 'id')} IN (${sources}))`;
    }
  }
}
