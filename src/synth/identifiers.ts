/**
 * Dutch identifiers for synthetic data. BSNs come only from the 999xxxxxx test range so a generated record can
 * never be mistaken for (or collide with) a real citizen; URA/AGB/UZI/BIG/UZOVI values are drawn from blocks that
 * look right (length, leading digits) but carry no meaning.
 */
import type { Rng } from './prng.ts';

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const URA_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/ura';
export const AGB_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/agb-z';
export const UZI_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/uzi-nr-pers';
export const BIG_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/big';
export const UZOVI_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/uzovi';

/**
 * The BSN eleven-test: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 must be divisible by 11 (and the number is 9 digits).
 */
export function passesElevenTest(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (value.charCodeAt(i) - 48);
  sum -= value.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

/** The check digit that makes an 8-digit prefix pass the eleven-test, or -1 when none exists (remainder 10). */
function elevenCheckDigit(prefix8: number): number {
  let sum = 0;
  let n = prefix8;
  for (let weight = 2; weight <= 9; weight++) {
    sum += (n % 10) * weight;
    n = Math.floor(n / 10);
  }
  const d = sum % 11;
  return d <= 9 ? d : -1;
}

const BSN_TEST_PREFIX_FIRST = 99_900_000; // 999 00000
const BSN_TEST_PREFIX_LAST = 99_999_999; // 999 99999

/**
 * A seeded permutation of every valid test BSN (999xxxxxx). Patient i gets `at(i)`, so BSNs are unique within a
 * region without a growing Set. Held as an Int32Array (~360 KB) regardless of region size.
 */
export class BsnPool {
  private readonly values: Int32Array;

  constructor(rng: Rng) {
    const tmp = new Int32Array(BSN_TEST_PREFIX_LAST - BSN_TEST_PREFIX_FIRST + 1);
    let n = 0;
    for (let p = BSN_TEST_PREFIX_FIRST; p <= BSN_TEST_PREFIX_LAST; p++) {
      const d = elevenCheckDigit(p);
      if (d >= 0) tmp[n++] = p * 10 + d;
    }
    this.values = rng.shuffle(tmp.slice(0, n));
  }

  /** How many distinct test BSNs exist (90,909): the upper bound on patients per region. */
  get capacity(): number {
    return this.values.length;
  }

  at(index: number): string {
    if (index < 0 || index >= this.values.length) {
      throw new RangeError(`BSN test range exhausted: index ${index}, capacity ${this.values.length}`);
    }
    return String(this.values[index]);
  }
}

/** The i-th valid test BSN in ascending order (tests and benchmarks: stable, no seed needed). */
export function nthTestBsn(i: number): string {
  let n = 0;
  for (let p = BSN_TEST_PREFIX_FIRST; p <= BSN_TEST_PREFIX_LAST; p++) {
    const d = elevenCheckDigit(p);
    if (d >= 0 && n++ === i) return String(p * 10 + d);
  }
  throw new RangeError(`there are only ${n} test BSNs`);
}

/** Capacity without building a pool (for argument validation). */
export const BSN_TEST_CAPACITY = (() => {
  let n = 0;
  for (let p = BSN_TEST_PREFIX_FIRST; p <= BSN_TEST_PREFIX_LAST; p++) if (elevenCheckDigit(p) >= 0) n++;
  return n;
})();

/** Draws unique identifier values; each kind keeps its own small Set (directory sizes are in the hundreds). */
export class IdentifierFactory {
  private readonly seen = new Set<string>();

  constructor(private readonly rng: Rng) {}

  private unique(make: () => string): string {
    for (;;) {
      const v = make();
      if (!this.seen.has(v)) {
        this.seen.add(v);
        return v;
      }
    }
  }

  private digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.rng.int(0, 9));
    return s;
  }

  /** URA: 8 digits. Real URAs start with 0/1/2; the synthetic block starts with 9 to stay clear of them. */
  ura(): string {
    return this.unique(() => '9' + this.digits(7));
  }

  /**
   * AGB-Z: 8 digits, the first two are the Vektis 'zorgsoort' (e.g. 01 huisartsen, 02 apothekers,
   * 03 medisch specialisten); the caller passes the prefix. The rest is random.
   */
  agb(prefix: string): string {
    return this.unique(() => prefix + this.digits(8 - prefix.length));
  }

  /** UZI person number: 9 digits; the synthetic block starts with 90 and passes the eleven-test. */
  uzi(): string {
    return this.unique(() => {
      for (;;) {
        const prefix = 90_000_000 + this.rng.int(0, 999_999);
        const d = elevenCheckDigit(prefix);
        if (d >= 0) return String(prefix * 10 + d);
      }
    });
  }

  /** BIG-register number: 11 digits. */
  big(): string {
    return this.unique(() => '9' + this.digits(10));
  }

  /** UZOVI: 4 digits; 9xxx is not used by real insurers. */
  uzovi(): string {
    return this.unique(() => '9' + this.digits(3));
  }
}
