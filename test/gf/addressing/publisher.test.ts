/** The publisher's bundle: nl-gf profiles, identifiers, conditional updates, references inside the bundle. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint, HealthcareService, Organization } from 'fhir/r4';
import { buildDirectoryBundle } from '../../../src/gf/addressing/publisher.ts';
import { AGB_SYSTEM, DATA_CATEGORY_SYSTEM, ENDPOINT_FHIR_VERSION_EXT, GF_PROFILE, ORGANIZATION_TYPE_SYSTEM, URA_SYSTEM } from '../../../src/gf/addressing/constants.ts';

const bundle = buildDirectoryBundle({
  ura: '12345678',
  agb: '01010101',
  name: 'Apotheek De Gaper',
  organizationType: { code: 'J8', display: 'Openbare apotheek' },
  fhirBase: 'https://node.example/fhir/apo1',
  endpoints: [{ key: 'fhir', payloadTypes: ['MedicationUse', 'MedicationRequest'], period: { start: '2025-01-01' } }],
  departments: [{ key: 'bereiding', name: 'Bereiding' }],
  locations: [{ key: 'winkel', name: 'Winkel' }],
  services: [{ key: 'th', name: 'Terhandstelling', type: [{ text: 'Terhandstelling' }], department: 'bereiding', locations: ['winkel'], endpoints: ['fhir'] }],
});
const byType = (t: string) => bundle.entry!.filter((e) => e.resource?.resourceType === t);

describe('publisher bundle', () => {
  it('is one transaction of conditional updates by identifier', () => {
    assert.equal(bundle.type, 'transaction');
    assert.ok(bundle.entry!.every((e) => e.request?.method === 'PUT' && /^[A-Za-z]+\?identifier=/.test(e.request.url) && e.fullUrl?.startsWith('urn:uuid:')));
    assert.equal(byType('Organization')[0].request!.url, `Organization?identifier=${encodeURIComponent(URA_SYSTEM)}|12345678`);
    assert.equal(byType('Endpoint')[0].request!.url, `Endpoint?identifier=${encodeURIComponent('https://node.example/fhir/apo1/Endpoint')}|fhir`);
  });

  it('builds the Organization with URA, AGB, a custodian-assigned identifier, type and profile', () => {
    const org = byType('Organization')[0].resource as Organization;
    assert.deepEqual(org.meta?.profile, [GF_PROFILE.Organization]);
    assert.equal(org.identifier?.find((i) => i.system === URA_SYSTEM)?.value, '12345678');
    assert.equal(org.identifier?.find((i) => i.system === AGB_SYSTEM)?.value, '01010101');
    const assigned = org.identifier?.find((i) => i.assigner);
    assert.equal(assigned?.assigner?.identifier?.value, '12345678');
    assert.equal(assigned?.assigner?.identifier?.type?.coding?.[0].code, 'custodian');
    assert.deepEqual(org.type?.[0].coding?.[0], { system: ORGANIZATION_TYPE_SYSTEM, code: 'J8', display: 'Openbare apotheek' });
    assert.deepEqual(org.endpoint?.map((r) => r.reference), [byType('Endpoint')[0].fullUrl]);
    const dept = byType('Organization')[1].resource as Organization;
    assert.equal(dept.partOf?.reference, byType('Organization')[0].fullUrl);
    assert.equal(dept.identifier?.some((i) => i.system === URA_SYSTEM), false, 'a department has no URA of its own');
  });

  it('builds the Endpoint: FHIR REST at the node base, payload types, period, status, FHIR version', () => {
    const ep = byType('Endpoint')[0].resource as Endpoint;
    assert.deepEqual(ep.meta?.profile, [GF_PROFILE.Endpoint]);
    assert.equal(ep.connectionType.code, 'hl7-fhir-rest');
    assert.equal(ep.address, 'https://node.example/fhir/apo1');
    assert.equal(ep.status, 'active');
    assert.deepEqual(ep.period, { start: '2025-01-01' });
    assert.deepEqual(ep.payloadType?.map((p) => p.coding?.[0]), [{ system: DATA_CATEGORY_SYSTEM, code: 'MedicationUse' }, { system: DATA_CATEGORY_SYSTEM, code: 'MedicationRequest' }]);
    assert.deepEqual(ep.extension, [{ url: ENDPOINT_FHIR_VERSION_EXT, valueCode: '4.0.1' }]);
    assert.equal(ep.managingOrganization?.reference, byType('Organization')[0].fullUrl);
  });

  it('links the HealthcareService to its department, location and endpoint', () => {
    const hs = byType('HealthcareService')[0].resource as HealthcareService;
    assert.deepEqual(hs.meta?.profile, [GF_PROFILE.HealthcareService]);
    assert.equal(hs.providedBy?.reference, byType('Organization')[1].fullUrl);
    assert.equal(hs.location?.[0].reference, byType('Location')[0].fullUrl);
    assert.equal(hs.endpoint?.[0].reference, byType('Endpoint')[0].fullUrl);
  });

  it('refuses an invalid URA and unknown keys', () => {
    assert.throws(() => buildDirectoryBundle({ ura: '123', name: 'x', fhirBase: 'https://x' }), /URA/);
    assert.throws(() => buildDirectoryBundle({ ura: '12345678', name: 'x', fhirBase: 'https://x', services: [{ key: 's', name: 's', type: [], locations: ['nope'] }] }), /unknown location/);
  });
});
