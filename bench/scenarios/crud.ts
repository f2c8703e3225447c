/**
 * `crud` — after the CRUD scenario of Health Samurai's FHIR server performance benchmark (k6/crud.js): every
 * iteration of a virtual user creates a small linked set of resources (Patient, Location, Organization,
 * Practitioner, then an Encounter referring to those, an Observation and a MedicationRequest referring to the
 * Patient and Encounter), reads each back, updates each (one field changed, PUT of the whole resource) and
 * deletes them in reverse order. HS also creates a Claim and an ExplanationOfBenefit (US claims data from
 * Synthea); they are left out here (no claims in Dutch care data, see docs/benchmarks.md). Runs on the region
 * tenant, so the tables already hold data.
 */
import { ensureRegion } from './region.ts';
import type { Ctx, MixStep, RequestMix, Scenario } from './types.ts';

type Json = Record<string, unknown>;

const SEEDS: Record<string, Json> = {
  Patient: {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.4.3.11.999.7.6', value: 'bench-crud' }],
    name: [{ family: 'Bench', given: ['Crud'] }],
    gender: 'female',
    birthDate: '1970-01-01',
    address: [{ city: 'Utrecht', postalCode: '3511 AA', country: 'NL' }],
  },
  Location: { resourceType: 'Location', status: 'active', name: 'Bench locatie', address: { city: 'Utrecht' } },
  Organization: { resourceType: 'Organization', active: true, name: 'Bench zorgaanbieder' },
  Practitioner: { resourceType: 'Practitioner', active: true, name: [{ family: 'Arts', given: ['Bench'] }], gender: 'male' },
  Encounter: {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    period: { start: '2024-03-01T10:00:00+01:00', end: '2024-03-01T10:15:00+01:00' },
  },
  Observation: {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    effectiveDateTime: '2024-03-01T10:05:00+01:00',
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  },
  MedicationRequest: {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.4.4.7', code: '2194', display: 'PARACETAMOL 500MG TABLET' }] },
    authoredOn: '2024-03-01',
  },
};

const ORDER = ['Patient', 'Location', 'Organization', 'Practitioner', 'Encounter', 'Observation', 'MedicationRequest'];

/** References to fill in from the ids created earlier in the same iteration (as HS's jsonPatch calls). */
function linked(type: string, c: Json): Json {
  const ref = (t: string) => ({ reference: `${t}/${String(c[t])}` });
  const seed = structuredClone(SEEDS[type]);
  switch (type) {
    case 'Encounter':
      return { ...seed, subject: ref('Patient'), location: [{ location: ref('Location') }], participant: [{ individual: ref('Practitioner') }], serviceProvider: ref('Organization') };
    case 'Observation':
      return { ...seed, subject: ref('Patient'), encounter: ref('Encounter') };
    case 'MedicationRequest':
      return { ...seed, subject: ref('Patient'), encounter: ref('Encounter'), requester: ref('Practitioner') };
    default:
      return seed;
  }
}

/** HS's changeResource: one field flipped per type. */
function changed(type: string, resource: Json, i: number): Json {
  switch (type) {
    case 'Encounter':
      return { ...resource, status: resource.status === 'planned' ? 'in-progress' : 'planned' };
    case 'Location':
    case 'Organization':
      return { ...resource, name: `${String(resource.name)}-${i}` };
    case 'MedicationRequest':
      return { ...resource, status: resource.status === 'on-hold' ? 'draft' : 'on-hold' };
    case 'Observation':
      return { ...resource, issued: new Date().toISOString() };
    default:
      return { ...resource, gender: resource.gender === 'unknown' ? 'other' : 'unknown' };
  }
}

function idOf(body: string, location: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: string }).id;
    if (id) return id;
  } catch {
    // no body (Prefer: return=minimal or an error): fall back on Location
  }
  return /\/([A-Za-z0-9\-.]{1,64})\/_history\//.exec(location ?? '')?.[1];
}

export const crud: Scenario = {
  name: 'crud',
  title: 'Health Samurai CRUD loop: create 7 linked resources, read, update and delete each (28 requests per iteration)',
  needs: ['region'],
  async setup(ctx: Ctx) {
    await ensureRegion(ctx);
  },
  requests(ctx: Ctx): RequestMix {
    const region = ctx.shared.get('region') as Awaited<ReturnType<typeof ensureRegion>>;
    const base = ctx.target.fhirPath(region.tenant);
    let n = 0;
    const steps: MixStep[] = [];
    for (const type of ORDER) {
      steps.push({
        kind: 'create',
        method: 'POST',
        expect: [201],
        build: (c) => {
          const body = linked(type, c);
          c[`${type}.body`] = body;
          return { path: `${base}/${type}`, body: JSON.stringify(body) };
        },
        after: (status, body, c, location) => {
          if (status === 201) c[type] = idOf(body, location) ?? 'unknown';
        },
      });
    }
    for (const type of ORDER) steps.push({ kind: 'read', method: 'GET', build: (c) => ({ path: `${base}/${type}/${String(c[type])}` }) });
    for (const type of ORDER) {
      steps.push({
        kind: 'update',
        method: 'PUT',
        build: (c) => {
          const body = changed(type, { ...(c[`${type}.body`] as Json), id: c[type] }, n++);
          return { path: `${base}/${type}/${String(c[type])}`, body: JSON.stringify(body) };
        },
      });
    }
    for (const type of [...ORDER].reverse()) steps.push({ kind: 'delete', method: 'DELETE', expect: [200, 204], build: (c) => ({ path: `${base}/${type}/${String(c[type])}` }) });
    return { sequence: steps, total: 'all requests' };
  },
  report: () => [],
};
