/** A synthetic inhabitant: demographics, address, insurance, lifestyle and chronic conditions. */
import type { Coverage, Patient, Reference } from 'fhir/r4';
import { address, displayName, humanNames, type DutchAddress, type DutchName } from './builders/common.ts';
import type { City, RegionGeo } from './data/places.ts';
import type { ChronicKey } from './data/terminology.ts';
import { DAYS_PER_YEAR, isoDate } from './dates.ts';
import { BSN_SYSTEM } from './identifiers.ts';
import { pickCity, randomAddress, randomName, randomPhone, type Sex } from './people.ts';
import { drawAgeAndSex, drawChronic } from './population.ts';
import { clamp, round, type Rng } from './prng.ts';
import { meta, PROFILE } from './profiles.ts';
import type { Insurer } from './region.ts';

export interface Person {
  index: number;
  bsn: string;
  sex: Sex;
  birthDay: number;
  age: number;
  name: DutchName;
  city: City;
  address: DutchAddress;
  mobile: string;
  insurer: Insurer;
  policyNumber: string;
  chronic: ChronicKey[];
  /** Day each chronic condition was diagnosed. */
  onset: Map<ChronicKey, number>;
  smoker: 'current' | 'former' | 'never';
  heightCm: number;
  /** Body-mass index at the reference day (adults); children get an age-appropriate weight instead. */
  bmi: number;
  deceased: false;
}

/** Rough height for children by age (cm), interpolated; adults drawn around Dutch means. */
function heightFor(rng: Rng, age: number, sex: Sex): number {
  if (age >= 18) return round(rng.normal(sex === 'male' ? 183 : 169, 7), 0);
  const base = age < 1 ? 65 : age < 2 ? 80 : 80 + (age - 2) * 6.2;
  return round(base * rng.normal(1, 0.04), 0);
}

export function makePerson(rng: Rng, index: number, bsn: string, geo: RegionGeo, insurers: Insurer[], asOf: number): Person {
  const { age, sex } = drawAgeAndSex(rng);
  const birthDay = asOf - Math.floor(age * DAYS_PER_YEAR) - rng.int(0, 364);
  const city = pickCity(rng, geo);
  const chronic = drawChronic(rng, age);
  const onset = new Map<ChronicKey, number>();
  for (const key of chronic) {
    // Diagnosed some time in the last 15 years, but not before age 1 (or 30 for age-related conditions).
    const earliest = Math.max(birthDay + 365, asOf - 15 * 365);
    onset.set(key, rng.int(earliest, asOf - 60));
  }
  const smoker = age < 16 ? 'never' : rng.weighted(['current', 'former', 'never'] as const, chronic.includes('copd') ? [45, 45, 10] : [19, 30, 51]);
  const bmiMean = chronic.includes('diabetes') ? 30 : age < 18 ? 18 : 25.5;
  return {
    index,
    bsn,
    sex,
    birthDay,
    age,
    name: randomName(rng, sex),
    city,
    address: randomAddress(rng, city),
    mobile: randomPhone(rng, city, true),
    insurer: rng.weighted(
      insurers,
      insurers.map((i) => i.weight),
    ),
    policyNumber: String(rng.int(100_000_000, 999_999_999)),
    chronic,
    onset,
    smoker,
    heightCm: heightFor(rng, age, sex),
    bmi: round(clamp(rng.normal(bmiMean, 4), 15, 48), 1),
    deceased: false,
  };
}

export const patientDisplay = (p: Person): string => `Patient, ${displayName(p.name)}`;

export function buildPatient(p: Person, id: string, gp: Reference[], managingOrg: Reference): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: meta(PROFILE.patient),
    identifier: [{ system: BSN_SYSTEM, value: p.bsn }],
    active: true,
    name: humanNames(p.name),
    telecom: [{ system: 'phone', value: p.mobile, use: 'mobile' }],
    gender: p.sex,
    birthDate: isoDate(p.birthDay),
    deceasedBoolean: false,
    address: [address(p.address, 'home')],
    communication: [
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'nl', display: 'Nederlands' }] }, preferred: true },
    ],
    generalPractitioner: gp,
    managingOrganization: managingOrg,
  };
}

export function buildCoverage(p: Person, id: string, patient: Reference, payer: Reference, asOf: number): Coverage {
  const year = new Date(asOf * 86_400_000).getUTCFullYear();
  return {
    resourceType: 'Coverage',
    id,
    meta: meta(PROFILE.coverage),
    status: 'active',
    type: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.4.3.11.60.101.5.1', code: 'B', display: 'Basis' }] },
    subscriberId: p.policyNumber,
    beneficiary: patient,
    period: { start: `${year}-01-01`, end: `${year}-12-31` },
    payor: [payer],
  };
}
