/**
 * The authorisation table: which professional role may see which data category for which purpose of use.
 * Data, not code: each row is one rule (a test exists per rule), modelled after the Dutch practice that a
 * professional sees what the role needs (a pharmacist medication, allergies, relevant lab; a GP everything).
 * Roles are UZI role codes (http://fhir.nl/fhir/NamingSystem/uzi-rolcode, STANDARDS.md §2); a code ending in
 * `.*` covers the whole group (`01.*` = every physician, specialists included). Categories are nl-gf data
 * category codes (src/gf/localisation/categories.ts); `*` = every category except Logging.
 */
export type Purpose = 'treatment' | 'emergency' | 'patient-access' | 'secondary-use';

export interface AuthorisationRule {
  id: string;
  /** UZI role code or group ('01.*'); 'patient' for the patient (or a mandated representative) itself. */
  role: string;
  purposes: Purpose[];
  categories: string[] | '*';
  /** With '*': also the Logging category (the audit trail), which only the patient sees. */
  includeLogging?: boolean;
  description: string;
}

const MEDICATION_SAFETY = ['Patient', 'MedicationRequest', 'MedicationUse', 'AllergyIntolerance', 'Alert', 'Condition', 'ObservationLaboratory', 'ObservationVitalSigns'];
const NURSING = ['Patient', 'Condition', 'AllergyIntolerance', 'Alert', 'MedicationRequest', 'MedicationUse', 'ObservationVitalSigns', 'ObservationExam', 'ObservationActivity', 'ObservationSurvey', 'Procedure', 'Encounter', 'Episode', 'AdvanceDirective', 'Device', 'Nutrition', 'Request'];
const SUMMARY = ['Patient', 'Condition', 'AllergyIntolerance', 'Alert', 'MedicationRequest', 'MedicationUse', 'AdvanceDirective', 'ObservationVitalSigns', 'ObservationLaboratory', 'Procedure', 'Device'];

export const AUTHORISATION_TABLE: readonly AuthorisationRule[] = [
  { id: 'physician-treatment', role: '01.*', purposes: ['treatment', 'emergency'], categories: '*', description: 'Physicians (GP, specialists, SEH) with a treatment relation: all clinical data' },
  { id: 'pharmacist-medication', role: '17.*', purposes: ['treatment', 'emergency'], categories: MEDICATION_SAFETY, description: 'Pharmacists: what medication safety needs (medication, allergies, contra-indications, renal function)' },
  { id: 'nurse-care', role: '30.*', purposes: ['treatment'], categories: NURSING, description: 'Nurses: nursing-relevant data (also for the nursing transfer)' },
  { id: 'nurse-emergency', role: '30.*', purposes: ['emergency'], categories: SUMMARY, description: 'Nurses in acute care (ambulance, HAP triage): the professional summary' },
  { id: 'midwife-care', role: '03.*', purposes: ['treatment', 'emergency'], categories: [...SUMMARY, 'ObservationExam', 'Encounter', 'Episode'], description: 'Midwives: summary plus pregnancy care' },
  { id: 'dentist-safety', role: '02.*', purposes: ['treatment'], categories: ['Patient', 'AllergyIntolerance', 'Alert', 'MedicationRequest', 'MedicationUse', 'Condition'], description: 'Dentists: allergies, alerts, medication, conditions' },
  { id: 'patient-own-data', role: 'patient', purposes: ['patient-access'], categories: '*', includeLogging: true, description: 'The patient (or a mandated representative): all own data, including who looked at it' },
];

function roleMatches(ruleRole: string, role: string): boolean {
  if (ruleRole.endsWith('.*')) return role.startsWith(ruleRole.slice(0, -1));
  return ruleRole === role;
}

function categoryMatches(rule: AuthorisationRule, category: string): boolean {
  if (rule.categories === '*') return category !== 'Logging' || rule.includeLogging === true;
  return rule.categories.includes(category);
}

export interface TableDecision {
  allowed: boolean;
  rule?: AuthorisationRule;
  reason: string;
}

/** May a professional with `role` see `category` for `purpose`? Default deny. */
export function authorise(role: string | undefined, purpose: Purpose | undefined, category: string): TableDecision {
  if (!role) return { allowed: false, reason: 'no professional role in the access token' };
  if (!purpose) return { allowed: false, reason: 'no purpose of use in the access token' };
  for (const rule of AUTHORISATION_TABLE) {
    if (roleMatches(rule.role, role) && rule.purposes.includes(purpose) && categoryMatches(rule, category)) {
      return { allowed: true, rule, reason: `rule ${rule.id}` };
    }
  }
  return { allowed: false, reason: `role ${role} may not see ${category} for ${purpose} (authorisation table)` };
}

/** The categories a role may see for a purpose (used to narrow searches). */
export function allowedCategories(role: string | undefined, purpose: Purpose | undefined, all: readonly string[]): Set<string> {
  return new Set(all.filter((c) => authorise(role, purpose, c).allowed));
}
