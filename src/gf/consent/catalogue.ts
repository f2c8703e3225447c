/**
 * The consent catalogue as data (Mitz model): data categories with their hierarchy and their mapping to the
 * nl-gf data categories / FHIR resource types, provider categories (holder and consulter, RPZAC codes) with the
 * organisation types they cover, purposes of use, and the legal bases under which no explicit consent is needed.
 *
 * Nothing here decides anything; `decide.ts` reads this. A deployment may pass its own catalogue (same shape)
 * to the registry, e.g. to switch a legal basis on or off.
 *
 * Sources: Mitz afsprakenstelsel, "Bijlage | Gegevenscategorieën" (GGC codes; a consent for a higher category
 * also answers yes for a lower one) and the table of consent options (holder category × data category ×
 * consulter category); code-system URIs as seen in the Mitz notification example (STANDARDS.md §4, status S);
 * nl-gf data categories: hl7.fhir.nl.gf 0.10.0 (STANDARDS.md §3); organisation types: Nictiz RoleCodeNL
 * zorgaanbiedertype (organization-type).
 */
import { DATA_CATEGORIES, parseParam } from '../localisation/categories.ts';

export const SYSTEMS = {
  bsn: 'http://fhir.nl/fhir/NamingSystem/bsn',
  ura: 'http://fhir.nl/fhir/NamingSystem/ura',
  organizationType: 'http://nictiz.nl/fhir/NamingSystem/organization-type',
  /** Mitz gegevenscategorie (seen in the Mitz notification example, with coding.version 3960100). */
  dataCategory: 'http://fhir.nl/otv/CodeSystem/gegevenscategorie',
  /** Mitz raadplegende-zorgaanbiedercategorie; Schakel uses the same codes for holder categories. */
  providerCategory: 'http://fhir.nl/otv/CodeSystem/raadplegende-zorgaanbiedercategorie',
  /** Extension in which Mitz carries the provider category. */
  providerCategoryExtension: 'http://fhir.nl/StructureDefinition/OTV-ProviderCategory',
  nlGfDataCategory: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs',
  consentScope: 'http://terminology.hl7.org/CodeSystem/consentscope',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  actReason: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  loinc: 'http://loinc.org',
  /** Schakel's own: the legal basis recorded on a decision. */
  legalBasis: 'http://schakel.dev/fhir/CodeSystem/consent-legal-basis',
} as const;

/** provision.actor.role codes: who holds the data (custodian) and who consults it (information recipient). */
export const ACTOR_ROLES = { holder: 'CST', consulter: 'IRCP' } as const;

export interface DataCategory {
  code: string;
  display: string;
  /** The higher category whose consent also covers this one (GGC012 → GGC002). */
  parent?: string;
  /** nl-gf data-category codes this category covers directly (children's are covered through the hierarchy). */
  nlGf: string[];
}

export interface ProviderCategory {
  code: string;
  display: string;
  /** organization-type codes (RoleCodeNL zorgaanbiedertype) that fall into this category. */
  organizationTypes: string[];
}

export interface Purpose {
  code: string;
  display: string;
  /** A consent for the parent purpose covers this one (TREAT covers ETREAT). */
  parent?: string;
  secondary: boolean;
}

/** A legal basis under which data may be made available without explicit consent. */
export interface LegalBasis {
  code: string;
  display: string;
  /** The law or rule it rests on, recorded with the decision. */
  source: string;
  /** Data categories it applies to (a higher category here also covers its lower ones). */
  dataCategories: string[];
  /** Purposes it applies to (a parent purpose covers its children). */
  purposes: string[];
  /** Consulter categories it applies to; absent = every consulter category. */
  consulterCategories?: string[];
  /** When true, the basis also applies against an explicit objection (deny); default false: objection wins. */
  overridesObjection?: boolean;
}

export interface ConsentCatalogue {
  dataCategories: DataCategory[];
  providerCategories: ProviderCategory[];
  purposes: Purpose[];
  legalBases: LegalBasis[];
  /** Purpose assumed for a permit without provision.purpose (consent must be specific). A deny without purpose covers every purpose. */
  defaultPermitPurpose: string;
  /** Consent.category codings accepted (the registry stores the first listed when none is given). */
  consentCategories: { system: string; code: string; display: string }[];
}

