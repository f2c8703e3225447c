/**
 * `search` — typical FHIR searches with parameters drawn from the loaded data, after the search scenario of
 * Health Samurai's FHIR server performance benchmark (k6/search.js + search/searchConfig.js): per iteration
 * every search of the set runs once, each with a random value from a list and, where the set has them, a random
 * modifier (string: '' or ':contains') or prefix (date: '', eq, lt, gt, ge, le, sa, eb), `_count=20`; one value
 * per list matches nothing (HS: 'NON-EXISTS', the year 2070, 'missing-data|for-null-searches').
 * HS's values are Synthea's (Massachusetts names, towns, hospitals); here they come from the synthetic Dutch
 * region's bench tenant. Added from Blaze's load tests: the first page of Patients and a code search counted
 * with `_summary=count`; and a BSN identifier lookup (the common Dutch entry point).
 */
import type { Bundle } from 'fhir/r4';
import { pick, q, rng } from './common.ts';
import { ensureRegion, pools, type Pools } from './region.ts';
import type { Ctx, MixStep, RequestMix, Scenario } from './types.ts';

const COUNT = 20;
const DATE_PREFIXES = ['', 'eq', 'lt', 'gt', 'ge', 'le', 'sa', 'eb'];
const STRING_MODIFIERS = ['', ':contains'];
const NONE = 'NON-EXISTS';

interface SearchDef {
  kind: string;
  type: string;
  param(random: () => number, p: Pools): string;
}

function withNone(values: string[], none: string): string[] {
  return [none, ...values.slice(0, 20)];
}

export const SEARCHES: SearchDef[] = [
  // HS "string"
  { kind: 'Patient?name', type: 'Patient', param: (r, p) => `name${pick(r, STRING_MODIFIERS)}=${q(pick(r, withNone([...p.families, ...p.givens], NONE)))}` },
  { kind: 'Patient?address', type: 'Patient', param: (r, p) => `address${pick(r, STRING_MODIFIERS)}=${q(pick(r, withNone(p.cities, NONE)))}` },
  { kind: 'Organization?name', type: 'Organization', param: (r, p) => `name${pick(r, STRING_MODIFIERS)}=${q(pick(r, withNone(p.organisationNames, NONE)))}` },
  // HS "date"
  { kind: 'Patient?birthdate', type: 'Patient', param: (r, p) => `birthdate=${pick(r, DATE_PREFIXES)}${pick(r, withNone(p.birthDates, '2070-01-01'))}` },
  { kind: 'Observation?date', type: 'Observation', param: (r, p) => `date=${pick(r, DATE_PREFIXES)}${q(pick(r, withNone(p.observationDates, '2070-01-01T00:00:00')))}` },
  { kind: 'Encounter?date', type: 'Encounter', param: (r, p) => `date=${pick(r, DATE_PREFIXES)}${pick(r, withNone(p.encounterDates, '2070-01-01'))}` },
  // HS "token": code only, system|code, and one that matches nothing
  {
    kind: 'Observation?category',
    type: 'Observation',
    param: (r, p) => {
      const c = pick(r, p.observationCategories.length ? p.observationCategories : [{ system: 'x', code: 'x' }]);
      return `category=${q(pick(r, [c.code, `${c.system}|${c.code}`, 'missing-data|for-null-searches']))}`;
    },
  },
  // Blaze: first page of Patients; Observation code search, counted
  { kind: 'Patient (first page)', type: 'Patient', param: () => '' },
  { kind: 'Observation?code&_summary=count', type: 'Observation', param: (r, p) => `code=${q((({ system, code }) => `${system}|${code}`)(pick(r, p.observationCodes)))}&_summary=count` },
  // Dutch entry point
  { kind: 'Patient?identifier (BSN)', type: 'Patient', param: (r, p) => `identifier=${q(`http://fhir.nl/fhir/NamingSystem/bsn|${pick(r, p.bsns)}`)}` },
];

export const search: Scenario = {
  name: 'search',
  title: 'Health Samurai search set (string/date/token, modifiers and prefixes, _count=20) + Blaze first page and code count, on the region tenant',
  needs: ['region'],
  async setup(ctx: Ctx) {
    const region = await ensureRegion(ctx);
    pools(ctx, region);
  },
  requests(ctx: Ctx): RequestMix {
    const region = ctx.shared.get('region') as Awaited<ReturnType<typeof ensureRegion>>;
    const p = pools(ctx, region);
    const random = rng(ctx.opts.seed);
    const base = ctx.target.fhirPath(region.tenant);
    const sequence: MixStep[] = SEARCHES.map((s) => ({
      kind: s.kind,
      method: 'GET',
      // A searchset with entries, or a _summary=count total above 0.
      hit: (body) => {
        const b = JSON.parse(body) as Bundle;
        return (b.total ?? 0) > 0 || (b.entry ?? []).some((e) => e.search?.mode !== 'outcome' && e.resource?.resourceType !== 'OperationOutcome');
      },
      build: () => {
        const param = s.param(random, p);
        return { path: `${base}/${s.type}?${param ? `${param}&` : ''}_count=${COUNT}` };
      },
    }));
    return { sequence, total: 'all searches' };
  },
  report: () => [
    'search: one loop runs every search once (as HS k6/search.js), so the per-search req/s is the same for all kinds; compare their latencies.',
  ],
};
