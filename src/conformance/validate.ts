/**
 * `validateProfileId` asserts through the project validator (src/fhir/validation). As Nictiz does, the
 * response is validated against the script's profile, and every Bundle entry against the profiles in
 * its own meta.profile. The validator is loaded on first use: without it the assert is reported as
 * skipped rather than silently passed.
 */
import type { Bundle, Resource } from 'fhir/r4';

interface ValidationIssue {
  severity: string;
  code?: string;
  diagnostics?: string;
  expression?: string[];
}

interface Validator {
  validateResource(resource: Resource, opts: { profiles?: string[] }): ValidationIssue[];
}

let validator: Promise<Validator | undefined> | undefined;

/** Loaded on first use: building the profile registry is expensive and only profile asserts need it. */
function loadValidator(): Promise<Validator | undefined> {
  validator ??= (import('../fhir/validation/index.ts') as Promise<Validator>).catch(() => undefined);
  return validator;
}

export interface ProfileValidation {
  result: 'pass' | 'fail' | 'skip';
  message: string;
}

const isError = (i: ValidationIssue): boolean => i.severity === 'error' || i.severity === 'fatal';

function describe(where: string, issues: ValidationIssue[]): string {
  const first = issues[0];
  const at = first.expression?.length ? ` at ${first.expression.join(',')}` : '';
  return `${where}: ${first.diagnostics ?? first.code}${at}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`;
}

export async function validateAgainstProfile(resource: Resource | undefined, profile: string | undefined): Promise<ProfileValidation> {
  if (!resource) return { result: 'fail', message: 'no resource in the response to validate' };
  const v = await loadValidator();
  if (!v) return { result: 'skip', message: 'validator (src/fhir/validation) not available' };
  const failures: string[] = [];
  const top = (v.validateResource(resource, profile ? { profiles: [profile] } : {})).filter(isError);
  if (top.length) failures.push(describe(resource.resourceType, top));
  if (resource.resourceType === 'Bundle') {
    for (const [i, entry] of ((resource as Bundle).entry ?? []).entries()) {
      const r = entry.resource;
      const profiles = r?.meta?.profile ?? [];
      if (!r || profiles.length === 0) continue;
      const issues = (v.validateResource(r, { profiles })).filter(isError);
      if (issues.length) failures.push(describe(`entry[${i}] ${r.resourceType}/${r.id ?? ''}`, issues));
    }
  }
  return failures.length
    ? { result: 'fail', message: `${failures.length} invalid: ${failures.slice(0, 3).join('; ')}` }
    : { result: 'pass', message: `valid${profile ? ` against ${profile}` : ''}` };
}
