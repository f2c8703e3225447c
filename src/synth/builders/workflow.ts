/** Appointments, questionnaire responses and nursing interventions. */
import type { Appointment, CarePlan, QuestionnaireResponse, Reference } from 'fhir/r4';
import { SCT } from '../data/terminology.ts';
import { isoDate, isoDateTime } from '../dates.ts';
import { meta, PROFILE } from '../profiles.ts';

export function appointment(
  id: string,
  patient: Reference,
  practitioner: Reference,
  day: number,
  minute: number,
  durationMin: number,
  description: string,
  status: Appointment['status'],
): Appointment {
  return {
    resourceType: 'Appointment',
    id,
    meta: meta(PROFILE.appointment),
    status,
    description,
    start: isoDateTime(day, minute),
    end: isoDateTime(day, minute + durationMin),
    minutesDuration: durationMin,
    participant: [
      { actor: patient, required: 'required', status: 'accepted' },
      { actor: practitioner, required: 'required', status: 'accepted' },
    ],
  };
}

/** PHQ-9 depression questionnaire: nine items scored 0–3; the total is the severity score. */
export const PHQ9_URL = 'http://loinc.org/q/44249-1';

export function phq9(id: string, subject: Reference, author: Reference, day: number, answers: number[]): QuestionnaireResponse {
  const total = answers.reduce((a, b) => a + b, 0);
  return {
    resourceType: 'QuestionnaireResponse',
    id,
    meta: meta(PROFILE.questionnaireResponse),
    questionnaire: PHQ9_URL,
    status: 'completed',
    subject,
    authored: isoDate(day),
    author,
    source: subject,
    item: [
      ...answers.map((v, i) => ({ linkId: `phq9-${i + 1}`, answer: [{ valueInteger: v }] })),
      { linkId: 'phq9-total', text: 'PHQ-9 totaalscore', answer: [{ valueInteger: total }] },
    ],
  };
}

export function nursingIntervention(
  id: string,
  subject: Reference,
  title: string,
  startDay: number,
  author: Reference,
  addresses?: Reference,
): CarePlan {
  return {
    resourceType: 'CarePlan',
    id,
    meta: meta(PROFILE.nursingIntervention),
    status: 'active',
    intent: 'plan',
    category: [{ coding: [{ system: SCT, code: '9632001', display: 'verpleegkundige interventie' }] }],
    title,
    subject,
    period: { start: isoDate(startDay) },
    author,
    ...(addresses ? { addresses: [addresses] } : {}),
    activity: [{ detail: { status: 'in-progress', description: title } }],
  };
}
