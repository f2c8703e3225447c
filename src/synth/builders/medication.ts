/**
 * MP9 (Medicatieproces 9 v3.0) building blocks: the pharmaceutical product (Medication), medication agreement
 * (MedicationRequest, category 33633005), medication dispense (MedicationDispense, 373784005) and medication
 * use (MedicationStatement, 422979000). All parts of one treatment share a PharmaceuticalTreatment identifier.
 */
import type { Dosage, Medication, MedicationDispense, MedicationRequest, MedicationStatement, Reference } from 'fhir/r4';
import {
  GPK,
  GSTD_ROUTE,
  MP9_MA_ID_SYSTEM,
  MP9_MGB_ID_SYSTEM,
  MP9_MVE_ID_SYSTEM,
  MP9_TREATMENT_ID_SYSTEM,
  PRK,
  sct,
  UCUM,
  type ProductDef,
} from '../data/terminology.ts';
import { isoDate, isoDateTime } from '../dates.ts';
import { meta, PROFILE } from '../profiles.ts';
import { cc } from './common.ts';

const NICTIZ_EXT = 'http://nictiz.nl/fhir/StructureDefinition/';

export function medication(id: string, p: ProductDef): Medication {
  return {
    resourceType: 'Medication',
    id,
    meta: meta(PROFILE.pharmaceuticalProduct),
    code: {
      coding: [
        { system: PRK, code: p.prk, display: p.display, userSelected: true },
        { system: GPK, code: p.gpk, display: p.display },
      ],
      text: p.display,
    },
  };
}

function pieces(n: number) {
  return {
    extension: [
      {
        url: 'http://hl7.org/fhir/StructureDefinition/iso21090-PQ-translation',
        valueQuantity: { value: n, unit: 'stuk', system: 'urn:oid:2.16.840.1.113883.2.4.4.1.900.2', code: '245' },
      },
    ],
    value: n,
    unit: 'stuk',
    system: UCUM,
    code: '1',
  };
}

function dosage(p: ProductDef): Dosage {
  return {
    timing: { repeat: { frequency: p.frequency, period: 1, periodUnit: 'd' } },
    route: cc({ system: GSTD_ROUTE, code: '9', display: 'oraal' }),
    doseAndRate: [{ doseQuantity: pieces(p.dose) }],
  };
}

const treatmentExt = (treatmentId: string) => ({
  url: `${NICTIZ_EXT}ext-PharmaceuticalTreatment.Identifier`,
  valueIdentifier: { system: MP9_TREATMENT_ID_SYSTEM, value: treatmentId },
});

/** Period of use: open-ended for chronic medication, `days` long for a course. */
function periodOfUse(startDay: number, days?: number) {
  return {
    url: `${NICTIZ_EXT}ext-TimeInterval.Period`,
    valuePeriod: {
      ...(days
        ? { extension: [{ url: `${NICTIZ_EXT}ext-TimeInterval.Duration`, valueDuration: { value: days, unit: 'dag', system: UCUM, code: 'd' } }] }
        : {}),
      start: isoDateTime(startDay, 0),
      ...(days ? { end: isoDateTime(startDay + days - 1, 1439) } : {}),
    },
  };
}

export function medicationAgreement(
  id: string,
  treatmentId: string,
  subject: Reference,
  med: Reference,
  p: ProductDef,
  startDay: number,
  requester: Reference,
  opts: { days?: number; reason?: Reference } = {},
): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    meta: meta(PROFILE.medicationAgreement),
    extension: [
      { url: `${NICTIZ_EXT}ext-RegistrationDateTime`, valueDateTime: isoDateTime(startDay, 9 * 60) },
      { url: `${NICTIZ_EXT}ext-RenderedDosageInstruction`, valueString: p.rendered },
      periodOfUse(startDay, opts.days),
      treatmentExt(treatmentId),
    ],
    identifier: [{ system: MP9_MA_ID_SYSTEM, value: `${treatmentId}-MA` }],
    status: 'active',
    intent: 'order',
    category: [cc(sct('33633005', 'voorschrijven van geneesmiddel'))],
    medicationReference: med,
    subject,
    authoredOn: isoDateTime(startDay, 9 * 60),
    requester,
    ...(opts.reason ? { reasonReference: [opts.reason] } : {}),
    dosageInstruction: [dosage(p)],
  };
}

export function medicationDispense(
  id: string,
  treatmentId: string,
  seq: number,
  subject: Reference,
  med: Reference,
  p: ProductDef,
  day: number,
  supplyDays: number,
  performer: Reference,
): MedicationDispense {
  const amount = p.frequency * p.dose * supplyDays;
  return {
    resourceType: 'MedicationDispense',
    id,
    meta: meta(PROFILE.medicationDispense),
    extension: [treatmentExt(treatmentId)],
    identifier: [{ system: MP9_MVE_ID_SYSTEM, value: `${treatmentId}-MVE-${seq}` }],
    status: 'completed',
    category: cc(sct('373784005', 'verstrekken van medicatie')),
    medicationReference: med,
    subject,
    performer: [{ actor: performer }],
    // The agreement lives in the prescriber's system: refer to it by identifier, as the MP9 fixtures do.
    authorizingPrescription: [
      { type: 'MedicationRequest', identifier: { system: MP9_MA_ID_SYSTEM, value: `${treatmentId}-MA` }, display: 'relatie naar medicatieafspraak' },
    ],
    quantity: pieces(amount),
    daysSupply: { value: supplyDays, unit: 'dag', system: UCUM, code: 'd' },
    whenHandedOver: isoDateTime(day, 10 * 60),
    dosageInstruction: [dosage(p)],
  };
}

export function medicationUse(
  id: string,
  treatmentId: string,
  subject: Reference,
  med: Reference,
  p: ProductDef,
  startDay: number,
  assertedDay: number,
  opts: { author?: Reference; prescriber?: Reference; informationSource?: Reference; active: boolean },
): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    id,
    meta: meta(PROFILE.medicationUse),
    extension: [
      { url: `${NICTIZ_EXT}ext-RenderedDosageInstruction`, valueString: p.rendered },
      ...(opts.prescriber ? [{ url: `${NICTIZ_EXT}ext-MedicationUse2.Prescriber`, valueReference: opts.prescriber }] : []),
      { url: `${NICTIZ_EXT}ext-AsAgreedIndicator`, valueBoolean: true },
      treatmentExt(treatmentId),
      ...(opts.author ? [{ url: `${NICTIZ_EXT}ext-MedicationUse2.Author`, valueReference: opts.author }] : []),
    ],
    identifier: [{ system: MP9_MGB_ID_SYSTEM, value: `${treatmentId}-MGB-${assertedDay}` }],
    status: opts.active ? 'active' : 'completed',
    category: cc(sct('422979000', 'bevinding betreffende gedrag met betrekking tot medicatieregime')),
    medicationReference: med,
    subject,
    effectivePeriod: { start: isoDateTime(startDay, 0) },
    dateAsserted: isoDate(assertedDay),
    ...(opts.informationSource ? { informationSource: opts.informationSource } : {}),
    dosage: [dosage(p)],
  };
}
