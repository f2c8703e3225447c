/**
 * Code systems and the concepts the generator uses. Role, organisation-type and AGB-specialism codes and the
 * G-Standaard product codes are the ones listed in /work/shared/STANDARDS.md and the Nictiz MP9 test fixtures;
 * SNOMED CT and LOINC concepts are well-known ones (displays in Dutch where the zib examples use Dutch).
 */
import type { Coding } from 'fhir/r4';

export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const ATC = 'http://www.whocc.no/atc';
export const UZI_ROLE = 'http://fhir.nl/fhir/NamingSystem/uzi-rolcode';
export const ORG_TYPE = 'http://nictiz.nl/fhir/NamingSystem/organization-type';
export const AGB_SPECIALISM = 'urn:oid:2.16.840.1.113883.2.4.6.7';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const GPK = 'urn:oid:2.16.840.1.113883.2.4.4.1';
export const PRK = 'urn:oid:2.16.840.1.113883.2.4.4.10';
export const GSTD_ROUTE = 'urn:oid:2.16.840.1.113883.2.4.4.9';
/** Test-only OIDs from the Nictiz MP9 fixtures ("999" branch): safe for synthetic identifiers. */
export const MP9_TREATMENT_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.2.4.3.11.999.77.1.1';
export const MP9_MA_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.2.4.3.11.999.77.16076005.1';
export const MP9_MVE_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.2.4.3.11.999.77.373784005.1';
export const MP9_MGB_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.2.4.3.11.999.77.6.1';

export const sct = (code: string, display: string): Coding => ({ system: SCT, code, display });
export const loinc = (code: string, display: string): Coding => ({ system: LOINC, code, display });

export type Sector = 'gp' | 'hospital' | 'pharmacy' | 'lab' | 'vvt' | 'ggz' | 'hap' | 'ambulance';

/** organization-type (RoleCodeNL zorgaanbiedertype) per sector. */
export const ORG_TYPE_BY_SECTOR: Record<Sector, { code: string; display: string }> = {
  gp: { code: 'Z3', display: 'Huisartspraktijk (zelfstandig of groepspraktijk)' },
  hap: { code: 'N6', display: 'Huisartsenpost (t.b.v. dienstwaarneming)' },
  hospital: { code: 'V6', display: 'Algemeen ziekenhuis' },
  pharmacy: { code: 'J8', display: 'Openbare apotheek' },
  lab: { code: 'L1', display: 'Laboratorium' },
  vvt: { code: 'X3', display: 'Verplegings- of verzorgingsinstelling' },
  ggz: { code: 'G5', display: 'Geestelijke Gezondheidszorg' },
  ambulance: { code: 'AMB', display: 'Regionale ambulancevoorzieningen' },
};

/** Vektis 'zorgsoort' prefix of an organisation's AGB code (plausible, not verified per sector). */
export const AGB_PREFIX_BY_SECTOR: Record<Sector, string> = {
  gp: '01', hap: '01', hospital: '06', pharmacy: '02', lab: '22', vvt: '33', ggz: '73', ambulance: '70',
};

export interface RoleDef {
  code: string;
  display: string;
  /** AGB prefix for the professional's personal AGB code. */
  agbPrefix: string;
}

/** UZI role codes (uzi-rolcode), displays verbatim from the RoleCodeNL code system. */
export const ROLES = {
  gp: { code: '01.015', display: 'Huisarts', agbPrefix: '01' },
  internist: { code: '01.016', display: 'Internist', agbPrefix: '03' },
  cardiologist: { code: '01.010', display: 'Cardioloog', agbPrefix: '03' },
  pulmonologist: { code: '01.023', display: 'Longarts', agbPrefix: '03' },
  surgeon: { code: '01.014', display: 'Chirurg', agbPrefix: '03' },
  orthopedist: { code: '01.032', display: 'Orthopedisch chirurg', agbPrefix: '03' },
  emergencyPhysician: { code: '01.071', display: 'Spoedeisende hulp arts (SEH-arts)', agbPrefix: '03' },
  clinicalChemist: { code: '01.020', display: 'Arts klinische chemie (gesloten register)', agbPrefix: '03' },
  elderlyCarePhysician: { code: '01.047', display: 'Specialist ouderengeneeskunde', agbPrefix: '01' },
  psychiatrist: { code: '01.035', display: 'Psychiater', agbPrefix: '03' },
  healthPsychologist: { code: '25.000', display: 'Gezondheidszorgpsycholoog', agbPrefix: '94' },
  pharmacist: { code: '17.075', display: 'Openbaar apotheker', agbPrefix: '02' },
  pharmacyAssistant: { code: '83.000', display: 'Apothekersassistent', agbPrefix: '02' },
  nurse: { code: '30.000', display: 'Verpleegkundige', agbPrefix: '91' },
  mentalHealthNurse: { code: '30.069', display: 'Verpl. spec. geestelijke gezondheidszorg', agbPrefix: '91' },
  careAssistant: { code: '86.000', display: 'VIG-er', agbPrefix: '91' },
  paramedic: { code: '80.000', display: 'Bachelor medisch hulpverlener', agbPrefix: '91' },
} as const satisfies Record<string, RoleDef>;

