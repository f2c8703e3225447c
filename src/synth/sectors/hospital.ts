/**
 * The general hospital: outpatient follow-up of chronic disease by the right specialism, emergency
 * department visits (after an ambulance ride) with admission, elective surgery, the hospital's own lab,
 * medication verification at admission (MP9 medication use) and letters to the GP.
 */
import type { Reference } from 'fhir/r4';
import { allergy, encounter, problem, procedure } from '../builders/clinical.ts';
import { DOC_TYPES } from '../builders/documents.ts';
import { medicationUse } from '../builders/medication.ts';
import { bloodPressure, bodyWeight, heartRate, labResult, specimen } from '../builders/observations.ts';
import { appointment } from '../builders/workflow.ts';
import { CHRONIC, HOSPITAL_PROCEDURES, LAB, PROBLEM_TYPE_DIAGNOSIS, type ChronicKey, type RoleKey } from '../data/terminology.ts';
import { isoDate } from '../dates.ts';
import type { Emergency, Plan } from '../plan.ts';
import { clamp, round, type Rng } from '../prng.ts';
import { staffOf, type Tenant } from '../region.ts';
import type { PatientScope } from '../scope.ts';
import { officeMinute, walk } from '../series.ts';
import { writeAmbulanceRide } from './ambulance.ts';
import { sendLetter } from './letters.ts';

const SPECIALISM: Partial<Record<ChronicKey, { dept: string; role: RoleKey; label: string }>> = {
  heartFailure: { dept: 'cardiology', role: 'cardiologist', label: 'Cardiologie' },
  atrialFibrillation: { dept: 'cardiology', role: 'cardiologist', label: 'Cardiologie' },
  copd: { dept: 'pulmonology', role: 'pulmonologist', label: 'Longziekten' },
  diabetes: { dept: 'internal', role: 'internist', label: 'Interne geneeskunde' },
};

function dept(scope: PatientScope, t: Tenant, key: string): Reference {
  const d = t.departments.find((x) => x.key === key)!;
  return scope.sink.directoryRef(t.id, d.organization, d.organization.name);
}

export function writeHospital(scope: PatientScope, plan: Plan, t: Tenant): void {
  const rng = scope.rng.fork('hospital');
  for (const key of plan.specialistCare) outpatient(scope, plan, t, key, rng);
  for (const em of plan.emergencies) emergency(scope, plan, t, em, rng);
  for (const day of plan.electiveDays) elective(scope, plan, t, day, rng);
}

function outpatient(scope: PatientScope, plan: Plan, t: Tenant, key: ChronicKey, rng: Rng): void {
  const spec = SPECIALISM[key];
  if (!spec) return;
  const p = scope.person;
  const subject = scope.subject(t);
  const doctorProf = rng.pick(staffOf(t, spec.role));
  const doctor = scope.role(t, doctorProf);
  const provider = dept(scope, t, spec.dept);
  const first = Math.max(p.onset.get(key)! + 30, plan.windowStart + rng.int(0, 120));
  if (first >= scope.asOf) return;
  const cond = scope.emit(t, problem(scope.id(t, 'Condition'), subject, CHRONIC[key].coding, PROBLEM_TYPE_DIAGNOSIS, p.onset.get(key)!, { asserter: doctor }));
  const visits: number[] = [];
  for (let d = first; d < scope.asOf; d += 182 + rng.int(-20, 60)) visits.push(d);
  const bnp = walk(rng, visits.length, { start: rng.normal(1800, 600), target: 900, pull: 0.3, noise: 250, min: 150, max: 9000, decimals: 0 });
  visits.forEach((day, i) => {
    const minute = officeMinute(rng);
    const enc = scope.emit(t, encounter(scope.id(t, 'Encounter'), subject, 'AMB', day, minute, { participant: doctor, serviceProvider: provider, reason: cond, durationMin: 15, typeText: `Polikliniek ${spec.label}` }));
    const sys = Math.round(clamp(rng.normal(134, 14), 90, 200));
    scope.emit(t, bloodPressure(scope.id(t, 'Observation'), subject, day, minute, sys, Math.round(sys * 0.58 + rng.normal(6, 4)), { performer: doctor, encounter: enc }));
    if (spec.dept === 'cardiology') {
      scope.emit(t, heartRate(scope.id(t, 'Observation'), subject, day, minute, Math.round(clamp(rng.normal(key === 'atrialFibrillation' ? 88 : 72, 12), 40, 160)), { performer: doctor, encounter: enc }));
    }
    if (key === 'heartFailure') {
      scope.emit(t, bodyWeight(scope.id(t, 'Observation'), subject, day, minute, round(p.bmi * (p.heightCm / 100) ** 2 + rng.normal(0, 1.5), 1), { performer: doctor, encounter: enc }));
      hospitalLab(scope, t, day, [
        [LAB.ntprobnp, bnp[i]],
        [LAB.sodium, Math.round(clamp(rng.normal(138, 3), 125, 150))],
        [LAB.potassium, round(clamp(rng.normal(4.4, 0.4), 2.8, 6.5), 1)],
        [LAB.creatinine, Math.round(clamp(rng.normal(105, 25), 50, 350))],
      ]);
    }
  });
  sendLetter(scope, t, doctorProf, [scope.gp], DOC_TYPES.consult, `Poliklinische brief ${spec.label}`, [
    `Geachte collega, uw patient(e) werd gezien op de polikliniek ${spec.label} op ${isoDate(first)}.`,
    `Conclusie: ${CHRONIC[key].label}. Beleid: controle over een half jaar, medicatie ongewijzigd.`,
  ], first, 16 * 60);
  const next = scope.asOf + rng.int(20, 180);
  scope.emit(t, appointment(scope.id(t, 'Appointment'), subject, doctor, next, officeMinute(rng), 15, `Controle polikliniek ${spec.label}`, 'booked'));
}

