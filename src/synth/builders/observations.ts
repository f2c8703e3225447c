/** Vital signs, laboratory results (with Specimen) and nursing scores as nl-core Observations. */
import type { Coding, Observation, Reference, Specimen } from 'fhir/r4';
import { LOINC, OBS_CATEGORY, SCT, SPECIMEN_TYPES, type LabDef } from '../data/terminology.ts';
import { isoDateTime } from '../dates.ts';
import { meta, PROFILE } from '../profiles.ts';
import { cc, qty } from './common.ts';

const VITAL = [cc({ system: OBS_CATEGORY, code: 'vital-signs', display: 'Vital Signs' })];

interface Common {
  performer?: Reference;
  encounter?: Reference;
}

function base(id: string, profile: string, subject: Reference, day: number, minute: number, o: Common) {
  return {
    resourceType: 'Observation' as const,
    id,
    meta: meta(profile),
    status: 'final' as const,
    subject,
    ...(o.encounter ? { encounter: o.encounter } : {}),
    effectiveDateTime: isoDateTime(day, minute),
    ...(o.performer ? { performer: [o.performer] } : {}),
  };
}

export function bloodPressure(id: string, subject: Reference, day: number, minute: number, systolic: number, diastolic: number, o: Common = {}): Observation {
  const b = base(id, PROFILE.bloodPressure, subject, day, minute, o);
  return {
    resourceType: b.resourceType,
    id: b.id,
    meta: b.meta,
    status: b.status,
    category: VITAL,
    code: cc({ system: LOINC, code: '85354-9', display: 'Blood pressure panel with all children optional' }),
    subject,
    ...(o.encounter ? { encounter: o.encounter } : {}),
    effectiveDateTime: b.effectiveDateTime,
    ...(o.performer ? { performer: [o.performer] } : {}),
    component: [
      { code: cc({ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }), valueQuantity: qty(systolic, 'mmHg', 'mm[Hg]') },
      { code: cc({ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }), valueQuantity: qty(diastolic, 'mmHg', 'mm[Hg]') },
    ],
  };
}

function vital(id: string, profile: string, code: Coding, subject: Reference, day: number, minute: number, value: ReturnType<typeof qty>, o: Common): Observation {
  const b = base(id, profile, subject, day, minute, o);
  return {
    resourceType: b.resourceType,
    id: b.id,
    meta: b.meta,
    status: b.status,
    category: VITAL,
    code: cc(code),
    subject,
    ...(o.encounter ? { encounter: o.encounter } : {}),
    effectiveDateTime: b.effectiveDateTime,
    ...(o.performer ? { performer: [o.performer] } : {}),
    valueQuantity: value,
  };
}

export const bodyWeight = (id: string, subject: Reference, day: number, minute: number, kg: number, o: Common = {}) =>
  vital(id, PROFILE.bodyWeight, { system: LOINC, code: '29463-7', display: 'Body weight' }, subject, day, minute, qty(kg, 'kg'), o);

export const bodyHeight = (id: string, subject: Reference, day: number, minute: number, cm: number, o: Common = {}) =>
  vital(id, PROFILE.bodyHeight, { system: LOINC, code: '8302-2', display: 'Body height' }, subject, day, minute, qty(cm, 'cm'), o);

export const heartRate = (id: string, subject: Reference, day: number, minute: number, bpm: number, o: Common = {}) =>
  vital(id, PROFILE.heartRate, { system: LOINC, code: '8867-4', display: 'Heart rate' }, subject, day, minute, qty(bpm, '/min'), o);