export type RoleKey = keyof typeof ROLES;

/** AGB specialism codes that appear in the zib examples (the code system itself is not shipped). */
export const AGB_SPECIALISMS = {
  gp: { code: '0100', display: 'Huisartsen, niet nader gespecificeerd' },
  pharmacy: { code: '0200', display: 'Apothekers' },
  cardiology: { code: '0320', display: 'Medisch specialisten, cardiologie' },
  neurology: { code: '0330', display: 'Medisch specialisten, neurologie' },
  nursing: { code: '9100', display: 'Verpleegkundigen, niet nader gespecificeerd' },
} as const;

// ---------------------------------------------------------------------------------------------- conditions

export interface ConditionDef {
  key: string;
  coding: Coding;
  /** ICPC-style short Dutch label for texts. */
  label: string;
}

export const CHRONIC = {
  diabetes: { key: 'diabetes', coding: sct('44054006', 'Diabetes mellitus type 2'), label: 'Diabetes mellitus type 2' },
  heartFailure: { key: 'heartFailure', coding: sct('84114007', 'Hartfalen'), label: 'Hartfalen' },
  copd: { key: 'copd', coding: sct('13645005', 'COPD'), label: 'COPD' },
  hypertension: { key: 'hypertension', coding: sct('38341003', 'Hypertensie'), label: 'Hypertensie' },
  asthma: { key: 'asthma', coding: sct('195967001', 'Astma'), label: 'Astma' },
  atrialFibrillation: { key: 'atrialFibrillation', coding: sct('49436004', 'Atriumfibrilleren'), label: 'Atriumfibrilleren' },
  dementia: { key: 'dementia', coding: sct('52448006', 'Dementie'), label: 'Dementie' },
  depression: { key: 'depression', coding: sct('35489007', 'Depressieve stoornis'), label: 'Depressie' },
  anxiety: { key: 'anxiety', coding: sct('197480006', 'Angststoornis'), label: 'Angststoornis' },
  osteoarthritis: { key: 'osteoarthritis', coding: sct('239873007', 'Artrose van knie'), label: 'Knieartrose' },
} as const satisfies Record<string, ConditionDef>;

export type ChronicKey = keyof typeof CHRONIC;

/** Episodes a GP sees (acute, resolve within weeks). */
export const ACUTE_GP: readonly ConditionDef[] = [
  { key: 'uri', coding: sct('54150009', 'Infectie van de bovenste luchtwegen'), label: 'Bovenste luchtweginfectie' },
  { key: 'uti', coding: sct('68566005', 'Urineweginfectie'), label: 'Urineweginfectie' },
  { key: 'lbp', coding: sct('279039007', 'Lage rugpijn'), label: 'Lage rugpijn' },
  { key: 'otitis', coding: sct('65363002', 'Otitis media'), label: 'Otitis media' },
  { key: 'gastro', coding: sct('25374005', 'Gastro-enteritis'), label: 'Gastro-enteritis' },
  { key: 'sprain', coding: sct('44465007', 'Verstuiking van enkel'), label: 'Enkeldistorsie' },
];

export const ACUTE_EMERGENCY: readonly ConditionDef[] = [
  { key: 'chestPain', coding: sct('29857009', 'Pijn op de borst'), label: 'Pijn op de borst' },
  { key: 'hipFracture', coding: sct('5913000', 'Fractuur van collum femoris'), label: 'Heupfractuur' },
  { key: 'pneumonia', coding: sct('233604007', 'Pneumonie'), label: 'Pneumonie' },
  { key: 'ami', coding: sct('57054005', 'Acuut myocardinfarct'), label: 'Acuut myocardinfarct' },
];

export const PROBLEM_TYPE_DIAGNOSIS = sct('282291009', 'Diagnose');
export const PROBLEM_TYPE_COMPLAINT = sct('409586006', 'Klacht');