function hospitalLab(scope: PatientScope, t: Tenant, day: number, results: [(typeof LAB)[keyof typeof LAB], number][]): void {
  const subject = scope.subject(t);
  const spec = scope.emit(t, specimen(scope.id(t, 'Specimen'), subject, 'serum', day, 8 * 60 + 30));
  const performer = scope.org(t, t);
  for (const [def, value] of results) {
    scope.emit(t, labResult(scope.id(t, 'Observation'), subject, def, value, day, 10 * 60, { performer, specimen: spec }));
  }
}

function emergency(scope: PatientScope, plan: Plan, t: Tenant, em: Emergency, rng: Rng): void {
  const arrival = writeAmbulanceRide(scope, em, rng);
  const subject = scope.subject(t);
  const sehProf = rng.pick(staffOf(t, 'emergencyPhysician'));
  const seh = scope.role(t, sehProf);
  const encId = scope.id(t, 'Encounter');
  const encRef = { reference: `Encounter/${encId}`, type: 'Encounter' };
  const cond = scope.emit(t, problem(scope.id(t, 'Condition'), subject, em.def.coding, PROBLEM_TYPE_DIAGNOSIS, em.day, {
    encounter: encRef,
    asserter: seh,
    abatementDay: Math.min(scope.asOf, em.day + em.admittedDays + 30),
  }));
  scope.emit(t, encounter(encId, subject, 'EMER', em.day, arrival, { participant: seh, serviceProvider: dept(scope, t, 'emergency'), reason: cond, durationMin: 120, typeText: 'Spoedeisende hulp' }));
  scope.emit(t, heartRate(scope.id(t, 'Observation'), subject, em.day, arrival + 5, Math.round(clamp(rng.normal(90, 15), 40, 170)), { performer: seh, encounter: encRef }));
  hospitalLab(scope, t, em.day, [
    [LAB.hemoglobin, round(clamp(rng.normal(8.4, 0.9), 4, 12), 1)],
    [LAB.creatinine, Math.round(clamp(rng.normal(85, 20), 40, 300))],
    [LAB.potassium, round(clamp(rng.normal(4.2, 0.4), 2.8, 6.5), 1)],
  ]);
  if (em.admittedDays === 0) return;
  admission(scope, plan, t, em.day, em.admittedDays, em.def.key === 'ami' || em.def.key === 'chestPain' ? 'cardiology' : em.def.key === 'pneumonia' ? 'pulmonology' : 'surgery', cond, rng, em.def.key === 'hipFracture' ? HOSPITAL_PROCEDURES[3].coding : undefined);
}

function elective(scope: PatientScope, plan: Plan, t: Tenant, day: number, rng: Rng): void {
  const options = HOSPITAL_PROCEDURES.filter((x) => x.minAge <= scope.person.age);
  admission(scope, plan, t, day, rng.int(1, 4), 'surgery', undefined, rng, rng.pick(options).coding);
}

function admission(
  scope: PatientScope,
  plan: Plan,
  t: Tenant,
  day: number,
  los: number,
  deptKey: string,
  reason: Reference | undefined,
  rng: Rng,
  proc?: { system?: string; code?: string; display?: string },
): void {
  const subject = scope.subject(t);
  const roleKey: RoleKey = deptKey === 'cardiology' ? 'cardiologist' : deptKey === 'pulmonology' ? 'pulmonologist' : rng.chance(0.5) ? 'surgeon' : 'orthopedist';
  const specialistProf = rng.pick(staffOf(t, roleKey));
  const specialist = scope.role(t, specialistProf);
  const end = Math.min(day + los, scope.asOf);
  const enc = scope.emit(t, encounter(scope.id(t, 'Encounter'), subject, 'IMP', day, 14 * 60, { endDay: end, participant: specialist, serviceProvider: dept(scope, t, deptKey), reason, typeText: 'Klinische opname' }));
  if (proc) scope.emit(t, procedure(scope.id(t, 'Procedure'), subject, proc, day + (los > 1 ? 1 : 0), { performer: specialist, encounter: enc, reason, location: scope.location(t, t) }));

  // Allergies are checked at every admission; record each once per hospital.
  if (!scope.flags.has(`allergies/${t.id}`)) {
    scope.flags.add(`allergies/${t.id}`);
    for (const a of plan.allergies) scope.emit(t, allergy(scope.id(t, 'AllergyIntolerance'), subject, a.def, a.onsetDay));
  }

  // Medication verification at admission: the medication the patient actually uses, per active agreement.
  const nurse = scope.role(t, rng.pick(staffOf(t, 'nurse')));
  for (const m of plan.chronicMeds) {
    if (m.startDay > day) continue;
    scope.emit(t, medicationUse(scope.id(t, 'MedicationStatement'), m.treatmentId, subject, scope.medication(t, m.product), m.product, m.startDay, day, { author: nurse, informationSource: subject, active: true }));
  }
  {
    sendLetter(scope, t, specialistProf, [scope.gp], DOC_TYPES.discharge, 'Ontslagbrief', [
      `Opname van ${isoDate(day)} tot ${isoDate(end)}.`,
      proc ? `Verrichting: ${proc.display}.` : 'Conservatief beleid.',
      'Medicatie bij ontslag: zie medicatieoverzicht. Controle op de polikliniek over zes weken.',
    ], end, 15 * 60);
  }
}
