/**
 * A synthetic region's care organisations as directory entries: maps one tenant of `region.json`
 * (src/synth) to the publisher's input, so `schakel demo` (and the tests) can publish a whole region.
 */
import type { TenantSummary } from '../../synth/index.ts';
import { ORG_TYPE_BY_SECTOR } from '../../synth/data/terminology.ts';
import type { OrganisationEntries } from './publisher.ts';
import { PAYLOAD_TYPE_SYSTEM } from './constants.ts';

const idOf = (reference: string) => reference.split('/').pop()!;

/** `publicBase` replaces the `{base}` placeholder of the region's endpoint addresses (e.g. http://127.0.0.1:8080). */
export function entriesFromRegionTenant(t: TenantSummary, publicBase: string): OrganisationEntries {
  const base = publicBase.replace(/\/+$/, '');
  const fhirBase = `${base}/fhir/${t.id}`;
  const main = t.organisations.find((o) => o.ura === t.ura) ?? t.organisations[0];
  const endpoints = t.endpoints.map((e) => ({
    key: idOf(e.reference),
    address: e.address.replace('{base}', base),
    // Provider nodes serve every data category they hold: the wildcard payload type.
    payloadTypes: [{ system: PAYLOAD_TYPE_SYSTEM, code: 'any' }],
  }));
  return {
    ura: t.ura,
    agb: t.agb,
    name: t.name,
    organizationType: { code: ORG_TYPE_BY_SECTOR[t.sector].code, display: ORG_TYPE_BY_SECTOR[t.sector].display },
    fhirBase,
    endpoints,
    departments: t.organisations.filter((o) => o !== main && o.partOf).map((o) => ({ key: idOf(o.reference), name: o.name })),
    services: t.healthcareServices.map((s) => ({ key: idOf(s.reference), name: s.name, type: [{ text: s.name }], endpoints: endpoints.map((e) => e.key) })),
  };
}
