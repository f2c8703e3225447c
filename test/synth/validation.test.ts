/**
 * Validates a sample of every kind of generated resource against the profile it declares in meta.profile,
 * using the project's validator (src/fhir/validation).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from 'fhir/r4';
import { validateResource } from '../../src/fhir/validation/index.ts';
import { PROFILE } from '../../src/synth/profiles.ts';
import { generated, readTenant, tenantsOf } from './helpers.ts';

/**
 * Validator limitations, not generator errors — each names the exact issue so anything else still fails.
 * nl-core-NursingIntervention slices CarePlan.category by value on `coding` while the pattern sits on the
 * slice's CodeableConcept; the validator looks for a pattern on the `coding` child and finds none.
 */
const KNOWN_VALIDATOR_GAPS: { profile: string; diagnostics: RegExp }[] = [
  { profile: PROFILE.nursingIntervention, diagnostics: /slice 'nursingInterventionCode' of CarePlan\.category: minimum required = 1, but found 0/ },
];

test('a sample of every resource kind validates against its declared profile', async () => {
  const { dir } = await generated(400, 'validation');
  const samples = new Map<string, Resource[]>();
  for (const tenant of tenantsOf(dir)) {
    for (const resources of readTenant(dir, tenant).values()) {
      for (const r of resources) {
        const key = `${tenant.replace(/-\d+$/, '')} ${r.meta!.profile![0]}`;
        const list = samples.get(key) ?? [];
        if (list.length < 3) samples.set(key, [...list, r]);
      }
    }
  }
  const declared = new Set([...samples.keys()].map((k) => k.split(' ')[1]));
  for (const profile of Object.values(PROFILE)) assert.ok(declared.has(profile), `no generated resource declares ${profile}`);

  const failures: string[] = [];
  let validated = 0;
  for (const [key, resources] of samples) {
    for (const r of resources) {
      validated++;
      const profile = r.meta!.profile![0];
      for (const issue of validateResource(r)) {
        if (issue.severity !== 'error' && issue.severity !== 'fatal') continue;
        if (KNOWN_VALIDATOR_GAPS.some((g) => g.profile === profile && g.diagnostics.test(issue.diagnostics))) continue;
        failures.push(`${key} ${r.resourceType}/${r.id}: ${issue.expression?.join(',')} ${issue.diagnostics}`);
      }
    }
  }
  assert.ok(validated > 100, `only ${validated} resources validated`);
  assert.deepEqual(failures, []);
});
