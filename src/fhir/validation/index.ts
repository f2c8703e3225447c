/**
 * Validation API.
 * - `validateCore`: R4 structure, primitives, cardinality, required core bindings; cheap enough for every write.
 * - `validateAgainstProfile` / `validateResource`: core plus profiles (nl-core/zib, MP9, IPS), snapshots
 *   generated from differentials where needed (see profiles.ts, snapshot.ts).
 * - `listKnownProfiles` / `getSnapshot`: for $validate and the CapabilityStatement.
 */
import type { Issue } from '../outcome.ts';
import { validateCore } from './core.ts';
import { validateAgainstProfile, type ProfileValidationOptions } from './profile-validator.ts';
import { getSnapshot } from './profiles.ts';

export { validateCore, warmUpCore, isKnownResourceType } from './core.ts';
export { validateAgainstProfile, validateAgainstStructureDefinition, type ProfileValidationOptions } from './profile-validator.ts';
export { getSnapshot, listKnownProfiles } from './profiles.ts';
export { generateSnapshot, type SnapshotResolver, type SnapshotResult } from './snapshot.ts';

export interface ValidateOptions extends ProfileValidationOptions {
  /** Profiles to validate against; default: the resource's meta.profile. */
  profiles?: string[];
}

/** Core validation plus every requested (or claimed) profile that is known; unknown profiles give a warning. */
export function validateResource(resource: unknown, opts: ValidateOptions = {}): Issue[] {
  const issues = validateCore(resource);
  const r = typeof resource === 'object' && resource !== null ? (resource as { resourceType?: unknown; meta?: { profile?: unknown } }) : {};
  const claimed = Array.isArray(r.meta?.profile) ? r.meta.profile.filter((p): p is string => typeof p === 'string') : [];
  const rt = typeof r.resourceType === 'string' ? r.resourceType : 'Resource';
  for (const p of opts.profiles ?? claimed) {
    if (!getSnapshot(p)) {
      issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `Unknown profile ${p}: not validated against it`, expression: [rt] });
      continue;
    }
    issues.push(...validateAgainstProfile(resource, p, opts));
  }
  return dedupe(issues);
}

/** Core and profile layers may flag the same element for the same reason (e.g. a core required binding). */
function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.severity}|${i.code}|${i.expression?.join(',')}${i.code === 'invariant' ? `|${i.diagnostics.split(':')[0]}` : ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
