/**
 * The demo's story, run for real over HTTP: a hospital physician looks up where a patient has conditions on
 * record (PRS + NVI + addressing directory) and asks the GP practice's node for them. Without consent the node refuses; the GP registers the patient's consent at the national consent
 * registry and the same request returns data; the consent is revoked and the next request is refused again.
 * `schakel demo` prints it; the end-to-end test asserts it.
 */
import type { Bundle, Consent } from 'fhir/r4';
import { SYSTEMS } from '../gf/consent/catalogue.ts';
import type { OrganisationTokens } from '../gf/auth/token-client.ts';
import type { Location } from './localise.ts';
import { nationalPaths } from './national.ts';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

export interface WalkthroughStep {
  step: string;
  request: string;
  status: number;
  detail: string;
}

export interface WalkthroughInput {
  /** The node's origin and the national services' origin. */
  url: string;
  nationalBase: string;
  /** The hospital's credentials (and the GP's, unless `gpTokens`: on one node both organisations' keys are there). */
  tokens: OrganisationTokens;
  gpTokens?: OrganisationTokens;
  gp: { tenant: string; ura: string };
  hospital: { ura: string };
  /** The patient, known to the GP. The BSN goes in the query of a node-to-node call, never in a patient app's URL. */
  bsn: string;
  /** The physician on whose behalf the hospital asks. */
  physician?: { uziNr: string; uziRolcode: string };
  /** Localisation as the hospital (src/roles/localise.ts); absent = skip that step. */
  localise?: () => Promise<Location[]>;
}

export async function consentWalkthrough(w: WalkthroughInput): Promise<WalkthroughStep[]> {
  const steps: WalkthroughStep[] = [];
  const national = nationalPaths(w.nationalBase);
  const physician = w.physician ?? { uziNr: '900012345', uziRolcode: '01.010' };
  const hospitalToken = () =>
    w.tokens.authorization({ ura: w.hospital.ura, tokenEndpoint: `${w.url}/auth/${w.gp.tenant}/token`, scope: 'system/*.read', person: physician, purposeOfUse: 'treatment', treatmentRelation: true });
  const gpConsentToken = () => (w.gpTokens ?? w.tokens).authorization({ ura: w.gp.ura, tokenEndpoint: national.token('consent'), scope: 'consent:register' });
  const query = `Condition?patient.identifier=${encodeURIComponent(`${BSN}|${w.bsn}`)}`;

  const ask = async (step: string) => {
    const res = await w.tokens.fetchFor(w.hospital.ura)(`${w.url}/fhir/${w.gp.tenant}/${query}`, { headers: { accept: 'application/fhir+json', authorization: await hospitalToken() } });
    const body = (await res.json()) as Bundle & { issue?: { diagnostics?: string }[] };
    const detail = res.ok ? `${(body.entry ?? []).length} conditions` : (body.issue?.[0]?.diagnostics ?? '');
    steps.push({ step, request: `GET /fhir/${w.gp.tenant}/Condition?patient.identifier=…`, status: res.status, detail });
  };

  if (w.localise) {
    const found = await w.localise();
    const gp = found.find((l) => l.custodian === w.gp.ura);
    steps.push({
      step: 'hospital asks the localisation index where the patient has conditions',
      request: 'GET /national/nvi/fhir/List?subject:identifier=…&code=Condition',
      status: 200,
      detail: found.length === 0 ? 'no registration yet (the GP node registers in the background)' : found.map((l) => `URA ${l.custodian}${l.fhirBase ? ` at ${l.fhirBase}` : ` (${l.reason})`}`).join(', ') + (gp ? '' : ' — not the GP yet'),
    });
  }
  await ask('hospital asks the GP without consent');
  const consent: Consent = {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: SYSTEMS.consentScope, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEMS.bsn, value: w.bsn } },
    provision: {
      type: 'permit',
      actor: [
        { role: { coding: [{ system: SYSTEMS.participationType, code: 'CST' }] }, reference: { type: 'Organization', identifier: { system: SYSTEMS.ura, value: w.gp.ura } } },
        { role: { coding: [{ system: SYSTEMS.participationType, code: 'IRCP' }] }, reference: { type: 'Organization', identifier: { system: SYSTEMS.ura, value: w.hospital.ura } } },
      ],
    },
  };
  const gpFetch = (w.gpTokens ?? w.tokens).fetchFor(w.gp.ura);
  const created = await gpFetch(`${national.consent}/Consent`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', authorization: await gpConsentToken() },
    body: JSON.stringify(consent),
  });
  const stored = (await created.json()) as Consent & { issue?: { diagnostics?: string }[] };
  steps.push({ step: 'GP registers the patient’s consent (GP → hospital)', request: 'POST /national/consent/Consent', status: created.status, detail: created.ok ? `Consent/${stored.id}` : (stored.issue?.[0]?.diagnostics ?? '') });
  if (!created.ok || !stored.id) return steps;

  await ask('hospital asks again, with consent');
  const revoked = await gpFetch(`${national.consent}/Consent/${stored.id}`, { method: 'DELETE', headers: { accept: 'application/fhir+json', authorization: await gpConsentToken() } });
  await revoked.arrayBuffer();
  steps.push({ step: 'the patient withdraws consent', request: `DELETE /national/consent/Consent/${stored.id}`, status: revoked.status, detail: '' });
  await ask('hospital asks after the withdrawal');
  return steps;
}
