/**
 * _include / _revinclude (with :iterate). Works in rounds: round 1 applies every spec to the page's matches;
 * later rounds apply only the :iterate specs to what the previous round added, until nothing new appears
 * (bounded by MAX_ROUNDS and MAX_INCLUDES). Reference lookups go through idx_reference and every query
 * carries the tenant; with a compartment, included resources of patient-data types must be in it
 * (Practitioner, Organization, Medication, Location … are not patient data and may be included).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { IncludeSpec, SearchRequest } from './parse.ts';
import { inCompartment, isCompartmentType } from './compartment.ts';

export interface Row {
  type: string;
  id: string;
  content: string;
}

export interface IncludeCtx {
  db: Kysely<Database>;
  tenant: string;
  compartment?: { type: 'Patient'; id: string };
}

const MAX_ROUNDS = 5;
export const MAX_INCLUDES = 5000;
const ID_CHUNK = 500;

const key = (type: string, id: string) => `${type}/${id}`;

function groupByType(rows: { type: string; id: string }[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) {
    const ids = m.get(r.type) ?? [];
    ids.push(r.id);
    m.set(r.type, ids);
  }
  return m;
}

function chunk<T>(xs: T[], n = ID_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** References followed forward from `sources` by one include spec. */
async function forwardTargets(ctx: IncludeCtx, spec: IncludeSpec, sources: Row[]): Promise<{ type: string; id: string }[]> {
  const out: { type: string; id: string }[] = [];
  for (const [type, ids] of groupByType(sources)) {
    if (spec.sourceType !== '*' && spec.sourceType !== type) continue;
    for (const part of chunk(ids)) {
      const conds: RawBuilder<unknown>[] = [sql`x.tenant = ${ctx.tenant}`, sql`x.type = ${type}`, sql`x.id IN (${sql.join(part)})`, sql`x.url IS NULL`, sql`x.target_id IS NOT NULL`];
      if (spec.param) conds.push(sql`x.param = ${spec.param.code}`);
      if (spec.targetType) conds.push(sql`x.target_type = ${spec.targetType}`);
      const { rows } = await sql<{ type: string; id: string }>`SELECT DISTINCT x.target_type AS type, x.target_id AS id FROM idx_reference AS x WHERE ${sql.join(conds, sql` AND `)}`.execute(ctx.db);
      out.push(...rows);
    }
  }
  return out;
}

/** Resources (of spec.sourceType) whose reference parameter points at one of `targets`. */
async function reverseSources(ctx: IncludeCtx, spec: IncludeSpec, targets: Row[]): Promise<{ type: string; id: string }[]> {
  const out: { type: string; id: string }[] = [];
  for (const [type, ids] of groupByType(targets)) {
    if (spec.targetType && spec.targetType !== type) continue;
    for (const part of chunk(ids)) {
      const conds: RawBuilder<unknown>[] = [sql`x.tenant = ${ctx.tenant}`, sql`x.target_type = ${type}`, sql`x.target_id IN (${sql.join(part)})`, sql`x.url IS NULL`];
      if (spec.sourceType !== '*') conds.push(sql`x.type = ${spec.sourceType}`);
      if (spec.param) conds.push(sql`x.param = ${spec.param.code}`);
      const { rows } = await sql<{ type: string; id: string }>`SELECT DISTINCT x.type AS type, x.id AS id FROM idx_reference AS x WHERE ${sql.join(conds, sql` AND `)}`.execute(ctx.db);
      out.push(...rows);
    }
  }
  return out;
}

/** Load live resources by type/id, within tenant and (for patient-data types) compartment. */
export async function fetchResources(ctx: IncludeCtx, refs: { type: string; id: string }[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const [type, ids] of groupByType(refs)) {
    for (const part of chunk([...new Set(ids)])) {
      const conds: RawBuilder<unknown>[] = [sql`r.tenant = ${ctx.tenant}`, sql`r.type = ${type}`, sql`r.id IN (${sql.join(part)})`, sql`r.deleted = 0`];
      if (ctx.compartment && isCompartmentType(type)) conds.push(inCompartment(ctx.tenant, 'r', type, ctx.compartment.id));
      const { rows } = await sql<Row>`SELECT r.type AS type, r.id AS id, r.content AS content FROM resources AS r WHERE ${sql.join(conds, sql` AND `)}`.execute(ctx.db);
      out.push(...rows);
    }
  }
  return out;
}

export async function resolveIncludes(ctx: IncludeCtx, req: Pick<SearchRequest, 'include' | 'revinclude'>, matches: Row[]): Promise<Row[]> {
  if (req.include.length === 0 && req.revinclude.length === 0) return [];
  const seen = new Set(matches.map((m) => key(m.type, m.id)));
  const included: Row[] = [];
  let frontier = matches;
  for (let round = 0; round < MAX_ROUNDS && frontier.length > 0; round++) {
    const inc = req.include.filter((s) => round === 0 || s.iterate);
    const rev = req.revinclude.filter((s) => round === 0 || s.iterate);
    if (inc.length === 0 && rev.length === 0) break;
    const wanted: { type: string; id: string }[] = [];
    for (const s of inc) wanted.push(...(await forwardTargets(ctx, s, frontier)));
    for (const s of rev) wanted.push(...(await reverseSources(ctx, s, frontier)));
    const fresh = wanted.filter((w) => {
      const k = key(w.type, w.id);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const rows = await fetchResources(ctx, fresh.slice(0, MAX_INCLUDES - included.length));
    included.push(...rows);
    frontier = rows;
    if (included.length >= MAX_INCLUDES) break;
  }
  return included;
}
