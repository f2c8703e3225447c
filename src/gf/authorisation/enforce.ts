/**
 * THE enforcement point of a provider node (ADR 0003). Every request to a tenant's personal data passes here
 * before it is dispatched:
 *
 *   authenticate  the bearer token, issued by this tenant's authorisation server, bound to the TLS client
 *                 certificate when it was issued over mTLS            → 401 otherwise
 *   organisation  the requesting URA must be a registered organisation (addressing directory)   → 403
 *   patient       a request on behalf of a professional concerns one patient (Patient/{id}, patient=,
 *                 subject=, or the patient's BSN identifier)                                      → 403
 *   purpose       treatment with the professional's attested treatment relation, or emergency with a
 *                 reason (break the glass, audited apart)                                          → 403
 *   decide        per data category of the request: the authorisation table (role × category × purpose)
 *                 AND the consent registry's closed question; registry unreachable ⇒ deny     → 403 when none
 *   narrow        the request runs in the patient's compartment and the answer keeps only the allowed
 *                 categories (src/gf/authorisation/narrow.ts)
 *
 * Consent itself is decided by the registry (src/gf/consent/decide.ts); this module asks it, over HTTP.
 */
import type { Patient, Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import type { Tenant } from '../../tenants/registry.ts';
import type { AccessContext } from '../audit/event.ts';
import type { TokenVerifier, VerifiedClaims } from '../auth/verify.ts';
import { TokenError } from '../auth/verify.ts';
import type { Decision } from '../consent/decide.ts';
import type { DecideRequest } from '../consent/registry.ts';
import { DATA_CATEGORIES, parseParam } from '../localisation/categories.ts';
import { authorise, type Purpose } from './table.ts';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const PURPOSE_CODE: Record<string, string> = { treatment: 'TREAT', emergency: 'ETREAT' };

export interface EnforcementDeps {
  /** Verifies a token for this tenant (issuer = the tenant's authorisation server, audience = its FHIR base). */
  verify(tenant: Tenant, authorization: string | undefined, peerCertificate?: Parameters<TokenVerifier>[1]): Promise<VerifiedClaims>;
  /** The organisation type (organization-type code) of a registered organisation; undefined = not registered. */
  organisation(ura: string): Promise<{ organizationType?: string } | undefined>;
  /** The consent registry's closed question (fails closed: an unreachable registry answers Deny). */
  consent(q: DecideRequest): Promise<Decision>;
  /** Reads and searches inside the tenant (no enforcement: the enforcement point itself asks). */
  dispatch(scope: RequestScope, req: FhirRequest): Promise<FhirResponse>;
  /** Emergency access and refusals go to the security stream (no personal data). */
  security?(event: Record<string, string | number | boolean | undefined>): void;
}

export interface AccessGrant {
  context: AccessContext;
  /** The one patient the request concerns (absent for the organisation's own systems). */
  compartment?: { type: 'Patient'; id: string };
  /** The nl-gf data categories the caller may see in this answer (absent = no narrowing). */
  categories?: Set<string>;
  /** Why each requested category was refused (for the OperationOutcome of a fully refused request). */
  refused: Map<string, string>;
}

const forbidden = (msg: string) => FhirError.of(403, 'forbidden', msg);

const ZORG = DATA_CATEGORIES.filter((c) => c.zorgcontext);
const ALL_CATEGORIES = ZORG.map((c) => c.code);
/** Resource type → the zorgcontext categories it falls in (worked out once, not per request). */
const CATEGORIES_BY_TYPE = new Map<string, string[]>();
for (const c of ZORG) {
  for (const type of new Set(c.params.map((p) => parseParam(p).type))) CATEGORIES_BY_TYPE.set(type, [...(CATEGORIES_BY_TYPE.get(type) ?? []), c.code]);
}

/** The data categories a request can touch, from the resource type in its path. */
export function requestedCategories(req: FhirRequest): string[] {
  const [type, , op] = req.path.split('/').filter(Boolean);
  const everything = op === '$everything' || req.path.endsWith('$everything');
  if (!type || everything) return [...ALL_CATEGORIES];
  return [...(CATEGORIES_BY_TYPE.get(type) ?? [])];
}

const PATIENT_PARAMS = new Set(['patient', 'subject', 'patient:Patient', 'subject:Patient', 'beneficiary']);

function patientParam(req: FhirRequest): string | undefined {
  for (const [k, v] of req.query) {
    if (PATIENT_PARAMS.has(k)) {
      const m = /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v);
      if (m) return m[1];
    }
  }
  return undefined;
}

