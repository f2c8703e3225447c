/**
 * Who lives in the region: age and sex drawn from the Dutch population pyramid (CBS, 2024, 5-year bands,
 * rounded), and chronic conditions drawn per person with age-specific prevalence so that the region-wide
 * figures land near the Dutch ones (diabetes ~7%, heart failure ~1.5%, COPD ~3.5%, hypertension ~20%). The
 * steps were calibrated on a 20,000-patient run including the comorbidity multipliers below.
 */
import type { ChronicKey } from './data/terminology.ts';
import type { Rng } from './prng.ts';

/** Share of the population (percent) per 5-year band starting at 0, 5, …, 95. */
export const AGE_PYRAMID: readonly number[] = [
  5.0, 5.3, 5.6, 6.0, 6.4, 6.8, 6.6, 6.2, 5.9, 6.1, 7.0, 7.1, 6.6, 5.8, 5.3, 4.4, 2.7, 1.5, 0.6, 0.15,
];

/** Male share per band: boys slightly outnumber girls at birth, women outlive men. */
function maleShare(age: number): number {
  if (age < 60) return 0.505;
  if (age < 75) return 0.49;
  if (age < 85) return 0.44;
  return 0.34;
}

export function drawAgeAndSex(rng: Rng): { age: number; sex: 'male' | 'female' } {
  const band = rng.weighted(
    AGE_PYRAMID.map((_, i) => i),
    AGE_PYRAMID,
  );
  const age = band * 5 + rng.int(0, 4);
  return { age, sex: rng.chance(maleShare(age)) ? 'male' : 'female' };
}

/** [upper age bound (exclusive), prevalence] steps; the last step applies to all older ages. */
type Steps = readonly (readonly [number, number])[];

const PREVALENCE: Record<ChronicKey, Steps> = {
  diabetes: [[20, 0.003], [45, 0.016], [65, 0.09], [75, 0.18], [200, 0.22]],
  heartFailure: [[45, 0.0004], [65, 0.0045], [75, 0.021], [85, 0.06], [200, 0.115]],
  copd: [[40, 0.001], [55, 0.02], [65, 0.055], [75, 0.1], [200, 0.13]],
  hypertension: [[30, 0.005], [45, 0.05], [55, 0.14], [65, 0.34], [75, 0.52], [200, 0.62]],
  asthma: [[18, 0.06], [65, 0.045], [200, 0.04]],
  atrialFibrillation: [[55, 0.002], [65, 0.02], [75, 0.06], [200, 0.12]],
  dementia: [[65, 0.0005], [75, 0.02], [85, 0.08], [200, 0.25]],
  depression: [[18, 0.01], [65, 0.05], [200, 0.04]],
  anxiety: [[18, 0.01], [65, 0.04], [200, 0.02]],
  osteoarthritis: [[45, 0.005], [65, 0.06], [200, 0.15]],
};

export function prevalenceAt(key: ChronicKey, age: number): number {
  for (const [upper, p] of PREVALENCE[key]) if (age < upper) return p;
  return 0;
}

/** Conditions that make others more likely (risk multipliers applied to the base prevalence). */
const COMORBIDITY: readonly [ChronicKey, ChronicKey, number][] = [
  ['diabetes', 'hypertension', 1.4],
  ['hypertension', 'heartFailure', 1.8],
  ['diabetes', 'heartFailure', 1.5],
  ['hypertension', 'atrialFibrillation', 1.4],
];

export function drawChronic(rng: Rng, age: number): ChronicKey[] {
  const has = new Set<ChronicKey>();
  const order: ChronicKey[] = ['diabetes', 'hypertension', 'heartFailure', 'copd', 'asthma', 'atrialFibrillation', 'dementia', 'depression', 'anxiety', 'osteoarthritis'];
  for (const key of order) {
    let p = prevalenceAt(key, age);
    for (const [cause, effect, mult] of COMORBIDITY) if (effect === key && has.has(cause)) p *= mult;
    // COPD and asthma are rarely both recorded as separate chronic problems in a GP record.
    if (key === 'asthma' && has.has('copd')) p = 0;
    if (rng.chance(Math.min(p, 0.95))) has.add(key);
  }
  return order.filter((k) => has.has(k));
}
