/**
 * The GP record (huisartsdossier): the most complete record in the region. Problem list, allergies, smoking
 * status, consults for acute episodes, chronic-care check-ups by the practice nurse (POH) with blood pressure
 * and weight series, lab orders, MP9 medication agreements and medication use, flu vaccinations and the next
 * planned check-up.
 */
import type { Reference } from 'fhir/r4';
import { allergy, encounter, immunization, problem, procedure, tobaccoUse } from '../builders/clinical.ts';
import { medicationAgreement, medicationUse } from '../builders/medication.ts';
import { bloodPressure, bodyHeight, bodyWeight } from '../builders/observations.ts';
import { appointment } from '../builders/workflow.ts';
import {
  CHRONIC,
  ECG,
  LAB,
  PROBLEM_TYPE_COMPLAINT,
  PROBLEM_TYPE_DIAGNOSIS,
  VACCINES,
  type ChronicKey,
} from '../data/terminology.ts';
import type { Plan } from '../plan.ts';
import { clamp, round, type Rng } from '../prng.ts';
import { staffOf } from '../region.ts';
import type { PatientScope } from '../scope.ts';
import { officeMinute, schedule, walk } from '../series.ts';
import { reportLab, type LabDraw } from './lab.ts';

const CONTROL_INTERVAL: Partial<Record<ChronicKey, number>> = {
  diabetes: 91,
  hypertension: 182,
  heartFailure: 120,
  copd: 182,
  asthma: 365,
};

export interface GpResult {
  conditionRefs: Map<ChronicKey, Reference>;
}

export function writeGp(scope: PatientScope, plan: Plan): void {
  const t = scope.gp;
  const p = scope.person;
  const rng = scope.rng.fork('gp');
  const subject = scope.subject(t);
  const doctor = scope.role(t, scope.gpDoctor);
  const nurseProf = staffOf(t, 'nurse')[0] ?? scope.gpDoctor;
  const nurse = scope.role(t, nurseProf);
  const org = scope.org(t, t);
  const asOf = scope.asOf;

  // Problem list: chronic conditions as diagnoses.
  const conditionRefs = new Map<ChronicKey, Reference>();
  for (const key of p.chronic) {
    const ref = scope.emit(t, problem(scope.id(t, 'Condition'), subject, CHRONIC[key].coding, PROBLEM_TYPE_DIAGNOSIS, p.onset.get(key)!, { asserter: doctor }));
    conditionRefs.set(key, ref);
  }

  for (const a of plan.allergies) scope.emit(t, allergy(scope.id(t, 'AllergyIntolerance'), subject, a.def, a.onsetDay, doctor));

  if (p.age >= 16) scope.emit(t, tobaccoUse(scope.id(t, 'Observation'), subject, p.smoker, rng.int(plan.windowStart, asOf - 1)));

  // Acute episodes seen at the practice.
  const acuteRefs = new Map<number, Reference>();
  for (const ep of plan.acute) {
    if (ep.setting !== 'gp') continue;
    const encId = scope.id(t, 'Encounter');
    const encRef = { reference: `Encounter/${encId}`, type: 'Encounter' };
    const minute = officeMinute(rng);
    const cond = scope.emit(
      t,
      problem(scope.id(t, 'Condition'), subject, ep.def.coding, rng.chance(0.5) ? PROBLEM_TYPE_DIAGNOSIS : PROBLEM_TYPE_COMPLAINT, ep.day, {
        abatementDay: Math.min(asOf, ep.day + rng.int(7, 21)),
        encounter: encRef,
        asserter: doctor,
      }),
    );
    acuteRefs.set(ep.day, cond);
    scope.emit(t, encounter(encId, subject, 'AMB', ep.day, minute, { participant: doctor, serviceProvider: org, reason: cond, typeText: 'Consult huisarts' }));
    if (p.age >= 18 && rng.chance(0.25)) {
      const sys = Math.round(rng.normal(p.chronic.includes('hypertension') ? 145 : 124, 10));
      scope.emit(t, bloodPressure(scope.id(t, 'Observation'), subject, ep.day, minute + 5, sys, Math.round(sys * 0.6 + rng.normal(5, 4)), { performer: doctor, encounter: encRef }));
    }
  }

  writeChronicCare(scope, plan, rng, conditionRefs, nurse, org);

  // MP9: medication agreements for chronic medication and short courses, and the recorded medication use.
  for (const m of plan.chronicMeds) {
    const med = scope.medication(t, m.product);
    const reason = typeof m.reason === 'string' ? conditionRefs.get(m.reason) : undefined;
    scope.emit(t, medicationAgreement(scope.id(t, 'MedicationRequest'), m.treatmentId, subject, med, m.product, m.startDay, doctor, { reason }));
    const asserted = Math.max(m.startDay + 14, asOf - rng.int(10, 200));
    scope.emit(t, medicationUse(scope.id(t, 'MedicationStatement'), m.treatmentId, subject, med, m.product, m.startDay, Math.min(asserted, asOf), { author: nurse, prescriber: doctor, informationSource: subject, active: true }));
  }
  for (const c of plan.courses) {
    const med = scope.medication(t, c.product);
    const reason = acuteRefs.get(c.startDay);
    scope.emit(t, medicationAgreement(scope.id(t, 'MedicationRequest'), c.treatmentId, subject, med, c.product, c.startDay, doctor, { days: c.days, reason }));
  }

  for (const day of plan.fluShots) {
    scope.emit(t, immunization(scope.id(t, 'Immunization'), subject, VACCINES.influenza, day, doctor));
  }
  if (p.age >= 60 && rng.chance(0.4)) {
    scope.emit(t, immunization(scope.id(t, 'Immunization'), subject, VACCINES.covid, rng.int(plan.windowStart, asOf - 1), doctor));
  }

  for (const key of ['heartFailure', 'atrialFibrillation'] as const) {
    const onset = p.onset.get(key);
    if (onset !== undefined && onset >= plan.windowStart) {
      scope.emit(t, procedure(scope.id(t, 'Procedure'), subject, ECG, onset, { performer: doctor, reason: conditionRefs.get(key) }));
    }
  }
}

