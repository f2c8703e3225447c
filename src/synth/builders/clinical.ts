/** Problems, allergies, encounters, procedures, vaccinations and tobacco use (nl-core zib2020 shapes). */
import type {
  AllergyIntolerance,
  Coding,
  Condition,
  Encounter,
  Immunization,
  Observation,
  Procedure,
  Reference,
} from 'fhir/r4';
import { ACT_CODE, SCT, sct, type AllergyDef } from '../data/terminology.ts';
import { isoDate, isoDateTime } from '../dates.ts';
import { meta, PROFILE } from '../profiles.ts';
import { cc } from './common.ts';

export function problem(
  id: string,
  subject: Reference,
  code: Coding,
  category: Coding,
  onsetDay: number,
  opts: { abatementDay?: number; encounter?: Reference; asserter?: Reference; note?: string } = {},
): Condition {
  const active = opts.abatementDay === undefined;
  return {
    resourceType: 'Condition',
    id,
    meta: meta(PROFILE.problem),
    clinicalStatus: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
          code: active ? 'active' : 'resolved',
          display: active ? 'Active' : 'Resolved',
        },
      ],
    },
    verificationStatus: {
      // nl-core requires the zib code next to the FHIR one.
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed', display: 'Confirmed' },
        sct('410605003', 'Aanwezigheid bevestigd'),
      ],
    },
    category: [cc(category)],
    code: cc(code),
    subject,
    ...(opts.encounter ? { encounter: opts.encounter } : {}),
    onsetDateTime: isoDate(onsetDay),
    ...(active ? {} : { abatementDateTime: isoDate(opts.abatementDay!) }),
    recordedDate: isoDate(onsetDay),
    ...(opts.asserter ? { asserter: opts.asserter } : {}),
    ...(opts.note ? { note: [{ text: opts.note }] } : {}),
  };
}

const ALLERGY_CATEGORY_CODE: Record<AllergyDef['category'], Coding> = {
  medication: sct('419511003', 'neiging tot ongewenste reactie op medicatie en/of drug'),
  food: sct('418471000', 'neiging tot ongewenste reactie op voedsel'),
  environment: sct('426232007', 'omgevingsgerelateerde allergie'),
  biologic: sct('419199007', 'allergie voor substantie'),
};

export function allergy(id: string, patient: Reference, def: AllergyDef, onsetDay: number, recorder?: Reference): AllergyIntolerance {
  return {
    resourceType: 'AllergyIntolerance',
    id,
    meta: meta(PROFILE.allergy),
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active', display: 'Active' }],
    },
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed', display: 'Confirmed' }],
    },
    category: [def.category],
    _category: [
      { extension: [{ url: 'http://nictiz.nl/fhir/StructureDefinition/ext-CodeSpecification', valueCodeableConcept: cc(ALLERGY_CATEGORY_CODE[def.category]) }] },
    ],
    criticality: def.reaction.code === '39579001' ? 'high' : 'low',
    code: cc(def.coding),
    patient,
    onsetDateTime: isoDate(onsetDay),
    recordedDate: isoDate(onsetDay),
    ...(recorder ? { recorder } : {}),
    reaction: [
      {
        substance: cc(def.coding),
        manifestation: [cc(def.reaction)],
        severity: def.reaction.code === '39579001' ? 'severe' : 'mild',
      },
    ],
  } as AllergyIntolerance;
}

const CLASS_DISPLAY: Record<string, string> = {
  AMB: 'ambulatory', EMER: 'emergency', IMP: 'inpatient encounter', HH: 'home health', VR: 'virtual', FLD: 'field',
};

export function encounter(
  id: string,
  subject: Reference,
  klass: 'AMB' | 'EMER' | 'IMP' | 'HH' | 'VR' | 'FLD',
  startDay: number,
  startMinute: number,
  opts: {
    endDay?: number;
    durationMin?: number;
    participant?: Reference;
    serviceProvider?: Reference;
    reason?: Reference;
    typeText?: string;
    status?: Encounter['status'];
  } = {},
): Encounter {
  const endDay = opts.endDay ?? startDay;
  const endMinute = opts.endDay !== undefined ? 600 : startMinute + (opts.durationMin ?? 10);
  return {
    resourceType: 'Encounter',
    id,
    meta: meta(PROFILE.encounter),
    status: opts.status ?? 'finished',
    class: { system: ACT_CODE, code: klass, display: CLASS_DISPLAY[klass] },
    ...(opts.typeText ? { type: [{ text: opts.typeText }] } : {}),
    subject,
    ...(opts.participant ? { participant: [{ individual: opts.participant }] } : {}),
    period:
      opts.status === 'planned'
        ? { start: isoDateTime(startDay, startMinute) }
        : { start: isoDateTime(startDay, startMinute), end: isoDateTime(endDay, endMinute) },
    ...(opts.reason ? { reasonReference: [opts.reason] } : {}),
    ...(opts.serviceProvider ? { serviceProvider: opts.serviceProvider } : {}),
  };
}

export function procedure(
  id: string,
  subject: Reference,
  code: Coding,
  day: number,
  opts: { performer?: Reference; encounter?: Reference; reason?: Reference; location?: Reference } = {},
): Procedure {
  return {
    resourceType: 'Procedure',
    id,
    meta: meta(PROFILE.procedure),
    status: 'completed',
    category: cc(sct('387713003', 'Chirurgische verrichting')),
    code: cc(code),
    subject,
    ...(opts.encounter ? { encounter: opts.encounter } : {}),
    performedDateTime: isoDate(day),
    ...(opts.performer ? { performer: [{ actor: opts.performer }] } : {}),
    ...(opts.location ? { location: opts.location } : {}),
    ...(opts.reason ? { reasonReference: [opts.reason] } : {}),
  };
}

export function immunization(id: string, patient: Reference, vaccine: Coding, day: number, performer?: Reference): Immunization {
  return {
    resourceType: 'Immunization',
    id,
    meta: meta(PROFILE.vaccination),
    status: 'completed',
    vaccineCode: cc(vaccine),
    patient,
    occurrenceDateTime: isoDate(day),
    ...(performer
      ? {
          performer: [
            {
              function: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0443', code: 'AP', display: 'Administering Provider' }] },
              actor: performer,
            },
          ],
        }
      : {}),
  };
}

const TOBACCO: Record<'current' | 'former' | 'never', Coding> = {
  current: sct('77176002', 'Roker'),
  former: sct('8517006', 'Voormalig roker'),
  never: sct('266919005', 'Nooit gerookt'),
};

export function tobaccoUse(id: string, subject: Reference, status: 'current' | 'former' | 'never', day: number): Observation {
  return {
    resourceType: 'Observation',
    id,
    meta: meta(PROFILE.tobaccoUse),
    status: 'final',
    category: [cc({ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'social-history', display: 'Social History' })],
    code: cc({ system: SCT, code: '365980008', display: 'bevinding betreffende tabakgebruik en blootstelling aan tabaksrook' }),
    subject,
    effectiveDateTime: isoDate(day),
    valueCodeableConcept: cc(TOBACCO[status]),
  };
}
