/**
 * The regional laboratory: every blood draw ordered by a GP becomes a Specimen plus result Observations in the
 * lab tenant, and the results are sent on to the ordering practice (copies without the specimen, which stays
 * at the lab).
 */
import type { Reference } from 'fhir/r4';
import { labResult, specimen } from '../builders/observations.ts';
import type { LabDef } from '../data/terminology.ts';
import type { PatientScope } from '../scope.ts';
import type { Tenant } from '../region.ts';

export interface LabDraw {
  day: number;
  minute: number;
  results: { def: LabDef; value: number }[];
}

export function reportLab(scope: PatientScope, lab: Tenant, orderedBy: Tenant, draw: LabDraw): void {
  const labSubject = scope.subject(lab);
  const labPerformer = scope.org(lab, lab);
  const kinds = new Map<LabDef['specimen'], Reference>();
  for (const r of draw.results) {
    let spec = kinds.get(r.def.specimen);
    if (!spec) {
      spec = scope.emit(lab, specimen(scope.id(lab, 'Specimen'), labSubject, r.def.specimen, draw.day, draw.minute));
      kinds.set(r.def.specimen, spec);
    }
    scope.emit(lab, labResult(scope.id(lab, 'Observation'), labSubject, r.def, r.value, draw.day, draw.minute + 120, { performer: labPerformer, specimen: spec }));
  }
  const gpSubject = scope.subject(orderedBy);
  const gpPerformer = scope.org(orderedBy, lab);
  for (const r of draw.results) {
    scope.emit(orderedBy, labResult(scope.id(orderedBy, 'Observation'), gpSubject, r.def, r.value, draw.day, draw.minute + 120, { performer: gpPerformer }));
  }
}
