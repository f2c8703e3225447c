/**
 * Patient/$everything: every resource in the patient's compartment (optionally only some types and only
 * changed since a moment), paged by cursor, plus the non-patient resources they reference (Practitioner,
 * Organization, Medication, …) as includes — which the compartment rules of the include step permit.
 */
import type { Criterion, SearchRequest } from './parse.ts';
import { executeSearch, type SearchContext, type SearchResult } from './execute.ts';
import { compartmentTypes } from './compartment.ts';
import { getSearchParam } from './registry.ts';
import { dateRange } from './normalize.ts';
import { badRequest } from '../fhir/outcome.ts';

export async function patientEverything(
  ctx: Omit<SearchContext, 'compartment'>,
  patientId: string,
  opts: { since?: string; types?: string[]; count?: number; cursor?: string } = {},
): Promise<SearchResult> {
  const all = compartmentTypes();
  const types = opts.types && opts.types.length > 0 ? opts.types.filter((t) => all.includes(t)) : all;
  const criteria: Criterion[] = [];
  if (opts.since) {
    const range = dateRange(opts.since);
    if (!range) throw badRequest(`Invalid _since '${opts.since}'`, '_since');
    criteria.push({
      kind: 'param',
      types,
      param: getSearchParam(undefined, '_lastUpdated')!,
      values: [{ kind: 'date', prefix: 'ge', range: { low: range.low, high: range.low }, raw: opts.since }],
    });
  }
  const req: SearchRequest = {
    types,
    criteria,
    include: [{ sourceType: '*', iterate: false }],
    revinclude: [],
    sort: [],
    count: opts.count ?? 100,
    total: 'none',
    latestStop: false,
    applied: [],
    ignored: [],
  };
  return executeSearch({ ...ctx, compartment: { type: 'Patient', id: patientId } }, undefined, req, { cursor: opts.cursor });
}
