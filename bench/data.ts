/**
 * Deterministic synthetic Dutch health data for the benchmarks (independent of src/synth on purpose: the
 * benchmark must keep measuring the same data while the full generator evolves).
 *
 * Shape of the data set:
 *  - bundle 0: a catalogue of MEDICATIONS Medication resources, PUT with fixed ids (`bench-med-001`, …);
 *  - every further bundle: PATIENTS_PER_BUNDLE patients, each with OBSERVATIONS_PER_PATIENT Observations
 *    and REQUESTS_PER_PATIENT MedicationRequests (25 resources per patient, 100 per bundle), POSTed with
 *    urn:uuid fullUrls so the server assigns ids and resolves the references inside the transaction.
 *
 * Everything derives from (seed, patient index) alone, so any bundle can be regenerated independently (the
 * ingest clients generate bundles lazily, and the search scenarios regenerate a patient to know its data).
 */
import type { Bundle, BundleEntry, Medication, MedicationRequest, Observation, Patient } from 'fhir/r4';

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const LOINC = 'http://loinc.org';
export const ATC = 'http://www.whocc.no/atc';

export const MEDICATIONS = 100;
export const OBSERVATIONS_PER_PATIENT = 20;
export const REQUESTS_PER_PATIENT = 4;
export const RESOURCES_PER_PATIENT = 1 + OBSERVATIONS_PER_PATIENT + REQUESTS_PER_PATIENT;
export const PATIENTS_PER_BUNDLE = 4;
export const BUNDLE_SIZE = PATIENTS_PER_BUNDLE * RESOURCES_PER_PATIENT;

/** Observations fall between these dates (inclusive start, exclusive end). */
const OBS_START = Date.UTC(2019, 0, 1);
const OBS_END = Date.UTC(2026, 0, 1);

// ---------------------------------------------------------------------------------------------------------
// PRNG: mulberry32 seeded through a 32-bit integer hash (splitmix-style), so (seed, stream, index) → stream.

