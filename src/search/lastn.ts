/**
 * Observation/$lastn: for each patient (subject) and code, the `max` most recent Observations matching the
 * request's criteria. One query with ROW_NUMBER() OVER (PARTITION BY subject, code ORDER BY date DESC),
 * supported by both SQLite (3.25+) and PostgreSQL. An Observation with several codings belongs to each of
 * its code groups; it is returned once.
 */
import { sql } from 'kysely';
import type { SearchRequest } from './parse.ts';
import { planWhere, whereOf, type SearchContext, type SearchResult } from './execute.ts';
import { resolveIncludes, type Row } from './include.ts';

export async function observationLastN(ctx: SearchContext, req: SearchRequest, max: number): Promise<SearchResult> {
  const n = Math.max(1, Math.floor(max || 1));
  const plan = planWhere(ctx, 'Observation', req);
  const q = sql<Row & { rn: number }>`
    SELECT q.type, q.id, q.content, q.rn FROM (
      SELECT r.type AS type, r.id AS id, r.content AS content,
        ROW_NUMBER() OVER (
          PARTITION BY s.target_type, s.target_id, c.system, c.code
          ORDER BY (SELECT MAX(d.high) FROM idx_date AS d${ctx.dialect === 'sqlite' ? sql` INDEXED BY idx_date_owner` : sql``} WHERE d.tenant = r.tenant AND d.type = r.type AND d.id = r.id AND d.param = 'date') DESC, r.id
        ) AS rn
      FROM resources AS r
      JOIN idx_reference AS s ON s.tenant = r.tenant AND s.type = r.type AND s.id = r.id AND s.param = 'subject' AND s.target_id IS NOT NULL
      JOIN idx_token AS c ON c.tenant = r.tenant AND c.type = r.type AND c.id = r.id AND c.param = 'code' AND c.code IS NOT NULL
      WHERE ${whereOf(plan)}
    ) AS q WHERE q.rn <= ${n} ORDER BY q.id`;
  const { rows } = await q.execute(ctx.db);
  const seen = new Set<string>();
  const matches: Row[] = [];
  for (const r of rows) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    matches.push({ type: r.type, id: r.id, content: r.content });
  }
  const includes = await resolveIncludes({ db: ctx.db, tenant: ctx.tenant, compartment: ctx.compartment }, req, matches);
  return { matches, includes, total: req.total !== 'none' ? matches.length : undefined };
}