export const DEFAULT_CATALOGUE: ConsentCatalogue = {
  dataCategories: [
    {
      code: 'GGC002',
      display: 'Behandelgegevens',
      nlGf: [
        'AdvanceDirective', 'Alert', 'Condition', 'Device', 'Encounter', 'Episode', 'Genomics', 'Nutrition', 'Patient',
        'ObservationActivity', 'ObservationExam', 'ObservationProcedure', 'ObservationSocialHistory', 'ObservationSurvey',
        'ObservationTherapy', 'ObservationVitalSigns', 'Procedure', 'Request', 'Specimen', 'Consent',
      ],
    },
    { code: 'GGC012', display: 'Uitslagen', parent: 'GGC002', nlGf: ['ObservationLaboratory', 'ObservationImaging', 'DiagnosticReport', 'Imaging'] },
    { code: 'GGC013', display: 'Medicatiegegevens', parent: 'GGC002', nlGf: ['MedicationRequest', 'MedicationUse', 'AllergyIntolerance'] },
  ],
  providerCategories: [
    { code: 'RPZAC001', display: 'Huisartsen en huisartsenposten', organizationTypes: ['Z3', 'N6', 'H1', 'K3'] },
    { code: 'RPZAC003', display: 'Geestelijke gezondheidszorg (GGZ)', organizationTypes: ['G5', 'G7', 'G8', 'G1', 'V7'] },
    { code: 'RPZAC004', display: 'Verpleging en verzorging', organizationTypes: ['X3', 'M1', 'R5', 'T2', 'H2', 'K4', 'G6', 'IN15', 'IN9', 'IN10', 'IN11', 'IN3', 'IN13', 'IN2', 'IN5', 'IN7'] },
    { code: 'RPZAC005', display: 'Apotheken', organizationTypes: ['J8', 'A1', 'K9'] },
    {
      code: 'RPZAC103',
      display: 'Overige zorg (tandartsen, paramedici, jeugdgezondheidszorg)',
      organizationTypes: [
        'TA1', 'TA2', 'TA3', 'TA4', 'TA5', 'TA6', 'F1', 'PM3', 'PM4', 'PM6', 'PM7', 'PM8', 'PM9', 'PM10', 'PM11', 'PM12',
        'Z27', 'JGZ', 'G3', 'GC', 'JZ', 'G9', 'P6', 'B4', 'C3', 'AMB', 'ZG',
      ],
    },
    {
      code: 'RPZAC104',
      display: 'Ziekenhuizen, medische centra, klinieken, laboratoria en diagnostische centra',
      organizationTypes: [
        'V4', 'V5', 'V6', 'BRA', 'Z4', 'Z5', 'B1', 'B2', 'L1', 'P4', 'SC', 'Z26', 'R8', 'DIA', 'TD', 'B3', 'Z10', 'Z12', 'Z14',
        'Z15', 'Z16', 'Z17', 'Z18', 'Z19', 'Z20', 'Z21', 'Z22', 'Z23', 'Z24', 'Z25', 'Z6', 'Z7', 'Z8', 'Z9', 'PM13', 'PM14', 'PM15',
      ],
    },
    { code: 'RPZAC200', display: 'Zorgaanbieders in de Europese Unie buiten Nederland', organizationTypes: [] },
  ],
  purposes: [
    { code: 'TREAT', display: 'treatment', secondary: false },
    { code: 'ETREAT', display: 'emergency treatment', parent: 'TREAT', secondary: false },
    { code: 'HRESCH', display: 'healthcare research', secondary: true },
    { code: 'PUBHLTH', display: 'public health', secondary: true },
    { code: 'HQUALIMP', display: 'health quality improvement', secondary: true },
  ],
  legalBases: [
    {
      code: 'emergency',
      display: 'Acute care: data needed to treat a patient who cannot give consent in time',
      source: 'WGBO art. 7:457 lid 2 (veronderstelde toestemming), Wabvpz art. 15a lid 2',
      dataCategories: ['GGC002'],
      purposes: ['ETREAT'],
    },
  ],
  defaultPermitPurpose: 'TREAT',
  consentCategories: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }],
};

/** Look-ups compiled once from a catalogue: every question in decide() is a Map/Set hit. */
export class CatalogueIndex {
  readonly dataCategories = new Map<string, DataCategory>();
  readonly providerCategories = new Map<string, ProviderCategory>();
  readonly purposes = new Map<string, Purpose>();
  /** category → itself and its ancestors (the categories whose consent covers it). */
  private readonly categoryCoveredBy = new Map<string, Set<string>>();
  private readonly purposeCoveredBy = new Map<string, Set<string>>();
  private readonly orgTypeToCategory = new Map<string, string>();
  private readonly nlGfToCategory = new Map<string, string>();

