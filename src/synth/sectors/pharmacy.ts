/**
 * The community pharmacy: MP9 dispenses (MedicationDispense) for every agreement the GP made — chronic
 * medication every ~90 days across the history window, courses once — each linked to the agreement by the
 * shared pharmaceutical-treatment identifier.
 */
import { medicationDispense } from '../builders/medication.ts';
import type { Plan } from '../plan.ts';
import type { PatientScope } from '../scope.ts';

export function writePharmacy(scope: PatientScope, plan: Plan): void {
  if (plan.chronicMeds.length === 0 && plan.courses.length === 0) return;
  const t = scope.pharmacy;
  const rng = scope.rng.fork('pharmacy');
  const subject = scope.subject(t);
  const org = scope.org(t, t);
  for (const m of plan.chronicMeds) {
    const med = scope.medication(t, m.product);
    let seq = 0;
    // First dispense at the start of the agreement or, for long-running medication, inside the window.
    let day = Math.max(m.startDay, plan.windowStart + rng.int(0, 80));
    while (day < scope.asOf) {
      scope.emit(t, medicationDispense(scope.id(t, 'MedicationDispense'), m.treatmentId, ++seq, subject, med, m.product, day, 90, org));
      day += 90 - rng.int(0, 10);
    }
  }
  for (const c of plan.courses) {
    const med = scope.medication(t, c.product);
    scope.emit(t, medicationDispense(scope.id(t, 'MedicationDispense'), c.treatmentId, 1, subject, med, c.product, c.startDay, c.days ?? 7, org));
  }
}
