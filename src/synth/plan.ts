/**
 * A patient's care path over the history window, decided up front so that every sector writes a consistent
 * story: the GP prescribes what the pharmacy dispenses, the lab reports what the GP ordered, the hospital's
 * discharge letter reaches the GP, an ambulance ride ends at the emergency department.
 */
import {
  ACUTE_EMERGENCY,
  ACUTE_GP,
  ALLERGIES,
  type AllergyDef,
  PRODUCTS,
  type ChronicKey,
  type ConditionDef,
  type ProductDef,
} from './data/terminology.ts';
import type { Person } from './person.ts';
import type { Rng } from './prng.ts';

/** Detailed history (visits, series, dispenses) covers the last three years. */
export const HISTORY_DAYS = 3 * 365;

export interface MedCourse {
  product: ProductDef;
  startDay: number;
  /** Course length in days; undefined for chronic (open-ended) medication. */
  days?: number;
  reason: ChronicKey | ConditionDef;
  treatmentId: string;
}

export interface AcuteEpisode {
  day: number;
  def: ConditionDef;
  setting: 'gp' | 'hap';
  /** HAP: seen at home (visite) rather than at the post. */
  homeVisit: boolean;
}

export interface Emergency {
  day: number;
  def: ConditionDef;
  admittedDays: number;
}

export interface Plan {
  windowStart: number;
  /** Allergies known to the GP, copied by the hospital and the nursing organisation. */
  allergies: { def: AllergyDef; onsetDay: number }[];
  chronicMeds: MedCourse[];
  acute: AcuteEpisode[];
  courses: MedCourse[];
  emergencies: Emergency[];
  /** Hospital outpatient care for chronic disease (specialty per condition). */
  specialistCare: ChronicKey[];
  /** Planned (elective) admissions with a procedure. */
  electiveDays: number[];
  vvt?: { startDay: number; nursingHome: boolean };
  ggz?: { startDay: number; condition: ChronicKey };
  fluShots: number[];
}

const CHRONIC_MEDS: Partial<Record<ChronicKey, readonly (readonly [ProductDef, number])[]>> = {
  diabetes: [[PRODUCTS.metformin, 0.85], [PRODUCTS.simvastatin, 0.6]],
  hypertension: [[PRODUCTS.amlodipine, 0.45], [PRODUCTS.lisinopril, 0.45], [PRODUCTS.hydrochlorothiazide, 0.3]],
  heartFailure: [[PRODUCTS.furosemide, 0.85], [PRODUCTS.metoprolol, 0.7], [PRODUCTS.lisinopril, 0.6]],
  copd: [[PRODUCTS.fluticasone, 0.7]],
  asthma: [[PRODUCTS.fluticasone, 0.6]],
  atrialFibrillation: [[PRODUCTS.apixaban, 0.8], [PRODUCTS.metoprolol, 0.5]],
  osteoarthritis: [[PRODUCTS.paracetamol, 0.5]],
};

const COURSE_FOR: Record<string, ProductDef | undefined> = {
  uri: PRODUCTS.amoxicillin,
  otitis: PRODUCTS.amoxicillin,
  uti: PRODUCTS.trimethoprim,
  lbp: PRODUCTS.paracetamol,
  sprain: PRODUCTS.paracetamol,
};

/** Days in [from, to), spread randomly (sorted). */
function daysIn(rng: Rng, n: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.int(from, Math.max(from, to - 1)));
  return out.sort((a, b) => a - b);
}

