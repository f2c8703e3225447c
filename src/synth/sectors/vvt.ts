/**
 * Nursing and care (VVT): home care or a nursing-home stay for frail elderly people. Holds what a nursing
 * transfer (eOverdracht) draws on: problems, allergies, Barthel ADL index, pain scores, weight, nursing
 * interventions, medication use, and the transfer letter received at intake.
 */
import type { Reference } from 'fhir/r4';
import { allergy, encounter, problem } from '../builders/clinical.ts';
import { DOC_TYPES } from '../builders/documents.ts';
import { medicationUse } from '../builders/medication.ts';
import { barthel, bodyWeight, painScore } from '../builders/observations.ts';
import { appointment, nursingIntervention } from '../builders/workflow.ts';
import { CHRONIC, PROBLEM_TYPE_DIAGNOSIS, type ChronicKey } from '../data/terminology.ts';
import type { Plan } from '../plan.ts';
import { clamp, round } from '../prng.ts';
import { staffOf, type Tenant } from '../region.ts';
import type { PatientScope } from '../scope.ts';
import { walk } from '../series.ts';
import { sendLetter } from './letters.ts';

const INTERVENTIONS = [
  'Hulp bij persoonlijke verzorging',
  'Valpreventie',
  'Decubituspreventie',
  'Medicatie aanreiken en toedienen',
  'Ondersteuning bij voeding en vochtinname',
];

export function writeVvt(scope: PatientScope, plan: Plan, t: Tenant): void {
  if (!plan.vvt) return;
  const { startDay, nursingHome } = plan.vvt;
  const p = scope.person;
  const rng = scope.rng.fork('vvt');
  const subject = scope.subject(t);
  const nurseProf = rng.pick(staffOf(t, 'nurse'));
  const nurse = scope.role(t, nurseProf);
  const org = scope.org(t, t);

  const conditionRefs = new Map<ChronicKey, Reference>();
  for (const key of p.chronic) {
    conditionRefs.set(key, scope.emit(t, problem(scope.id(t, 'Condition'), subject, CHRONIC[key].coding, PROBLEM_TYPE_DIAGNOSIS, p.onset.get(key)!)));
  }

  for (const a of plan.allergies) scope.emit(t, allergy(scope.id(t, 'AllergyIntolerance'), subject, a.def, a.onsetDay));

  if (nursingHome) {
    scope.emit(t, encounter(scope.id(t, 'Encounter'), subject, 'IMP', startDay, 11 * 60, { status: 'in-progress', participant: nurse, serviceProvider: org, typeText: 'Verblijf verpleeghuis' }));
  }
  // Home-care visits (or monthly evaluations in the nursing home), at most a year's worth.
  const from = Math.max(startDay, scope.asOf - 365);
  const monthly: number[] = [];
  for (let d = from; d < scope.asOf; d += 30) monthly.push(d);
  const dependency = clamp((nursingHome ? 0.6 : 0.25) + (p.chronic.includes('dementia') ? 0.2 : 0) + rng.normal(0, 0.1), 0, 1);
  const kg0 = p.bmi * (p.heightCm / 100) ** 2;
  const weights = walk(rng, monthly.length, { start: kg0, target: kg0 - 3, pull: 0.05, noise: 0.8, min: 35, max: 160, decimals: 1 });
  monthly.forEach((day, i) => {
    const minute = 9 * 60 + rng.int(0, 96) * 5;
    if (!nursingHome) {
      scope.emit(t, encounter(scope.id(t, 'Encounter'), subject, 'HH', day, minute, { participant: nurse, serviceProvider: org, durationMin: 30, typeText: 'Wijkverpleging' }));
    }
    scope.emit(t, bodyWeight(scope.id(t, 'Observation'), subject, day, minute + 10, weights[i], { performer: nurse }));
    if (i % 2 === 0) scope.emit(t, painScore(scope.id(t, 'Observation'), subject, day, minute + 15, Math.round(clamp(rng.normal(p.chronic.includes('osteoarthritis') ? 5 : 2, 2), 0, 10)), { performer: nurse }));
    if (i % 3 === 0) scope.emit(t, barthel(scope.id(t, 'Observation'), subject, day, minute + 20, dependency, (n) => rng.int(0, n - 1), { performer: nurse }));
  });

  const n = rng.int(2, 4);
  const chosen = rng.shuffle([...INTERVENTIONS]).slice(0, n);
  for (const title of chosen) {
    scope.emit(t, nursingIntervention(scope.id(t, 'CarePlan'), subject, title, startDay, nurse, conditionRefs.values().next().value));
  }

  for (const m of plan.chronicMeds) {
    if (m.startDay > scope.asOf) continue;
    scope.emit(t, medicationUse(scope.id(t, 'MedicationStatement'), m.treatmentId, subject, scope.medication(t, m.product), m.product, m.startDay, Math.max(startDay, m.startDay), { author: nurse, informationSource: nurse, active: true }));
  }

  // Intake: the GP practice's nursing transfer, kept by the care organisation.
  const gpNurse = staffOf(scope.gp, 'nurse')[0] ?? scope.gpDoctor;
  sendLetter(scope, scope.gp, gpNurse, [t], DOC_TYPES.nursingTransfer, 'Verpleegkundige overdracht', [
    nursingHome ? 'Overdracht in verband met opname verpleeghuis.' : 'Overdracht in verband met start wijkverpleging.',
    `Problemen: ${p.chronic.map((k) => CHRONIC[k].label).join(', ') || 'geen chronische aandoeningen'}.`,
    `Gewicht ${round(kg0, 0)} kg, lengte ${p.heightCm} cm.`,
  ], startDay, 10 * 60);

  if (!nursingHome) {
    scope.emit(t, appointment(scope.id(t, 'Appointment'), subject, nurse, scope.asOf + rng.int(1, 14), 9 * 60 + rng.int(0, 96) * 5, 30, 'Bezoek wijkverpleging', 'booked'));
  }
}
