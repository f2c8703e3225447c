/** Small hand-made data set for the search tests: every value chosen so a wrong semantic changes a result. */
import type { FhirResource } from 'fhir/r4';

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
export const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

export const tenant1: FhirResource[] = [
  {
    resourceType: 'Patient',
    id: 'p1',
    meta: { profile: ['http://nictiz.nl/fhir/StructureDefinition/nl-core-Patient'] },
    name: [{ family: 'Jánsen', given: ['Jan'] }],
    birthDate: '1970-05-06',
    gender: 'male',
    identifier: [{ system: BSN, value: '111', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] } }],
    telecom: [{ system: 'phone', value: '0611' }],
    managingOrganization: { reference: 'Organization/o1' },
  },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Jansma', given: ['Piet'] }], birthDate: '1970-05', gender: 'female', managingOrganization: { reference: 'Organization/o2' } },
  { resourceType: 'Patient', id: 'p3', name: [{ family: 'de Vries', given: ['Anne'] }], birthDate: '1985' },
  { resourceType: 'Organization', id: 'o1', name: 'Ziekenhuis Amsterdam', partOf: { reference: 'Organization/o3' } },
  { resourceType: 'Organization', id: 'o2', name: 'Huisarts Utrecht' },
  { resourceType: 'Organization', id: 'o3', name: 'UMC Holding' },
  {
    resourceType: 'Observation',
    id: 'obs1',
    meta: { tag: [{ system: 'http://example.org/tags', code: 'import' }] },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-03-15T10:00:00Z',
    valueQuantity: { value: 72, unit: '/min', system: UCUM, code: '/min' },
  },
  {
    resourceType: 'Observation',
    id: 'obs2',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-03-20',
    valueQuantity: { value: 80, unit: '/min', system: UCUM, code: '/min' },
  },
  {
    resourceType: 'Observation',
    id: 'obs3',
    status: 'preliminary',
    code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
    subject: { reference: 'Patient/p2' },
    effectivePeriod: { start: '2024-01-01', end: '2024-02-01' },
    valueQuantity: { value: 70, unit: 'kg', system: UCUM, code: 'kg' },
  },
  {
    resourceType: 'Observation',
    id: 'obs4',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
    subject: { reference: 'Patient/p3' },
    effectiveDateTime: '2023-12-31T23:30:00Z',
    valueQuantity: { value: 70000, unit: 'gram', system: UCUM, code: 'g' },
  },
  {
    resourceType: 'Observation',
    id: 'obs5',
    status: 'amended',
    code: { text: 'Sneltest uitslag' },
    subject: { reference: 'Group/g1' },
    valueString: 'positief',
  },
  {
    resourceType: 'Observation',
    id: 'obs6',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8867-4' }] },
    subject: { identifier: { system: BSN, value: '999' } },
  },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] } },
  { resourceType: 'RiskAssessment', id: 'ra1', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 0.25 }] },
  { resourceType: 'RiskAssessment', id: 'ra2', status: 'final', subject: { reference: 'Patient/p2' }, prediction: [{ probabilityDecimal: 0.255 }] },
  { resourceType: 'RiskAssessment', id: 'ra3', status: 'final', subject: { reference: 'Patient/p3' }, prediction: [{ probabilityRange: { low: { value: 0.1 }, high: { value: 0.2 } } }] },
  { resourceType: 'RiskAssessment', id: 'ra4', status: 'final', subject: { reference: 'Patient/p3' }, prediction: [{ probabilityRange: { low: { value: 0.5 } } }] },
  { resourceType: 'ValueSet', id: 'vs1', status: 'active', url: 'http://example.org/fhir/ValueSet/a' },
  { resourceType: 'ValueSet', id: 'vs2', status: 'active', url: 'http://example.org/other/b' },
];

/** Tenant 2 reuses ids on purpose: any missing tenant predicate shows up as a wrong match. */
export const tenant2: FhirResource[] = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Ghost' }], gender: 'other', managingOrganization: { reference: 'Organization/o1' } },
  { resourceType: 'Organization', id: 'o1', name: 'Spookhuis' },
  { resourceType: 'Patient', id: 'p9', name: [{ family: 'Ghost' }] },
  {
    resourceType: 'Observation',
    id: 'obsX',
    status: 'final',
    code: { coding: [{ system: LOINC, code: 'GHOST-1' }] },
    subject: { reference: 'Patient/p1' },
  },
  {
    resourceType: 'Observation',
    id: 'obsY',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8867-4' }] },
    subject: { reference: 'Patient/p3' },
  },
];