export function o2Saturation(id: string, subject: Reference, day: number, minute: number, pct: number, o: Common = {}): Observation {
  const obs = vital(id, PROFILE.o2Saturation, { system: LOINC, code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' }, subject, day, minute, qty(pct, '%'), o);
  // The profile's code pattern carries both LOINC codes (SpO2 and SaO2).
  obs.code = { coding: [{ system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' }, ...obs.code.coding!] };
  return obs;
}

export function specimen(id: string, subject: Reference, kind: LabDef['specimen'], day: number, minute: number): Specimen {
  return {
    resourceType: 'Specimen',
    id,
    meta: meta(PROFILE.specimen),
    type: cc(SPECIMEN_TYPES[kind]),
    subject,
    collection: { collectedDateTime: isoDateTime(day, minute) },
  };
}

const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export function labResult(
  id: string,
  subject: Reference,
  def: LabDef,
  value: number,
  day: number,
  minute: number,
  o: Common & { specimen?: Reference } = {},
): Observation {
  const low = 'low' in def ? def.low : undefined;
  const high = 'high' in def ? def.high : undefined;
  const flag = high !== undefined && value > high ? 'H' : low !== undefined && value < low ? 'L' : undefined;
  return {
    resourceType: 'Observation',
    id,
    meta: meta(PROFILE.lab),
    status: 'final',
    category: [
      cc({ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }),
      def.specimen === 'serum'
        ? cc({ system: SCT, code: '275711006', display: 'Serumtest' })
        : cc({ system: SCT, code: '252275004', display: 'Hematologisch onderzoek' }),
    ],
    code: cc(def.coding),
    subject,
    ...(o.encounter ? { encounter: o.encounter } : {}),
    effectiveDateTime: isoDateTime(day, minute),
    ...(o.performer ? { performer: [o.performer] } : {}),
    valueQuantity: qty(value, def.unit, def.ucum),
    ...(flag ? { interpretation: [cc({ system: INTERPRETATION, code: flag, display: flag === 'H' ? 'High' : 'Low' })] } : {}),
    ...(o.specimen ? { specimen: o.specimen } : {}),
    ...(low !== undefined || high !== undefined
      ? {
          referenceRange: [
            {
              ...(low !== undefined ? { low: qty(low, def.unit, def.ucum) } : {}),
              ...(high !== undefined ? { high: qty(high, def.unit, def.ucum) } : {}),
            },
          ],
        }
      : {}),
  };
}

export function painScore(id: string, subject: Reference, day: number, minute: number, score: number, o: Common = {}): Observation {
  return {
    resourceType: 'Observation',
    id,
    meta: meta(PROFILE.painScore),
    status: 'final',
    code: cc({ system: SCT, code: '225908003', display: 'pijnscore' }),
    subject,
    effectiveDateTime: isoDateTime(day, minute),
    ...(o.performer ? { performer: [o.performer] } : {}),
    valueInteger: score,
    method: cc({ system: 'urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.9.1', code: 'NRS', display: 'NRS' }),
  };
}

const BARTHEL_ITEM = 'urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.0.1';
/** [item code, item display, answer-list OID suffix, [answer code, display, points][]] */
const BARTHEL: readonly [string, string, string, readonly (readonly [string, string, number])[]][] = [
  ['4002004', 'BarthelIndex Darm', '1.1', [['FECAL0', 'Incontinent', 0], ['FECAL1', 'Ongelukje', 1], ['FECAL2', 'Continent', 2]]],
  ['4002003', 'BarthelIndex Blaas', '1.2', [['URIN0', 'Incontinent', 0], ['URIN1', 'Ongelukje', 1], ['URIN2', 'Continent', 2]]],
  ['4002005', 'BarthelIndex UiterlijkeVerzorging', '1.3', [['GROOM0', 'Hulp', 0], ['GROOM1', 'Onafhankelijk', 1]]],
  ['4002006', 'BarthelIndex Toiletgebruik', '1.4', [['TOIL0', 'Afhankelijk', 0], ['TOIL1', 'Hulp', 1], ['TOIL2', 'Onafhankelijk', 2]]],
  ['4002007', 'BarthelIndex Eten', '1.5', [['FEED0', 'Afhankelijk', 0], ['FEED1', 'Hulp', 1], ['FEED2', 'Onafhankelijk', 2]]],
  ['4002008', 'BarthelIndex Transfers', '1.6', [['TRANS0', 'Niet mogelijk', 0], ['TRANS1', 'Veel hulp', 1], ['TRANS2', 'Weinig hulp', 2], ['TRANS3', 'Onafhankelijk', 3]]],
  ['4002009', 'BarthelIndex Mobiliteit', '1.7', [['MOBIL0', 'Immobiel', 0], ['MOBIL1', 'Onafhankelijk met rolstoel', 1], ['MOBIL2', 'Loopt met hulp', 2], ['MOBIL3', 'Onafhankelijk', 3]]],
  ['4002010', 'BarthelIndex AanUitkleden', '1.8', [['DRESS0', 'Afhankelijk', 0], ['DRESS1', 'Hulp', 1], ['DRESS2', 'Onafhankelijk', 2]]],
  ['4002011', 'BarthelIndex TrappenLopen', '1.9', [['CLIMB0', 'Niet mogelijk', 0], ['CLIMB1', 'Hulp', 1], ['CLIMB2', 'Onafhankelijk', 2]]],
  ['4002012', 'BarthelIndex BadenDouchen', '1.10', [['BATH0', 'Afhankelijk', 0], ['BATH1', 'Onafhankelijk', 1]]],
];

/**
 * Barthel ADL index (0–20). `dependency` in [0, 1] shifts every item towards needing help, so frail
 * nursing-home residents score low and home-care clients high.
 */
export function barthel(id: string, subject: Reference, day: number, minute: number, dependency: number, pick: (n: number) => number, o: Common = {}): Observation {
  let total = 0;
  const component = BARTHEL.map(([code, display, oid, answers]) => {
    const best = answers.length - 1;
    const drop = Math.min(best, Math.round(dependency * best + pick(2) - 0.5));
    const [aCode, aDisplay, points] = answers[Math.max(0, best - Math.max(0, drop))];
    total += points;
    return {
      code: cc({ system: BARTHEL_ITEM, code, display }),
      valueCodeableConcept: cc({ system: `urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.${oid}`, code: aCode, display: aDisplay }),
    };
  });
  return {
    resourceType: 'Observation',
    id,
    meta: meta(PROFILE.barthel),
    status: 'final',
    code: cc({ system: SCT, code: '273302005', display: 'Barthel-index' }),
    subject,
    effectiveDateTime: isoDateTime(day, minute),
    ...(o.performer ? { performer: [o.performer] } : {}),
    valueInteger: total,
    component,
  };
}