/** Check-ups for chronic disease: nurse visits with BP/weight, lab twice a year, the next appointment. */
function writeChronicCare(
  scope: PatientScope,
  plan: Plan,
  rng: Rng,
  conditionRefs: Map<ChronicKey, Reference>,
  nurse: Reference,
  org: Reference,
): void {
  const t = scope.gp;
  const p = scope.person;
  const asOf = scope.asOf;
  const subject = scope.subject(t);
  const followed = p.chronic.filter((k) => CONTROL_INTERVAL[k] !== undefined);
  if (followed.length === 0) return;

  const days = new Set<number>();
  for (const key of followed) {
    const from = Math.max(plan.windowStart, p.onset.get(key)! + 14);
    for (const d of schedule(rng, from, asOf, CONTROL_INTERVAL[key]!)) days.add(d);
  }
  // Merge visits that fall within two weeks of each other into one.
  const visits: number[] = [];
  for (const d of [...days].sort((a, b) => a - b)) if (visits.length === 0 || d - visits[visits.length - 1] > 14) visits.push(d);
  if (visits.length === 0) return;

  const hasDm = p.chronic.includes('diabetes');
  const measuresBp = p.chronic.some((k) => k === 'hypertension' || k === 'diabetes' || k === 'heartFailure');
  const measuresWeight = hasDm || p.chronic.includes('heartFailure') || p.chronic.includes('copd');
  const sysSeries = walk(rng, visits.length, { start: rng.normal(p.chronic.includes('hypertension') ? 150 : 132, 10), target: 136, pull: 0.3, noise: 6, min: 95, max: 210, decimals: 0 });
  const kg0 = p.age >= 18 ? p.bmi * (p.heightCm / 100) ** 2 : 8 + p.age * 3;
  const weightSeries = walk(rng, visits.length, { start: kg0, target: kg0 - (hasDm ? 2 : 0), pull: 0.1, noise: 0.9, min: 30, max: 200, decimals: 1 });
  const hba1cSeries = walk(rng, visits.length, { start: rng.normal(58, 9), target: 52, pull: 0.25, noise: 3, min: 38, max: 110, decimals: 0 });

  const reason = conditionRefs.get(followed[0]);
  let lastLab = -Infinity;
  let lastPanel = -Infinity;
  visits.forEach((day, i) => {
    const minute = officeMinute(rng);
    const enc = scope.emit(t, encounter(scope.id(t, 'Encounter'), subject, 'AMB', day, minute, { participant: nurse, serviceProvider: org, reason, durationMin: 20, typeText: 'Controle chronische zorg (POH)' }));
    if (measuresBp) {
      const sys = sysSeries[i];
      const dia = Math.round(clamp(sys * 0.55 + rng.normal(8, 4), 50, 125));
      scope.emit(t, bloodPressure(scope.id(t, 'Observation'), subject, day, minute + 5, sys, dia, { performer: nurse, encounter: enc }));
    }
    if (measuresWeight) scope.emit(t, bodyWeight(scope.id(t, 'Observation'), subject, day, minute + 8, weightSeries[i], { performer: nurse, encounter: enc }));
    if (i === 0 && p.age >= 18) scope.emit(t, bodyHeight(scope.id(t, 'Observation'), subject, day, minute + 9, p.heightCm, { performer: nurse, encounter: enc }));

    // Blood is drawn a week before the check-up, at most twice a year; a full panel once a year.
    if (day - lastLab >= 170 && day - 7 > plan.windowStart) {
      lastLab = day;
      const draw: LabDraw = { day: day - 7, minute: 8 * 60 + rng.int(0, 24) * 5, results: [] };
      if (hasDm) {
        draw.results.push({ def: LAB.hba1c, value: hba1cSeries[i] });
        draw.results.push({ def: LAB.glucose, value: round(hba1cSeries[i] * 0.12 + rng.normal(1, 0.6), 1) });
      }
      if (day - lastPanel >= 350) {
        lastPanel = day;
        const creat = Math.round(clamp(rng.normal(72 + (p.sex === 'male' ? 12 : 0) + (p.age > 70 ? 15 : 0) + (p.chronic.includes('heartFailure') ? 25 : 0), 12), 40, 300));
        draw.results.push({ def: LAB.creatinine, value: creat });
        draw.results.push({ def: LAB.egfr, value: Math.round(clamp(140 * (creat / (p.sex === 'male' ? 80 : 62)) ** -1.1 * 0.993 ** p.age, 8, 120)) });
        draw.results.push({ def: LAB.potassium, value: round(clamp(rng.normal(4.3, 0.35), 2.8, 6.5), 1) });
        const chol = round(clamp(rng.normal(4.8, 0.8), 2.5, 9), 1);
        draw.results.push({ def: LAB.cholesterol, value: chol });
        draw.results.push({ def: LAB.ldl, value: round(clamp(chol * 0.6 + rng.normal(0, 0.3), 0.8, 6), 1) });
        if (p.chronic.includes('heartFailure')) draw.results.push({ def: LAB.sodium, value: Math.round(clamp(rng.normal(139, 3), 125, 150)) });
      }
      if (draw.results.length > 0) reportLab(scope, scope.region.bySector.lab[0], t, draw);
    }
  });

  const next = asOf + rng.int(7, 90);
  const nurseProf = staffOf(t, 'nurse')[0] ?? scope.gpDoctor;
  scope.emit(t, appointment(scope.id(t, 'Appointment'), subject, scope.role(t, nurseProf), next, officeMinute(rng), 20, 'Controle chronische zorg bij praktijkondersteuner', 'booked'));
}
