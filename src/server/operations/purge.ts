/**
 * Patient/[id]/$purge: deletes a patient and every resource in the patient's compartment, as the
 * Interoplab/Nictiz qualification scripts use it before loading test data. Deletions are ordinary
 * versioned deletes (history is kept), committed in one transaction.
 */
import { operationOutcome } from '../../fhir/outcome.ts';
import { patientEverything } from '../../search/everything.ts';
import type { ServerDeps } from '../context.ts';
import type { FhirResponse, RequestScope } from '../types.ts';

export async function purgePatient(deps: ServerDeps, scope: RequestScope, id: string): Promise<FhirResponse> {
  const count = await deps.store.transaction(async (trx) => {
    const ctx = { db: trx, dialect: deps.engine.dialect, tenant: scope.tenant };
    const targets = new Map<string, { type: string; id: string }>([[`Patient/${id}`, { type: 'Patient', id }]]);
    let cursor: string | undefined;
    do {
      const page = await patientEverything(ctx, id, { count: 1000, cursor });
      for (const r of page.matches) targets.set(`${r.type}/${r.id}`, r);
      cursor = page.nextCursor;
    } while (cursor);
    const writes = [...targets.values()].map((r) => ({ type: r.type, id: r.id, resource: null, method: 'DELETE' as const }));
    const done = await deps.store.commit(trx, scope.tenant, writes);
    return done.filter((d) => !d.noop).length;
  });
  return {
    status: 200,
    headers: {},
    body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `Purged Patient/${id}: ${count} resources deleted` }]),
  };
}
