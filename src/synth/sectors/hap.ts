/**
 * The GP out-of-hours post (huisartsenpost): evening, night and weekend consults or home visits, each
 * reported to the patient's own GP with an out-of-hours report (waarneembericht).
 */
import { encounter, problem } from '../builders/clinical.ts';
import { DOC_TYPES } from '../builders/documents.ts';
import { bloodPressure } from '../builders/observations.ts';
import { PROBLEM_TYPE_COMPLAINT } from '../data/terminology.ts';
import type { Plan } from '../plan.ts';
import { clamp } from '../prng.ts';
import { staffOf, type Tenant } from '../region.ts';
import type { PatientScope } from '../scope.ts';
import { sendLetter } from './letters.ts';

export function writeHap(scope: PatientScope, plan: Plan, t: Tenant): void {
  const rng = scope.rng.fork('hap');
  for (const ep of plan.acute) {
    if (ep.setting !== 'hap') continue;
    const subject = scope.subject(t);
    const doctorProf = rng.pick(staffOf(t, 'gp'));
    const doctor = scope.role(t, doctorProf);
    // Out of hours: 17:00–23:55 or 00:00–07:55.
    const minute = rng.chance(0.7) ? 17 * 60 + rng.int(0, 83) * 5 : rng.int(0, 95) * 5;
    const encId = scope.id(t, 'Encounter');
    const encRef = { reference: `Encounter/${encId}`, type: 'Encounter' };
    const cond = scope.emit(t, problem(scope.id(t, 'Condition'), subject, ep.def.coding, PROBLEM_TYPE_COMPLAINT, ep.day, { encounter: encRef, asserter: doctor, abatementDay: Math.min(scope.asOf, ep.day + 7) }));
    scope.emit(t, encounter(encId, subject, ep.homeVisit ? 'HH' : 'AMB', ep.day, minute, { participant: doctor, serviceProvider: scope.org(t, t), reason: cond, durationMin: 15, typeText: ep.homeVisit ? 'Visite huisartsenpost' : 'Consult huisartsenpost' }));
    if (scope.person.age >= 40 && rng.chance(0.3)) {
      const sys = Math.round(clamp(rng.normal(135, 15), 90, 210));
      scope.emit(t, bloodPressure(scope.id(t, 'Observation'), subject, ep.day, minute + 5, sys, Math.round(sys * 0.6), { performer: doctor, encounter: encRef }));
    }
    sendLetter(scope, t, doctorProf, [scope.gp], DOC_TYPES.outOfHours, 'Waarneembericht huisartsenpost', [
      `Contact: ${ep.homeVisit ? 'visite' : 'consult op de post'}.`,
      `Klacht: ${ep.def.label}. Advies gegeven, zo nodig contact met eigen huisarts.`,
    ], ep.day, Math.min(minute + 20, 1435));
  }
}