export function makePlan(rng: Rng, p: Person, asOf: number): Plan {
  const windowStart = asOf - HISTORY_DAYS;
  const bornAfter = Math.max(windowStart, p.birthDay);
  const age = p.age;
  let treatment = 0;
  const tid = () => `MBH-${p.bsn}-${++treatment}`;

  const allergies: Plan['allergies'] = [];
  for (const def of ALLERGIES) {
    if (rng.chance(def.prevalence * (age < 4 ? 0.3 : 1))) allergies.push({ def, onsetDay: rng.int(p.birthDay + 365, asOf - 1) });
  }

  const chronicMeds: MedCourse[] = [];
  const seen = new Set<string>();
  for (const key of p.chronic) {
    for (const [product, share] of CHRONIC_MEDS[key] ?? []) {
      if (seen.has(product.key) || !rng.chance(share)) continue;
      seen.add(product.key);
      chronicMeds.push({ product, startDay: p.onset.get(key)! + rng.int(0, 30), reason: key, treatmentId: tid() });
    }
  }
  if (chronicMeds.length >= 4 && rng.chance(0.5)) {
    // Polypharmacy in older patients often comes with a stomach protector.
    chronicMeds.push({ product: PRODUCTS.omeprazole, startDay: rng.int(windowStart, asOf - 30), reason: p.chronic[0], treatmentId: tid() });
  }

  // GP episodes: children and the elderly consult more often.
  const gpRate = age < 5 ? 1.6 : age < 18 ? 0.8 : age < 65 ? 0.9 : 1.5;
  const acute: AcuteEpisode[] = daysIn(rng, rng.poisson(gpRate * 3), bornAfter, asOf).map((day) => ({
    day,
    def: pickAcute(rng, age),
    setting: 'gp',
    homeVisit: false,
  }));
  const hapRate = age < 5 || age >= 75 ? 0.25 : 0.1;
  for (const day of daysIn(rng, rng.poisson(hapRate * 3), bornAfter, asOf)) {
    acute.push({ day, def: pickAcute(rng, age), setting: 'hap', homeVisit: age >= 75 && rng.chance(0.5) });
  }
  acute.sort((a, b) => a.day - b.day);

  const courses: MedCourse[] = [];
  for (const ep of acute) {
    const product = COURSE_FOR[ep.def.key];
    if (ep.setting === 'gp' && product && rng.chance(0.55)) {
      courses.push({ product, startDay: ep.day, days: product === PRODUCTS.paracetamol ? 14 : 7, reason: ep.def, treatmentId: tid() });
    }
  }

  const emergencyRate = age >= 75 ? 0.06 : age >= 50 ? 0.02 : 0.008;
  const emergencies: Emergency[] = daysIn(rng, rng.poisson(emergencyRate * 3), bornAfter, asOf - 10).map((day) => {
    let def = rng.pick(ACUTE_EMERGENCY);
    if (def.key === 'hipFracture' && age < 60) def = ACUTE_EMERGENCY[0];
    const admittedDays = def.key === 'chestPain' ? (rng.chance(0.4) ? 1 : 0) : rng.int(3, 10);
    return { day, def, admittedDays };
  });

  const specialistCare: ChronicKey[] = [];
  const spec: Partial<Record<ChronicKey, number>> = { heartFailure: 0.9, atrialFibrillation: 0.5, copd: 0.25, diabetes: 0.15 };
  for (const key of p.chronic) if (rng.chance(spec[key] ?? 0)) specialistCare.push(key);

  const electiveDays = age >= 5 && rng.chance(age >= 60 ? 0.12 : 0.04) ? [rng.int(windowStart, asOf - 30)] : [];

  let vvt: Plan['vvt'];
  const vvtChance = (age >= 85 ? 0.3 : age >= 75 ? 0.08 : age >= 65 ? 0.02 : 0) + (p.chronic.includes('dementia') ? 0.35 : 0);
  if (rng.chance(vvtChance)) {
    vvt = {
      startDay: rng.int(windowStart, asOf - 30),
      nursingHome: p.chronic.includes('dementia') ? rng.chance(0.6) : age >= 85 && rng.chance(0.3),
    };
  }

  let ggz: Plan['ggz'];
  const mental = p.chronic.find((k) => k === 'depression' || k === 'anxiety');
  if (mental && age >= 16 && age < 80 && rng.chance(0.35)) ggz = { startDay: rng.int(windowStart, asOf - 60), condition: mental };

  const fluShots: number[] = [];
  const fluEligible = age >= 60 || p.chronic.some((k) => k === 'diabetes' || k === 'heartFailure' || k === 'copd' || k === 'asthma');
  if (fluEligible) {
    const year = new Date(asOf * 86_400_000).getUTCFullYear();
    for (let y = year - 3; y < year; y++) {
      const oct15 = Date.UTC(y, 9, 15) / 86_400_000;
      if (oct15 >= bornAfter && oct15 < asOf && rng.chance(0.55)) fluShots.push(oct15 + rng.int(0, 35));
    }
  }

  return { windowStart, allergies, chronicMeds, acute, courses, emergencies, specialistCare, electiveDays, vvt, ggz, fluShots };
}

function pickAcute(rng: Rng, age: number): ConditionDef {
  for (;;) {
    const def = rng.pick(ACUTE_GP);
    if (def.key === 'otitis' && age > 12 && rng.chance(0.8)) continue;
    if (def.key === 'lbp' && age < 16) continue;
    return def;
  }
}