function hash32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** A version-4-shaped UUID from the stream (deterministic, not random). */
  uuid(): string {
    const hex: string[] = [];
    for (let i = 0; i < 4; i++) hex.push(Math.floor(this.next() * 4294967296).toString(16).padStart(8, '0'));
    const s = hex.join('');
    const variant = ((parseInt(s[16], 16) & 0x3) | 0x8).toString(16);
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${variant}${s.slice(17, 20)}-${s.slice(20, 32)}`;
  }
}

/** Fisher–Yates shuffle in place, deterministic by seed. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const rng = new Rng(hash32(seed, 0x5eed));
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------
// Vocabulary.

const FAMILY = [
  'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Janssen', 'Visser', 'Smit', 'Meijer', 'de Boer',
  'Mulder', 'de Groot', 'Bos', 'Vos', 'Peters', 'Hendriks', 'van Leeuwen', 'Dekker', 'Brouwer', 'de Wit',
  'Dijkstra', 'Smits', 'de Graaf', 'van der Meer', 'van der Linden', 'Kok', 'Jacobs', 'de Haan', 'Vermeulen',
  'van den Heuvel', 'van der Veen', 'van den Broek', 'de Bruijn', 'de Jong', 'van der Heijden', 'Schouten',
  'Beekman', 'Willems', 'Hoekstra', 'Koster', 'Prins', 'Huisman', 'Postma', 'Kuipers', 'Wouters', 'Yilmaz',
  'El Amrani', 'Nguyen', 'Kramer', 'van Beek',
];
const GIVEN_F = ['Emma', 'Julia', 'Sophie', 'Anna', 'Maria', 'Fleur', 'Lotte', 'Sanne', 'Fatima', 'Johanna', 'Elisabeth', 'Noor', 'Tess', 'Ingrid', 'Wilhelmina'];
const GIVEN_M = ['Jan', 'Pieter', 'Daan', 'Sem', 'Lucas', 'Thomas', 'Mohammed', 'Hendrik', 'Willem', 'Kees', 'Bram', 'Johannes', 'Ruben', 'Gerrit', 'Ahmed'];
const CITIES: [string, string][] = [
  ['Amsterdam', '10'], ['Rotterdam', '30'], ['Den Haag', '25'], ['Utrecht', '35'], ['Eindhoven', '56'], ['Groningen', '97'],
  ['Tilburg', '50'], ['Almere', '13'], ['Breda', '48'], ['Nijmegen', '65'], ['Zwolle', '80'], ['Leeuwarden', '89'],
  ['Maastricht', '62'], ['Arnhem', '68'], ['Haarlem', '20'], ['Enschede', '75'],
];
const STREETS = ['Dorpsstraat', 'Kerkstraat', 'Molenweg', 'Stationsweg', 'Schoolstraat', 'Julianastraat', 'Beatrixlaan', 'Lindelaan', 'Eikenlaan', 'Nieuwstraat', 'Markt', 'Havenkade'];
const LETTERS = [...'ABCDEFGHJKLMNPRSTVWXZ'];

export interface ObsCode {
  code: string;
  display: string;
  unit: string;
  min: number;
  max: number;
  decimals: number;
  category: 'vital-signs' | 'laboratory';
}
/** LOINC codes as a Dutch GP or hospital records them (molar units for lab values, UCUM units). */
export const OBS_CODES: readonly ObsCode[] = [
  { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', min: 100, max: 175, decimals: 0, category: 'vital-signs' },
  { code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', min: 60, max: 105, decimals: 0, category: 'vital-signs' },
  { code: '8867-4', display: 'Heart rate', unit: '/min', min: 48, max: 110, decimals: 0, category: 'vital-signs' },
  { code: '29463-7', display: 'Body weight', unit: 'kg', min: 45, max: 130, decimals: 1, category: 'vital-signs' },
  { code: '8302-2', display: 'Body height', unit: 'cm', min: 150, max: 200, decimals: 0, category: 'vital-signs' },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', min: 17, max: 38, decimals: 1, category: 'vital-signs' },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', min: 35.8, max: 39.5, decimals: 1, category: 'vital-signs' },
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', min: 4.2, max: 10.5, decimals: 1, category: 'laboratory' },
  { code: '15074-8', display: 'Glucose [Moles/volume] in Blood', unit: 'mmol/L', min: 3.8, max: 14, decimals: 1, category: 'laboratory' },
  { code: '14647-2', display: 'Cholesterol [Moles/volume] in Serum or Plasma', unit: 'mmol/L', min: 3, max: 8.5, decimals: 1, category: 'laboratory' },
  { code: '14682-9', display: 'Creatinine [Moles/volume] in Serum or Plasma', unit: 'umol/L', min: 45, max: 180, decimals: 0, category: 'laboratory' },
  { code: '59260-0', display: 'Hemoglobin [Moles/volume] in Blood', unit: 'mmol/L', min: 6.5, max: 10.5, decimals: 1, category: 'laboratory' },
];

const DRUGS: [string, string, string[], string][] = [
  // [name, ATC, strengths, form]
  ['Metformine', 'A10BA02', ['500 mg', '850 mg', '1000 mg'], 'tablet'],
  ['Simvastatine', 'C10AA01', ['10 mg', '20 mg', '40 mg'], 'tablet'],
  ['Atorvastatine', 'C10AA05', ['10 mg', '20 mg', '40 mg', '80 mg'], 'tablet'],
  ['Omeprazol', 'A02BC01', ['10 mg', '20 mg', '40 mg'], 'capsule'],
  ['Pantoprazol', 'A02BC02', ['20 mg', '40 mg'], 'tablet'],
  ['Metoprolol', 'C07AB02', ['50 mg', '100 mg', '200 mg'], 'tablet met gereguleerde afgifte'],
  ['Amlodipine', 'C08CA01', ['5 mg', '10 mg'], 'tablet'],
  ['Lisinopril', 'C09AA03', ['5 mg', '10 mg', '20 mg'], 'tablet'],
  ['Losartan', 'C09CA01', ['50 mg', '100 mg'], 'tablet'],
  ['Hydrochloorthiazide', 'C03AA03', ['12,5 mg', '25 mg'], 'tablet'],
  ['Acetylsalicylzuur', 'B01AC06', ['80 mg', '100 mg'], 'tablet'],
  ['Paracetamol', 'N02BE01', ['500 mg', '1000 mg'], 'tablet'],
  ['Ibuprofen', 'M01AE01', ['200 mg', '400 mg', '600 mg'], 'tablet'],
  ['Levothyroxine', 'H03AA01', ['25 ug', '50 ug', '100 ug'], 'tablet'],
  ['Salbutamol', 'R03AC02', ['100 ug/dosis'], 'inhalatieaerosol'],
  ['Sertraline', 'N06AB06', ['50 mg', '100 mg'], 'tablet'],
  ['Furosemide', 'C03CA01', ['20 mg', '40 mg'], 'tablet'],
  ['Apixaban', 'B01AF02', ['2,5 mg', '5 mg'], 'tablet'],
  ['Amoxicilline', 'J01CA04', ['250 mg', '500 mg', '750 mg'], 'tablet'],
  ['Gliclazide', 'A10BB09', ['30 mg', '80 mg'], 'tablet met gereguleerde afgifte'],
  ['Insuline glargine', 'A10AE04', ['100 E/ml'], 'injectievloeistof'],
  ['Colecalciferol', 'A11CC05', ['800 IE', '5600 IE'], 'tablet'],
  ['Prednisolon', 'H02AB06', ['5 mg', '30 mg'], 'tablet'],
  ['Diclofenac', 'M01AB05', ['25 mg', '50 mg', '75 mg'], 'tablet'],
  ['Oxazepam', 'N05BA04', ['10 mg', '50 mg'], 'tablet'],
  ['Tamsulosine', 'G04CA02', ['0,4 mg'], 'capsule met gereguleerde afgifte'],
  ['Macrogol', 'A06AD15', ['13,7 g'], 'poeder voor drank'],
  ['Clopidogrel', 'B01AC04', ['75 mg'], 'tablet'],
  ['Bisoprolol', 'C07AB07', ['2,5 mg', '5 mg', '10 mg'], 'tablet'],
  ['Enalapril', 'C09AA02', ['5 mg', '10 mg', '20 mg'], 'tablet'],
  ['Citalopram', 'N06AB04', ['10 mg', '20 mg'], 'tablet'],
  ['Tramadol', 'N02AX02', ['50 mg'], 'capsule'],
  ['Fluticason', 'R03BA05', ['250 ug/dosis'], 'inhalatieaerosol'],
  ['Alendroninezuur', 'M05BA04', ['70 mg'], 'tablet'],
  ['Spironolacton', 'C03DA01', ['25 mg', '50 mg'], 'tablet'],
  ['Rosuvastatine', 'C10AA07', ['5 mg', '10 mg', '20 mg'], 'tablet'],
  ['Esomeprazol', 'A02BC05', ['20 mg', '40 mg'], 'tablet'],
  ['Dapagliflozine', 'A10BK01', ['10 mg'], 'tablet'],
  ['Nitrofurantoïne', 'J01XE01', ['50 mg', '100 mg'], 'capsule'],
  ['Cetirizine', 'R06AE07', ['10 mg'], 'tablet'],
];

const DOSAGES: { text: string; frequency: number; period: number }[] = [
  { text: '1 maal per dag 1 stuk', frequency: 1, period: 1 },
  { text: '2 maal per dag 1 stuk', frequency: 2, period: 1 },
  { text: '3 maal per dag 1 stuk', frequency: 3, period: 1 },
  { text: '1 maal per week 1 stuk', frequency: 1, period: 7 },
];

// ---------------------------------------------------------------------------------------------------------
// Resources.

export function medicationId(n: number): string {
  return `bench-med-${String(n + 1).padStart(3, '0')}`;
}

/** Every drug × strength combination, in a fixed order. */
const PRODUCTS: { drug: (typeof DRUGS)[number]; strength: string }[] = DRUGS.flatMap((drug) => drug[2].map((strength) => ({ drug, strength })));

export function medication(n: number): Medication {
  // Wrap around with a packaging variant so that exactly MEDICATIONS distinct items exist.
  const variant = Math.floor(n / PRODUCTS.length);
  const { drug, strength } = PRODUCTS[n % PRODUCTS.length];
  const text = `${drug[0]} ${drug[3]} ${strength}${variant ? ` (verpakking ${variant + 1})` : ''}`;
  return {
    resourceType: 'Medication',
    id: medicationId(n),
    code: { coding: [{ system: ATC, code: drug[1], display: drug[0] }], text },
    form: { text: drug[3] },
  };
}

export function medicationBundle(): Bundle {
  const entry: BundleEntry[] = [];
  for (let n = 0; n < MEDICATIONS; n++) {
    const m = medication(n);
    entry.push({ resource: m, request: { method: 'PUT', url: `Medication/${m.id}` } });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** A valid BSN (passes the 11-test), unique per patient index for index < 9,000,000. */
export function bsn(seed: number, index: number): string {
  const core = String(1_000_000 + ((index * 7919 + (hash32(seed, 0xb5) % 9_000_000)) % 9_000_000)).padStart(7, '0');
  for (let d8 = 0; d8 <= 9; d8++) {
    const digits = `${core}${d8}`.split('').map(Number);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * digits[i];
    const check = sum % 11;
    if (check <= 9) return `${core}${d8}${check}`;
  }
  throw new Error('unreachable: some d8 always yields a check digit 0-9');
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface PatientData {
  index: number;
  /** urn:uuid fullUrl of the Patient inside its bundle. */
  fullUrl: string;
  bsn: string;
  family: string;
  patient: Patient;
  observations: Observation[];
  requests: MedicationRequest[];
}

/** Patient number `index` with all their resources; references to the patient use its urn:uuid fullUrl. */
export function patientData(seed: number, index: number): PatientData {
  const rng = new Rng(hash32(seed, 0x9a7, index));
  const fullUrl = `urn:uuid:${rng.uuid()}`;
  const female = rng.next() < 0.51;
  const family = rng.pick(FAMILY);
  const given = rng.pick(female ? GIVEN_F : GIVEN_M);
  const [city, pc2] = rng.pick(CITIES);
  const postalCode = `${pc2}${rng.int(10, 99)} ${rng.pick(LETTERS)}${rng.pick(LETTERS)}`;
  const birth = Date.UTC(1930, 0, 1) + Math.floor(rng.next() * (Date.UTC(2020, 0, 1) - Date.UTC(1930, 0, 1)));
  const id = bsn(seed, index);
  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [{ system: BSN_SYSTEM, value: id }],
    active: true,
    name: [{ use: 'official', family, given: [given], text: `${given} ${family}` }],
    telecom: [{ system: 'phone', value: `06-${String(rng.int(10_000_000, 99_999_999))}`, use: 'mobile' }],
    gender: female ? 'female' : 'male',
    birthDate: isoDate(birth),
    address: [{ use: 'home', line: [`${rng.pick(STREETS)} ${rng.int(1, 250)}`], city, postalCode, country: 'NL' }],
  };
  const subject = { reference: fullUrl, display: `${given} ${family}` };

  // A handful of codes per patient (a series each), measured at random moments in the window.
  const codes: ObsCode[] = [];
  while (codes.length < 4) {
    const c = rng.pick(OBS_CODES);
    if (!codes.includes(c)) codes.push(c);
  }
  const observations: Observation[] = [];
  for (let j = 0; j < OBSERVATIONS_PER_PATIENT; j++) {
    const c = codes[j % codes.length];
    const when = OBS_START + Math.floor(rng.next() * (OBS_END - OBS_START));
    const value = Number((c.min + rng.next() * (c.max - c.min)).toFixed(c.decimals));
    observations.push({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: c.category }] }],
      code: { coding: [{ system: LOINC, code: c.code, display: c.display }], text: c.display },
      subject,
      effectiveDateTime: new Date(when).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      valueQuantity: { value, unit: c.unit, system: 'http://unitsofmeasure.org', code: c.unit },
    });
  }

  const requests: MedicationRequest[] = [];
  for (let j = 0; j < REQUESTS_PER_PATIENT; j++) {
    const med = rng.int(0, MEDICATIONS - 1);
    const dosage = rng.pick(DOSAGES);
    const authored = OBS_START + Math.floor(rng.next() * (OBS_END - OBS_START));
    requests.push({
      resourceType: 'MedicationRequest',
      status: rng.next() < 0.7 ? 'active' : 'completed',
      intent: 'order',
      medicationReference: { reference: `Medication/${medicationId(med)}` },
      subject,
      authoredOn: isoDate(authored),
      dosageInstruction: [
        {
          text: dosage.text,
          timing: { repeat: { frequency: dosage.frequency, period: dosage.period, periodUnit: 'd' } },
          doseAndRate: [{ doseQuantity: { value: 1, unit: 'stuk', system: 'urn:oid:2.16.840.1.113883.2.4.4.1.900.2', code: '245' } }],
        },
      ],
    });
  }
  return { index, fullUrl, bsn: id, family, patient, observations, requests };
}

/** The entries of one patient in transaction order: Patient, Observations, MedicationRequests (all POST). */
function patientEntries(p: PatientData): BundleEntry[] {
  const post = (url: string) => ({ method: 'POST' as const, url });
  const entries: BundleEntry[] = [{ fullUrl: p.fullUrl, resource: p.patient, request: post('Patient') }];
  for (const o of p.observations) entries.push({ resource: o, request: post('Observation') });
  for (const r of p.requests) entries.push({ resource: r, request: post('MedicationRequest') });
  return entries;
}

/** Patient bundle number `b` (0-based): patients b*PATIENTS_PER_BUNDLE … +PATIENTS_PER_BUNDLE-1. */
export function patientBundle(seed: number, b: number): Bundle {
  const entry: BundleEntry[] = [];
  for (let k = 0; k < PATIENTS_PER_BUNDLE; k++) entry.push(...patientEntries(patientData(seed, b * PATIENTS_PER_BUNDLE + k)));
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** How many patient bundles make (about) `resources` stored resources, the medication catalogue included. */
export function patientBundlesFor(resources: number): number {
  return Math.max(1, Math.round((resources - MEDICATIONS) / BUNDLE_SIZE));
}

export function totalResources(patientBundles: number): number {
  return MEDICATIONS + patientBundles * BUNDLE_SIZE;
}