function bsnParam(req: FhirRequest): string | undefined {
  for (const [k, v] of req.query) {
    if (k === 'identifier' || k.endsWith('.identifier') || k.endsWith(':identifier')) {
      const m = /^http:\/\/fhir\.nl\/fhir\/NamingSystem\/bsn\|(\d{9})$/.exec(v);
      if (m) return m[1];
    }
  }
  return undefined;
}

async function resolvePatient(deps: EnforcementDeps, scope: RequestScope, req: FhirRequest): Promise<{ id: string; bsn: string }> {
  const parts = req.path.split('/').filter(Boolean);
  let id = parts[0] === 'Patient' && parts[1] && !parts[1].startsWith('$') && !parts[1].startsWith('_') ? parts[1] : patientParam(req);
  let patient: Patient | undefined;
  const bsnInQuery = id ? undefined : bsnParam(req);
  if (bsnInQuery) {
    const found = await deps.dispatch(scope, { method: 'GET', path: 'Patient', query: [['identifier', `${BSN}|${bsnInQuery}`], ['_count', '2']], headers: {} });
    const bundle = (found.body && isRaw(found.body) ? JSON.parse(found.body.raw) : found.body) as { entry?: { resource: Resource }[] };
    const matches = (bundle.entry ?? []).filter((e) => e.resource.resourceType === 'Patient');
    if (matches.length !== 1) throw FhirError.of(404, 'not-found', 'No single patient of this organisation has that identifier');
    // The search answered with the Patient itself: no second read.
    patient = matches[0].resource as Patient;
    id = patient.id!;
  }
  if (!id) throw forbidden('A request on behalf of a professional must concern one patient (Patient/{id}, patient=, subject= or the BSN identifier)');
  if (!patient) {
    // The request is this very read (GET Patient/{id}): its answer is the version read here, not a second read
    // (src/server/interactions/read.ts; the read's own checks still run on it).
    if (parts.length === 2 && parts[0] === 'Patient' && parts[1] === id && (req.method === 'GET' || req.method === 'HEAD')) scope.readAhead ??= new Map();
    const read = await deps.dispatch(scope, { method: 'GET', path: `Patient/${id}`, query: [], headers: {} }).catch(() => undefined);
    if (!read?.body) throw FhirError.of(404, 'not-found', `Patient/${id} is not known`);
    patient = (isRaw(read.body) ? JSON.parse(read.body.raw) : read.body) as Patient;
  }
  const bsn = patient.identifier?.find((i) => i.system === BSN)?.value;
  if (!bsn) throw forbidden(`Patient/${id} has no BSN: the consent registry cannot be asked, so nothing is shared`);
  return { id, bsn };
}

/** Step one of every decision: the token, for this tenant; a refusal is a 401 and a security event. */
export async function authenticate(
  deps: EnforcementDeps,
  tenant: Tenant,
  authorization: string | undefined,
  correlationId: string,
  peerCertificate?: Parameters<TokenVerifier>[1],
): Promise<VerifiedClaims> {
  try {
    return await deps.verify(tenant, authorization, peerCertificate);
  } catch (e) {
    if (!(e instanceof TokenError)) throw e;
    deps.security?.({ event: 'token-refused', tenant: tenant.tenant, reason: e.code, correlationId });
    throw FhirError.of(401, 'login', `Access token refused: ${e.message}`);
  }
}