  constructor(readonly catalogue: ConsentCatalogue) {
    for (const c of catalogue.dataCategories) this.dataCategories.set(c.code, c);
    for (const c of catalogue.providerCategories) this.providerCategories.set(c.code, c);
    for (const p of catalogue.purposes) this.purposes.set(p.code, p);
    for (const c of catalogue.dataCategories) this.categoryCoveredBy.set(c.code, ancestors(c.code, (x) => this.dataCategories.get(x)?.parent));
    for (const p of catalogue.purposes) this.purposeCoveredBy.set(p.code, ancestors(p.code, (x) => this.purposes.get(x)?.parent));
    for (const c of catalogue.providerCategories) {
      for (const t of c.organizationTypes) {
        if (this.orgTypeToCategory.has(t)) throw new Error(`Catalogue: organisation type ${t} is in two provider categories`);
        this.orgTypeToCategory.set(t, c.code);
      }
    }
    for (const c of catalogue.dataCategories) for (const g of c.nlGf) this.nlGfToCategory.set(g, c.code);
    if (!this.purposes.has(catalogue.defaultPermitPurpose)) throw new Error(`Catalogue: default purpose ${catalogue.defaultPermitPurpose} is unknown`);
    for (const b of catalogue.legalBases) {
      for (const c of b.dataCategories) if (!this.dataCategories.has(c)) throw new Error(`Catalogue: legal basis ${b.code} names unknown data category ${c}`);
      for (const p of b.purposes) if (!this.purposes.has(p)) throw new Error(`Catalogue: legal basis ${b.code} names unknown purpose ${p}`);
    }
  }

  /** Does a consent for `granted` also cover a question about `asked`? (hierarchy: GGC002 covers GGC012) */
  categoryCovers(granted: string, asked: string): boolean {
    return this.categoryCoveredBy.get(asked)?.has(granted) ?? false;
  }

  purposeCovers(granted: string, asked: string): boolean {
    return this.purposeCoveredBy.get(asked)?.has(granted) ?? false;
  }

  /** RPZAC code for an organization-type code, if the catalogue places it. */
  categoryOfOrganizationType(orgType: string): string | undefined {
    return this.orgTypeToCategory.get(orgType);
  }

  /** Mitz data category for an nl-gf data-category code (for the authorisation table and localisation). */
  dataCategoryOfNlGf(code: string): string | undefined {
    return this.nlGfToCategory.get(code);
  }

  /** Every nl-gf code covered by a data category, its lower categories included. */
  nlGfCoveredBy(category: string): string[] {
    return this.catalogue.dataCategories.filter((c) => this.categoryCovers(category, c.code)).flatMap((c) => c.nlGf);
  }
}

function ancestors(code: string, parentOf: (c: string) => string | undefined): Set<string> {
  const out = new Set<string>();
  for (let c: string | undefined = code; c !== undefined && !out.has(c); c = parentOf(c)) out.add(c);
  return out;
}

/**
 * nl-gf data category → the FHIR resource types it maps to (restricted ones as `Type:<code>`, e.g.
 * `Observation:laboratory`). Derived from the one data-category table (src/gf/localisation/categories.ts); the audit
 * trail (Logging) is not something a patient consents to share, so it is left out here.
 */
export const NL_GF_RESOURCE_TYPES: Record<string, string[]> = Object.fromEntries(
  DATA_CATEGORIES.filter((c) => c.zorgcontext && c.code !== 'Logging').map((c) => [
    c.code,
    c.params.map((p) => {
      const q = parseParam(p);
      return q.filter ? `${q.type}:${q.filter.code}` : q.type;
    }),
  ]),
);

const RESOURCE_TO_NL_GF = new Map<string, string>(Object.entries(NL_GF_RESOURCE_TYPES).flatMap(([code, types]) => types.map((t) => [t, code] as [string, string])));

/** nl-gf data category of a resource type (Observation: pass its category code; Consent: 'acd' for advance directives). */
export function nlGfCategoryOfResource(type: string, subCategory?: string): string | undefined {
  return (subCategory ? RESOURCE_TO_NL_GF.get(`${type}:${subCategory}`) : undefined) ?? RESOURCE_TO_NL_GF.get(type);
}
