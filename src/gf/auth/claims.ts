/**
 * Claims and scopes shared by the token server and the token verifier.
 *
 * Custom claims (our choice; documented in README.md). A client puts the person claims in its client assertion
 * when it asks on behalf of a professional; the token server validates them and copies them into the access token.
 *   ura             requesting organisation's URA — set by the token server from the client registry, never
 *                   taken from the client (an assertion claiming another URA is refused)
 *   uzi_nr          the professional's UZI number (digits)
 *   uzi_rolcode     the professional's role, a code of http://fhir.nl/fhir/NamingSystem/uzi-rolcode (e.g. 01.015)
 *   purpose_of_use  treatment | emergency | patient-access | secondary-use
 *   treatment_relation  true: the professional attests a treatment relation with the patient (WGBO/Wabvpz: only
 *                   those who treat the patient may consult; the attestation is audited and checked afterwards)
 */

export const PURPOSES = ['treatment', 'emergency', 'patient-access', 'secondary-use'] as const;
export type PurposeOfUse = (typeof PURPOSES)[number];

export const UZI_ROLCODE_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/uzi-rolcode';

export interface PersonClaims {
  uziNr?: string;
  uziRolcode?: string;
  purposeOfUse?: PurposeOfUse;
  treatmentRelation?: boolean;
}

/** Reads and checks the person claims of a client assertion; returns a message naming the problem. */
export function readPersonClaims(payload: Record<string, unknown>, isKnownRoleCode?: (code: string) => boolean): { ok: true; claims: PersonClaims } | { ok: false; problem: string } {
  const { uzi_nr: uzi, uzi_rolcode: role, purpose_of_use: purpose, treatment_relation: relation } = payload;
  if (relation !== undefined && relation !== true) return { ok: false, problem: 'treatment_relation, when present, must be true' };
  if (relation === true && uzi === undefined) return { ok: false, problem: 'treatment_relation is attested by a professional: it needs uzi_nr and uzi_rolcode' };
  if (uzi !== undefined && (typeof uzi !== 'string' || !/^\d{6,12}$/.test(uzi))) return { ok: false, problem: 'uzi_nr must be a string of 6-12 digits' };
  if (role !== undefined && (typeof role !== 'string' || !/^\d{2}\.\d{3}$/.test(role))) return { ok: false, problem: 'uzi_rolcode must be a UZI role code like 01.015' };
  if (typeof role === 'string' && isKnownRoleCode && !isKnownRoleCode(role)) return { ok: false, problem: `uzi_rolcode '${role}' is not in ${UZI_ROLCODE_SYSTEM}` };
  if (purpose !== undefined && (typeof purpose !== 'string' || !(PURPOSES as readonly string[]).includes(purpose))) return { ok: false, problem: `purpose_of_use must be one of ${PURPOSES.join(', ')}` };
  if ((uzi === undefined) !== (role === undefined)) return { ok: false, problem: 'uzi_nr and uzi_rolcode go together: a request on behalf of a professional carries both' };
  if (uzi !== undefined && purpose === undefined) return { ok: false, problem: 'a request on behalf of a professional needs purpose_of_use' };
  if (uzi !== undefined && purpose === 'patient-access') return { ok: false, problem: "purpose_of_use 'patient-access' cannot be combined with a professional" };
  return { ok: true, claims: { uziNr: uzi as string | undefined, uziRolcode: role as string | undefined, purposeOfUse: purpose as PurposeOfUse | undefined, treatmentRelation: relation === true ? true : undefined } };
}

// ---------------------------------------------------------------------------------------------------------------
// SMART scopes: v1 `system/Patient.read`, `system/*.write`, `system/*.*`; v2 `system/Observation.rs`.

export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface SmartScope {
  scope: string;
  context: 'system' | 'user' | 'patient';
  /** A FHIR resource type or `*`. */
  resourceType: string;
  interactions: ReadonlySet<Interaction>;
}

const V1: Record<string, Interaction[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };

/** Parses one SMART scope; undefined when it is not one (other scopes, e.g. `openid`, are not resource scopes). */
export function parseSmartScope(scope: string): SmartScope | undefined {
  const m = /^(system|user|patient)\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$/.exec(scope);
  if (!m || m[3] === '') return undefined;
  const interactions = new Set<Interaction>(V1[m[3]] ?? (m[3].split('') as Interaction[]));
  return { scope, context: m[1] as SmartScope['context'], resourceType: m[2], interactions };
}

/** Does `granted` allow `interaction` on `resourceType`? */
export function scopesAllow(granted: readonly SmartScope[], resourceType: string, interaction: Interaction): boolean {
  return granted.some((s) => (s.resourceType === '*' || s.resourceType === resourceType) && s.interactions.has(interaction));
}

/** Is everything `requested` allows also allowed by one of `allowed`? */
export function scopeCovered(requested: SmartScope, allowed: readonly SmartScope[]): boolean {
  return allowed.some(
    (a) => a.context === requested.context && (a.resourceType === '*' || a.resourceType === requested.resourceType) && [...requested.interactions].every((i) => a.interactions.has(i)),
  );
}