// ----------------------------------------------------------------------------------------------- allergies

export interface AllergyDef {
  coding: Coding;
  category: 'medication' | 'food' | 'environment' | 'biologic';
  reaction: Coding;
  /** Share of the population carrying this allergy label. */
  prevalence: number;
}

export const ALLERGIES: readonly AllergyDef[] = [
  { coding: sct('373270004', 'Penicilline'), category: 'medication', reaction: sct('271807003', 'Huiduitslag'), prevalence: 0.06 },
  { coding: sct('387207008', 'Ibuprofen'), category: 'medication', reaction: sct('247472004', 'Urticaria'), prevalence: 0.01 },
  { coding: sct('256349002', 'Pinda'), category: 'food', reaction: sct('39579001', 'Anafylaxie'), prevalence: 0.01 },
  { coding: sct('256259004', 'Pollen'), category: 'environment', reaction: sct('267036007', 'Dyspneu'), prevalence: 0.05 },
  { coding: sct('288328004', 'Bijengif'), category: 'biologic', reaction: sct('39579001', 'Anafylaxie'), prevalence: 0.005 },
];

// --------------------------------------------------------------------------------------------- medication

export interface ProductDef {
  key: string;
  /** PRK (prescription code) and GPK (generic product code) from the G-Standaard, as in the MP9 fixtures. */
  prk: string;
  gpk: string;
  display: string;
  /** Dosing: `frequency` times per day `dose` pieces. */
  frequency: number;
  dose: number;
  rendered: string;
}

