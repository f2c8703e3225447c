/**
 * Narrowing: an answer keeps only the data categories the enforcement point allowed. Resources outside any
 * patient-data category (Medication, Organization, Practitioner…) stay: they describe, they are not about the patient.
 * A read of a refused category is a 403; a search simply has fewer entries (and no total, which would leak).
 */
import type { Bundle, Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.ts';
import type { FhirResponse } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import { categoriesOf } from '../localisation/categories.ts';

function allowed(resource: Resource, categories: Set<string>): boolean {
  const cats = categoriesOf(resource);
  return cats.length === 0 || cats.some((c) => categories.has(c));
}

export function narrow(res: FhirResponse, categories: Set<string>): FhirResponse {
  if (!res.body) return res;
  const body = (isRaw(res.body) ? JSON.parse(res.body.raw) : res.body) as Resource;
  if (body.resourceType === 'Bundle') {
    const bundle = body as Bundle;
    const before = bundle.entry?.length ?? 0;
    const kept = (bundle.entry ?? []).filter((e) => !e.resource || e.resource.resourceType === 'OperationOutcome' || allowed(e.resource, categories));
    // Nothing removed: the answer goes out as it came (a raw body is written without serialising it again).
    if (kept.length === before) return res;
    bundle.entry = kept;
    delete bundle.total;
    return { ...res, body: bundle };
  }
  if (body.resourceType !== 'OperationOutcome' && !allowed(body, categories)) {
    throw FhirError.of(403, 'forbidden', `Access to this ${body.resourceType} is not allowed (data category ${categoriesOf(body).join(', ')})`);
  }
  return res;
}
