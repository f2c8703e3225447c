/**
 * The generic-functions data categories (CodeSystem nl-gf-data-categories-cs, 32 codes) with their
 * `fhir-resourcetype-params` property as data, and the 28 codes of the zorgcontext ValueSet that a
 * localisation List may carry. Source: STANDARDS.md §3 (GF `input/fsh/codesystem-datacategories.fsh`, `valuesets.fsh`).
 */
import type { CodeableConcept, Resource } from 'fhir/r4';

export const DATA_CATEGORY_SYSTEM = 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs';
const OBS = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CONSENT_CAT = 'http://terminology.hl7.org/CodeSystem/consentcategorycodes';

export interface DataCategory {
  code: string;
  display: string;
  /** `fhir-resourcetype-params`: a resource type, optionally with one token search restriction. */
  params: string[];
  /** Member of nl-gf-zorgcontext-vs (allowed as List.code). */
  zorgcontext: boolean;
}

const obs = (code: string, display: string, extra: string[] = []): DataCategory => ({ code: `Observation${code}`, display: `Observatie (${display})`, params: [`Observation?category=${OBS}|${code.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`, ...extra], zorgcontext: true });

export const DATA_CATEGORIES: readonly DataCategory[] = [
  { code: 'AdvanceDirective', display: 'Wilsverklaring', params: [`Consent?category=${CONSENT_CAT}|acd`], zorgcontext: true },
  { code: 'Alert', display: 'Alert', params: ['Flag'], zorgcontext: true },
  { code: 'AllergyIntolerance', display: 'Allergie Intolerantie', params: ['AllergyIntolerance'], zorgcontext: true },
  { code: 'CareServiceEntities', display: 'Entiteiten', params: ['Organization', 'OrganizationAffiliation', 'Location', 'HealthcareService', 'Endpoint'], zorgcontext: false },
  { code: 'Condition', display: 'Aandoeningen', params: ['Condition'], zorgcontext: true },
  { code: 'Consent', display: 'Toestemming', params: ['Consent'], zorgcontext: true },
  { code: 'Definitional', display: 'Definities', params: ['PlanDefinition', 'ActivityDefinition', 'Questionnaire', 'CodeSystem', 'ValueSet', 'ConceptMap', 'StructureDefinition', 'StructureMap'], zorgcontext: false },
  { code: 'Device', display: 'Apparaat', params: ['Device', 'DeviceUseStatement'], zorgcontext: true },
  { code: 'DiagnosticReport', display: 'Diagnostisch verslag', params: ['DiagnosticReport'], zorgcontext: true },
  { code: 'Encounter', display: 'Contactmoment', params: ['Encounter'], zorgcontext: true },
  { code: 'Episode', display: 'Zorgtrajecten en zorgplannen', params: ['EpisodeOfCare', 'CarePlan'], zorgcontext: true },
  { code: 'Genomics', display: 'Genomica', params: ['MolecularSequence'], zorgcontext: true },
  { code: 'Imaging', display: 'Beelden', params: ['ImagingStudy'], zorgcontext: true },
  { code: 'Logging', display: 'Logging', params: ['AuditEvent'], zorgcontext: true },
  { code: 'MedicationRequest', display: 'Medicatie voorschrift', params: ['MedicationRequest'], zorgcontext: true },
  { code: 'MedicationUse', display: 'Medicatiegebruik', params: ['MedicationDispense', 'MedicationAdministration', 'MedicationStatement', 'Immunization'], zorgcontext: true },
  obs('Activity', 'Activiteit'),
  obs('Exam', 'Lichamelijk onderzoek'),
  obs('Imaging', 'Beeldvorming'),
  obs('Laboratory', 'Laboratorium'),
  obs('Procedure', 'Procedure'),
  obs('SocialHistory', 'Sociale anamnese'),
  obs('Survey', 'Vragenlijst', ['QuestionnaireResponse']),
  obs('Therapy', 'Therapie'),
  obs('VitalSigns', 'Vitale functies'),
  { code: 'Patient', display: 'Patient', params: ['Patient', 'RelatedPerson', 'CareTeam'], zorgcontext: true },
  { code: 'Practitioner', display: 'Zorgverlener', params: ['Practitioner', 'PractitionerRole'], zorgcontext: false },
  { code: 'Procedure', display: 'Verrichtingen', params: ['Procedure'], zorgcontext: true },
  { code: 'Request', display: 'Verzoeken, overdrachten en opdrachten', params: ['ServiceRequest', 'Task'], zorgcontext: true },
  { code: 'Specimen', display: 'Materiaal, biologisch materiaal', params: ['Specimen'], zorgcontext: true },
  { code: 'Subscription', display: 'Abonnementen en notificaties', params: ['Subscription'], zorgcontext: false },
  { code: 'Nutrition', display: 'Voeding', params: ['NutritionOrder'], zorgcontext: true },
];

export const CATEGORY_BY_CODE = new Map(DATA_CATEGORIES.map((c) => [c.code, c]));
export const ZORGCONTEXT_CODES = new Set(DATA_CATEGORIES.filter((c) => c.zorgcontext).map((c) => c.code));

export interface ParsedParam {
  type: string;
  /** Search parameter name and token (system|code), when the category narrows the type. */
  filter?: { name: string; system: string; code: string };
}

export function parseParam(p: string): ParsedParam {
  const [type, query] = p.split('?');
  if (!query) return { type };
  const [name, token] = query.split('=');
  const bar = token.lastIndexOf('|');
  return { type, filter: { name, system: token.slice(0, bar), code: token.slice(bar + 1) } };
}

const PARSED = DATA_CATEGORIES.filter((c) => c.zorgcontext).flatMap((c) => c.params.map((p) => ({ category: c.code, ...parseParam(p) })));

/**
 * The zorgcontext categories a resource falls in. A restricted match (e.g. Consent with category `acd` →
 * AdvanceDirective) beats the unrestricted one for the same type (Consent), as specific beats generic.
 * An Observation without a known observation-category is in no category.
 */
export function categoriesOf(resource: Resource): string[] {
  const candidates = PARSED.filter((p) => p.type === resource.resourceType);
  const specific = candidates.filter((p) => p.filter && hasToken(resource, p.filter.name, p.filter.system, p.filter.code));
  if (specific.length > 0) return [...new Set(specific.map((p) => p.category))];
  return [...new Set(candidates.filter((p) => !p.filter).map((p) => p.category))];
}

function hasToken(resource: Resource, element: string, system: string, code: string): boolean {
  const v = (resource as unknown as Record<string, unknown>)[element];
  const concepts = (Array.isArray(v) ? v : v ? [v] : []) as CodeableConcept[];
  return concepts.some((cc) => cc.coding?.some((c) => c.system === system && c.code === code));
}

/** The resource types (and restrictions) to count when deciding whether a patient still has data of a category. */
export function paramsOf(category: string): ParsedParam[] {
  return (CATEGORY_BY_CODE.get(category)?.params ?? []).map(parseParam);
}
