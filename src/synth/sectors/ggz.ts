/**
 * Mental health care (GGZ): a treatment episode for depression or anxiety after GP referral — intake and
 * fortnightly sessions, PHQ-9 questionnaires whose scores improve over treatment, a letter to the GP and the
 * next session.
 */
import { encounter, problem } from '../builders/clinical.ts';
import { DOC_TYPES } from '../builders/documents.ts';
import { appointment, phq9 } from '../builders/workflow.ts';
import { CHRONIC, PROBLEM_TYPE_DIAGNOSIS } from '../data/terminology.ts';
import type { Plan } from '../plan.ts';
import { clamp } from '../prng.ts';
import { staffOf, type Tenant } from '../region.ts';
import type { PatientScope } from '../scope.ts';
import { officeMinute } from '../series.ts';
import { sendLetter } from './letters.ts';

export function writeGgz(scope: PatientScope, plan: Plan, t: Tenant): void {
  if (!plan.ggz) return;
  const { startDay, condition } = plan.ggz;
  const rng = scope.rng.fork('ggz');
  const subject = scope.subject(t);
  const therapistProf = rng.pick([...staffOf(t, 'healthPsychologist'), ...staffOf(t, 'psychiatrist')]);
  const therapist = scope.role(t, therapistProf);
  const org = scope.org(t, t);
  const cond = scope.emit(t, problem(scope.id(t, 'Condition'), subject, CHRONIC[condition].coding, PROBLEM_TYPE_DIAGNOSIS, startDay, { asserter: therapist }));

  const sessions = rng.int(5, 12);
  let day = startDay;
  const severity0 = rng.int(12, 22);
  for (let i = 0; i < sessions && day < scope.asOf; i++, day += 14 + rng.int(-2, 4)) {
    scope.emit(t, encounter(scope.id(t, 'Encounter'), subject, i > 0 && rng.chance(0.2) ? 'VR' : 'AMB', day, officeMinute(rng), { participant: therapist, serviceProvider: org, reason: cond, durationMin: 45, typeText: i === 0 ? 'Intake' : 'Behandelsessie' }));
    if (i % 4 === 0) {
      // Scores fall as treatment progresses; nine items of 0–3 that add up to the target total.
      const target = clamp(Math.round(severity0 - i * 1.2 + rng.normal(0, 2)), 0, 27);
      const answers = Array.from({ length: 9 }, () => 0);
      for (let k = 0; k < target; k++) {
        const j = rng.int(0, 8);
        if (answers[j] < 3) answers[j]++;
      }
      scope.emit(t, phq9(scope.id(t, 'QuestionnaireResponse'), subject, therapist, day, answers));
    }
  }
  sendLetter(scope, t, therapistProf, [scope.gp], DOC_TYPES.consult, 'Brief na intake GGZ', [
    `Intake op ${new Date(startDay * 86_400_000).toISOString().slice(0, 10)}.`,
    `Werkdiagnose: ${CHRONIC[condition].label}. Behandeling: kortdurende cognitieve gedragstherapie.`,
  ], startDay + 3, 16 * 60);
  if (day < scope.asOf + 30) {
    scope.emit(t, appointment(scope.id(t, 'Appointment'), subject, therapist, scope.asOf + rng.int(1, 21), officeMinute(rng), 45, 'Behandelsessie', 'booked'));
  }
}
