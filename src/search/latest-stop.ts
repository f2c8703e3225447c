/**
 * MP9 `is-latest-stop=true`: besides the normal matches, return per pharmaceutical treatment (MBH) the most
 * recently registered *stopped* building block of the searched kind, even when its period of use lies
 * outside the searched period. "Of the searched kind" = all criteria except period-of-use still apply
 * (category, patient, …). A building block is stopped when it carries the ext-StopType modifier extension
 * with "discontinued" (410546004) or "suspended" (385655000); "cancelled" (89925002) is not a stop.
 */
import { sql, type RawBuilder } from 'kysely';
import type { SearchContext } from './execute.ts';
import { planWhere, whereOf } from './execute.ts';
import type { SearchRequest } from './parse.ts';

const STOP_TYPE = 'http://nictiz.nl/fhir/StructureDefinition/ext-StopType';
const MBH = 'http://nictiz.nl/fhir/StructureDefinition/ext-PharmaceuticalTreatment.Identifier';
const REGISTRATION = 'http://nictiz.nl/fhir/StructureDefinition/ext-RegistrationDateTime';
const STOP_CODES = new Set(['410546004', '385655000']);

interface Ext {
  url?: string;
  valueCodeableConcept?: { coding?: { code?: string }[] };
  valueIdentifier?: { system?: string; value?: string };
  valueDateTime?: string;
}

export async function latestStopCriterion(ctx: SearchContext, type: string, req: SearchRequest): Promise<RawBuilder<unknown> | undefined> {
  const criteria = req.criteria.filter((c) => !(c.kind === 'param' && c.param.special === 'period-of-use'));
  const plan = planWhere(ctx, type, { types: [type], criteria });
  const { rows } = await sql<{ id: string; content: string }>`SELECT r.id AS id, r.content AS content FROM resources AS r WHERE ${whereOf(plan)}`.execute(ctx.db);
  const best = new Map<string, { id: string; at: string }>();
  for (const row of rows) {
    const res = JSON.parse(row.content) as {
      extension?: Ext[];
      modifierExtension?: Ext[];
      authoredOn?: string;
      dateAsserted?: string;
      whenHandedOver?: string;
      meta?: { lastUpdated?: string };
    };
    const stop = (res.modifierExtension ?? []).find((e) => e.url === STOP_TYPE);
    if (!stop?.valueCodeableConcept?.coding?.some((c) => c.code && STOP_CODES.has(c.code))) continue;
    const mbh = (res.extension ?? []).find((e) => e.url === MBH)?.valueIdentifier;
    if (!mbh?.value) continue;
    const at = (res.extension ?? []).find((e) => e.url === REGISTRATION)?.valueDateTime ?? res.authoredOn ?? res.dateAsserted ?? res.meta?.lastUpdated ?? '';
    const key = `${mbh.system ?? ''}|${mbh.value}`;
    const cur = best.get(key);
    const atMs = Date.parse(at) || 0;
    if (!cur || atMs > (Date.parse(cur.at) || 0)) best.set(key, { id: row.id, at });
  }
  const ids = [...best.values()].map((b) => b.id);
  return ids.length > 0 ? sql`r.id IN (${sql.join(ids)})` : undefined;
}
