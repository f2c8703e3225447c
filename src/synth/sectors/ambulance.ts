/** Regional ambulance service: a ride (field encounter) with vital signs and a working diagnosis. */
import { encounter, problem } from '../builders/clinical.ts';
import { bloodPressure, heartRate, o2Saturation } from '../builders/observations.ts';
import { PROBLEM_TYPE_COMPLAINT } from '../data/terminology.ts';
import type { Emergency } from '../plan.ts';
import { clamp, type Rng } from '../prng.ts';
import { staffOf } from '../region.ts';
import type { PatientScope } from '../scope.ts';

/** Returns the minute of arrival at the emergency department. */
export function writeAmbulanceRide(scope: PatientScope, em: Emergency, rng: Rng): number {
  const t = scope.region.bySector.ambulance[0];
  const subject = scope.subject(t);
  const crew = scope.role(t, rng.pick(staffOf(t, 'nurse')));
  const minute = rng.int(0, 23 * 60);
  const encId = scope.id(t, 'Encounter');
  const encRef = { reference: `Encounter/${encId}`, type: 'Encounter' };
  const cond = scope.emit(t, problem(scope.id(t, 'Condition'), subject, em.def.coding, PROBLEM_TYPE_COMPLAINT, em.day, { encounter: encRef, asserter: crew, abatementDay: em.day }));
  scope.emit(t, encounter(encId, subject, 'FLD', em.day, minute, { durationMin: 45, participant: crew, serviceProvider: scope.org(t, t), reason: cond, typeText: 'Ambulancerit A1' }));
  const sys = Math.round(clamp(rng.normal(em.def.key === 'ami' ? 105 : 140, 18), 70, 220));
  scope.emit(t, bloodPressure(scope.id(t, 'Observation'), subject, em.day, minute + 10, sys, Math.round(sys * 0.6), { performer: crew, encounter: encRef }));
  scope.emit(t, heartRate(scope.id(t, 'Observation'), subject, em.day, minute + 10, Math.round(clamp(rng.normal(95, 15), 40, 180)), { performer: crew, encounter: encRef }));
  scope.emit(t, o2Saturation(scope.id(t, 'Observation'), subject, em.day, minute + 10, Math.round(clamp(rng.normal(em.def.key === 'pneumonia' ? 89 : 95, 3), 70, 100)), { performer: crew, encounter: encRef }));
  return Math.min(minute + 45, 23 * 60 + 50);
}
