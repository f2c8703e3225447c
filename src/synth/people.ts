/** Random Dutch names, addresses and phone numbers. */
import type { DutchAddress, DutchName } from './builders/common.ts';
import { FEMALE_GIVEN, MALE_GIVEN, SURNAMES } from './data/names.ts';
import { POSTCODE_LETTERS, STREETS, type City, type RegionGeo } from './data/places.ts';
import type { Rng } from './prng.ts';

export type Sex = 'male' | 'female';

export function randomName(rng: Rng, sex: Sex): DutchName {
  const pool = sex === 'male' ? MALE_GIVEN : FEMALE_GIVEN;
  const count = rng.weighted([1, 2, 3], [0.35, 0.45, 0.2]);
  const given: string[] = [];
  while (given.length < count) {
    const g = rng.pick(pool);
    if (!given.includes(g)) given.push(g);
  }
  const [prefix, family] = rng.pick(SURNAMES);
  return { given, callName: given[0], prefix, family };
}

export function pickCity(rng: Rng, geo: RegionGeo): City {
  return rng.weighted(
    geo.cities,
    geo.cities.map((c) => c.weight),
  );
}

export function randomPostcode(rng: Rng, city: City): string {
  const digits = rng.int(city.postcodeFrom, city.postcodeTo);
  for (;;) {
    const letters = rng.pick([...POSTCODE_LETTERS]) + rng.pick([...POSTCODE_LETTERS]);
    if (letters !== 'SA' && letters !== 'SD' && letters !== 'SS') return `${digits} ${letters}`;
  }
}

export function randomAddress(rng: Rng, city: City): DutchAddress {
  const n = rng.int(1, 180);
  const suffix = rng.chance(0.08) ? rng.pick(['A', 'B', '-1', '-2', 'bis']) : '';
  return {
    street: rng.pick(STREETS),
    houseNumber: `${n}${suffix}`,
    postcode: randomPostcode(rng, city),
    city: city.name,
    municipality: city.municipality,
  };
}

/** Landline in the city's area code, E.164 like the zib examples; mobiles are 06 numbers. */
export function randomPhone(rng: Rng, city: City, mobile: boolean): string {
  if (mobile) return `+316${String(rng.int(10_000_000, 99_999_999))}`;
  const rest = 9 - city.areaCode.length;
  return `+31${city.areaCode}${String(rng.int(10 ** (rest - 1), 10 ** rest - 1))}`;
}