export async function enforce(
  deps: EnforcementDeps,
  tenant: Tenant,
  scope: RequestScope,
  req: FhirRequest,
  headers: { authorization?: string; correlationId: string; emergencyReason?: string },
  peerCertificate?: Parameters<TokenVerifier>[1],
): Promise<AccessGrant> {
  const claims = await authenticate(deps, tenant, headers.authorization, headers.correlationId, peerCertificate);
  const context: AccessContext = {
    organisationUra: claims.ura,
    clientId: claims.clientId,
    practitionerUzi: claims.uziNr,
    roleCode: claims.uziRolcode,
    purpose: claims.purposeOfUse,
    emergencyReason: headers.emergencyReason,
    treatmentRelation: claims.treatmentRelation,
    correlationId: headers.correlationId,
  };
  // The organisation's own systems (its EHR loading and reading its own records) act within their own
  // record: no consent question, but authenticated and audited like everyone else.
  if (tenant.ura && claims.ura === tenant.ura) return { context, refused: new Map() };
  if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && req.path.endsWith('_search'))) {
    throw forbidden(`Organisation ${claims.ura} may read this organisation's records, not change them`);
  }
  const org = await deps.organisation(claims.ura);
  if (!org) throw forbidden(`Organisation ${claims.ura} is not registered in the addressing directory`);
  const purpose = claims.purposeOfUse as Purpose | undefined;
  if (purpose !== 'treatment' && purpose !== 'emergency') {
    throw forbidden(`Purpose of use '${purpose ?? 'none'}' does not give access to a provider's records (treatment or emergency)`);
  }
  if (!claims.uziNr || !claims.uziRolcode) throw forbidden('A request for patient data must be made on behalf of a professional (uzi_nr and uzi_rolcode)');
  // Only those who treat the patient may consult (WGBO, Wabvpz): the professional attests the relation in the
  // token, and the attestation is in the audit record for review afterwards. In an emergency the reason stands in.
  if (purpose === 'treatment' && !claims.treatmentRelation) {
    throw forbidden('Access for treatment needs the professional to attest a treatment relation with the patient (treatment_relation in the client assertion)');
  }
  if (purpose === 'emergency') {
    if (!headers.emergencyReason || headers.emergencyReason.trim().length < 5) {
      throw forbidden('Emergency access (break the glass) needs a reason in the X-Emergency-Reason header');
    }
    deps.security?.({ event: 'emergency-access', tenant: tenant.tenant, ura: claims.ura, uzi: claims.uziNr, role: claims.uziRolcode, correlationId: headers.correlationId });
  }

  const patient = await resolvePatient(deps, scope, req);
  const categories = new Set<string>();
  const refused = new Map<string, string>();
  const asked = requestedCategories(req);
  await Promise.all(
    asked.map(async (category) => {
      const table = authorise(claims.uziRolcode, purpose, category);
      if (!table.allowed) return void refused.set(category, table.reason);
      const d = await deps.consent({
        patient: { bsn: patient.bsn },
        holder: { ura: tenant.ura, organizationType: tenant.settings.organizationType },
        consulter: { ura: claims.ura, organizationType: org.organizationType },
        dataCategory: category,
        purpose: PURPOSE_CODE[purpose],
      });
      if (d.decision === 'Permit') categories.add(category);
      else refused.set(category, `consent registry: ${d.decision} (${d.reason})`);
    }),
  );
  if (categories.size === 0) {
    deps.security?.({ event: 'access-refused', tenant: tenant.tenant, ura: claims.ura, role: claims.uziRolcode, purpose, correlationId: headers.correlationId });
    const reasons = [...refused.values()];
    throw forbidden(asked.length === 0 ? 'This resource type holds no shareable patient data' : `Access refused: ${[...new Set(reasons)].join('; ')}`);
  }
  return { context, compartment: { type: 'Patient', id: patient.id }, categories, refused };
}
