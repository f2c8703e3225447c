/**
 * Plausible measurement series. Each series is a mean-reverting random walk: values drift around a personal
 * set-point that moves towards the treatment target once treatment starts, so HbA1c, blood pressure and
 * weight look like real follow-up data rather than independent noise.
 */
import { clamp, round, type Rng } from './prng.ts';

export interface SeriesSpec {
  start: number;
  target: number;
  /** Fraction of the gap to the target closed per step. */
  pull: number;
  noise: number;
  min: number;
  max: number;
  decimals: number;
}

export function walk(rng: Rng, steps: number, s: SeriesSpec): number[] {
  const out: number[] = [];
  let v = s.start;
  for (let i = 0; i < steps; i++) {
    v = v + (s.target - v) * s.pull + rng.normal(0, s.noise);
    v = clamp(v, s.min, s.max);
    out.push(round(v, s.decimals));
  }
  return out;
}

/** Regular visit days from `from` to `to` every `interval` days, with a few days' jitter. */
export function schedule(rng: Rng, from: number, to: number, interval: number): number[] {
  const out: number[] = [];
  for (let d = from + rng.int(0, Math.max(0, Math.floor(interval / 2))); d < to; d += interval + rng.int(-10, 10)) out.push(d);
  return out;
}

/** Weekday office hours: a minute between 08:00 and 17:00 on a 5-minute grid. */
export const officeMinute = (rng: Rng): number => 8 * 60 + rng.int(0, 108) * 5;