export const PRODUCTS = {
  metformin: { key: 'metformin', prk: '1090', gpk: '3816', display: 'METFORMINE 500MG TABLET', frequency: 2, dose: 1, rendered: '2 maal per dag 1 stuk, oraal' },
  amlodipine: { key: 'amlodipine', prk: '123315', gpk: '155616', display: 'AMLODIPINE TABLET 5MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  lisinopril: { key: 'lisinopril', prk: '26638', gpk: '71587', display: 'LISINOPRIL 10MG TABLET', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  hydrochlorothiazide: { key: 'hydrochlorothiazide', prk: '76333', gpk: '122602', display: 'HYDROCHLOORTHIAZIDE TABLET 12,5MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  furosemide: { key: 'furosemide', prk: '5967', gpk: '16810', display: 'FUROSEMIDE 40MG TABLET', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  metoprolol: { key: 'metoprolol', prk: '26190', gpk: '71013', display: 'METOPROLOL 100MG TB MGA SUC', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  simvastatin: { key: 'simvastatin', prk: '67814', gpk: '116580', display: 'SIMVASTATINE TABLET FO 20MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  atorvastatin: { key: 'atorvastatin', prk: '98604', gpk: '137197', display: 'ATORVASTATINE 10MG TABLET', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  aspirin: { key: 'aspirin', prk: '68632', gpk: '117145', display: 'ACETYLSALICYLZUUR DISPERTABLET 80MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  apixaban: { key: 'apixaban', prk: '105678', gpk: '141992', display: 'APIXABAN TABLET 5MG', frequency: 2, dose: 1, rendered: '2 maal per dag 1 stuk, oraal' },
  fluticasone: { key: 'fluticasone', prk: '45624', gpk: '92487', display: 'FLUTICASON INHALATIEPOEDER 100UG/DO 60DO DISKUS', frequency: 2, dose: 1, rendered: '2 maal per dag 1 inhalatie' },
  omeprazole: { key: 'omeprazole', prk: '60062', gpk: '114529', display: 'OMEPRAZOL CAPSULE MSR 20MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  paracetamol: { key: 'paracetamol', prk: '67903', gpk: '2194', display: 'PARACETAMOL 500MG TABLET', frequency: 3, dose: 2, rendered: '3 maal per dag 2 stuks, oraal' },
  amoxicillin: { key: 'amoxicillin', prk: '68519', gpk: '117080', display: 'AMOXICILLINE DISPERTABLET 500MG', frequency: 3, dose: 1, rendered: '3 maal per dag 1 stuk, oraal' },
  trimethoprim: { key: 'trimethoprim', prk: '16020', gpk: '39136', display: 'TRIMETHOPRIM TABLET 300MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
  oxazepam: { key: 'oxazepam', prk: '353', gpk: '1023', display: 'OXAZEPAM TABLET 10MG', frequency: 1, dose: 1, rendered: '1 maal per dag 1 stuk, oraal' },
} as const satisfies Record<string, ProductDef>;

export type ProductKey = keyof typeof PRODUCTS;

// ---------------------------------------------------------------------------------------------------- lab

export interface LabDef {
  key: string;
  coding: Coding;
  unit: string;
  ucum: string;
  low?: number;
  high?: number;
  decimals: number;
  /** SNOMED specimen-based category used by the zib examples. */
  specimen: 'serum' | 'blood';
}

export const LAB = {
  hba1c: { key: 'hba1c', coding: loinc('59261-8', 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol'), unit: 'mmol/mol', ucum: 'mmol/mol', high: 53, decimals: 0, specimen: 'blood' },
  glucose: { key: 'glucose', coding: loinc('14771-0', 'Fasting glucose [Moles/volume] in Serum or Plasma'), unit: 'mmol/l', ucum: 'mmol/L', low: 4.0, high: 6.1, decimals: 1, specimen: 'serum' },
  creatinine: { key: 'creatinine', coding: loinc('14682-9', 'Creatinine [Moles/volume] in Serum or Plasma'), unit: 'umol/l', ucum: 'umol/L', low: 50, high: 110, decimals: 0, specimen: 'serum' },
  egfr: { key: 'egfr', coding: loinc('62238-1', 'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)'), unit: 'ml/min/1,73m2', ucum: 'mL/min/{1.73_m2}', low: 60, decimals: 0, specimen: 'serum' },
  cholesterol: { key: 'cholesterol', coding: loinc('14647-2', 'Cholesterol [Moles/volume] in Serum or Plasma'), unit: 'mmol/l', ucum: 'mmol/L', high: 6.5, decimals: 1, specimen: 'serum' },
  ldl: { key: 'ldl', coding: loinc('22748-8', 'Cholesterol in LDL [Moles/volume] in Serum or Plasma'), unit: 'mmol/l', ucum: 'mmol/L', high: 2.6, decimals: 1, specimen: 'serum' },
  potassium: { key: 'potassium', coding: loinc('2823-3', 'Potassium [Moles/volume] in Serum or Plasma'), unit: 'mmol/l', ucum: 'mmol/L', low: 3.5, high: 5.0, decimals: 1, specimen: 'serum' },
  sodium: { key: 'sodium', coding: loinc('2951-2', 'Sodium [Moles/volume] in Serum or Plasma'), unit: 'mmol/l', ucum: 'mmol/L', low: 136, high: 146, decimals: 0, specimen: 'serum' },
  hemoglobin: { key: 'hemoglobin', coding: loinc('59260-0', 'Hemoglobin [Moles/volume] in Blood'), unit: 'mmol/l', ucum: 'mmol/L', low: 7.5, high: 10.0, decimals: 1, specimen: 'blood' },
  ntprobnp: { key: 'ntprobnp', coding: loinc('33762-6', 'Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma'), unit: 'pg/ml', ucum: 'pg/mL', high: 125, decimals: 0, specimen: 'serum' },
} as const satisfies Record<string, LabDef>;

export type LabKey = keyof typeof LAB;

export const SPECIMEN_TYPES = {
  serum: sct('119364003', 'Serum'),
  blood: sct('119297000', 'Bloed'),
} as const;

// ------------------------------------------------------------------------------------------- procedures

export interface ProcedureDef {
  coding: Coding;
  minAge: number;
}

export const HOSPITAL_PROCEDURES: readonly ProcedureDef[] = [
  { coding: sct('80146002', 'Appendectomie'), minAge: 5 },
  { coding: sct('73761001', 'Coloscopie'), minAge: 45 },
  { coding: sct('609588000', 'Totale knieprothese'), minAge: 60 },
  { coding: sct('52734007', 'Totale heupprothese'), minAge: 60 },
  { coding: sct('168537006', 'Thoraxfoto'), minAge: 18 },
];

export const ECG = sct('29303009', 'Elektrocardiogram');
export const WOUND_CARE = sct('225358003', 'Wondverzorging');

// ------------------------------------------------------------------------------------------- vaccination

export const VACCINES = {
  influenza: { system: ATC, code: 'J07BB02', display: 'Influenza, geïnactiveerd, split virus of oppervlakte-antigeen' },
  covid: { system: ATC, code: 'J07BN01', display: 'COVID-19, RNA-gebaseerd vaccin' },
  pneumococcal: { system: ATC, code: 'J07AL02', display: 'Pneumokokken, gezuiverd polysacharide-antigeen geconjugeerd' },
} as const;
