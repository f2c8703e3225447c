/** Endpoint choice rules (pure function). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint, Organization } from 'fhir/r4';
import { chooseEndpoint, declaredFhirVersions, instantBounds, type DirectoryView } from '../../../src/gf/addressing/endpoint-choice.ts';
import { CONNECTION_TYPE_SYSTEM, DATA_CATEGORY_SYSTEM, ENDPOINT_FHIR_VERSION_EXT, PAYLOAD_TYPE_SYSTEM, URA_OID_SYSTEM, URA_SYSTEM } from '../../../src/gf/addressing/constants.ts';

const AT = new Date('2025-06-01T12:00:00Z');

function ep(id: string, over: Partial<Endpoint> = {}): Endpoint {
  return {
    resourceType: 'Endpoint',
    id,
    status: 'active',
    connectionType: { system: CONNECTION_TYPE_SYSTEM, code: 'hl7-fhir-rest' },
    payloadType: [{ coding: [{ system: DATA_CATEGORY_SYSTEM, code: 'MedicationUse' }] }],
    address: `https://${id}.example/fhir`,
    managingOrganization: { reference: 'Organization/org' },
    ...over,
  };
}

function org(id: string, over: Partial<Organization> = {}): Organization {
  return { resourceType: 'Organization', id, identifier: [{ system: URA_SYSTEM, value: '12345678' }], active: true, name: id, ...over };
}

const view = (organizations: Organization[], endpoints: Endpoint[]): DirectoryView => ({ organizations, endpoints });
const need = { payloadType: 'MedicationUse', at: AT };

describe('endpoint choice', () => {
  it('picks the active FHIR REST endpoint with the payload type', () => {
    const c = chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/a' }] })], [ep('a')]), { ura: '12345678' }, need);
    assert.equal(c.endpoint?.id, 'a');
    assert.equal(c.via, 'organization');
  });

  it('finds the organisation by the URA OID system too, and by id', () => {
    const o = org('org', { identifier: [{ system: URA_OID_SYSTEM, value: '12345678' }], endpoint: [{ reference: 'Endpoint/a' }] });
    assert.equal(chooseEndpoint(view([o], [ep('a')]), { ura: '12345678' }, need).endpoint?.id, 'a');
    assert.equal(chooseEndpoint(view([o], [ep('a')]), { id: 'org' }, need).endpoint?.id, 'a');
  });

  it('skips endpoints that are not active, with the reason', () => {
    const o = org('org', { endpoint: [{ reference: 'Endpoint/off' }, { reference: 'Endpoint/susp' }, { reference: 'Endpoint/ok' }] });
    const c = chooseEndpoint(view([o], [ep('off', { status: 'off' }), ep('susp', { status: 'suspended' }), ep('ok')]), { ura: '12345678' }, need);
    assert.equal(c.endpoint?.id, 'ok');
    assert.deepEqual(c.considered.find((x) => x.endpoint === 'Endpoint/off')?.problems, ["status is 'off'"]);
  });

  it('honours the period: not yet started, ended, and a date end that includes its whole day', () => {
    const o = org('org', { endpoint: [{ reference: 'Endpoint/future' }, { reference: 'Endpoint/past' }] });
    const none = chooseEndpoint(view([o], [ep('future', { period: { start: '2025-07-01' } }), ep('past', { period: { end: '2025-05-31T23:59:59Z' } })]), { ura: '12345678' }, need);
    assert.equal(none.endpoint, undefined);
    assert.match(none.considered[0].problems[0], /not yet valid/);
    assert.match(none.considered[1].problems[0], /no longer valid/);
    const lastDay = chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/d' }] })], [ep('d', { period: { start: '2025', end: '2025-06-01' } })]), { ura: '12345678' }, need);
    assert.equal(lastDay.endpoint?.id, 'd');
    const dayAfter = chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/d' }] })], [ep('d', { period: { end: '2025-05-31' } })]), { ura: '12345678' }, need);
    assert.equal(dayAfter.endpoint, undefined);
  });

  it('requires connectionType hl7-fhir-rest and an address', () => {
    const o = org('org', { endpoint: [{ reference: 'Endpoint/dicom' }, { reference: 'Endpoint/noaddr' }] });
    const c = chooseEndpoint(view([o], [ep('dicom', { connectionType: { system: CONNECTION_TYPE_SYSTEM, code: 'dicom-wado-rs' } }), ep('noaddr', { address: '' })]), { ura: '12345678' }, need);
    assert.equal(c.endpoint, undefined);
    assert.match(c.considered[0].problems.join(), /connectionType/);
    assert.match(c.considered[1].problems.join(), /no address/);
  });

  it('matches the payload type; an exact match beats the wildcard any', () => {
    const o = org('org', { endpoint: [{ reference: 'Endpoint/any' }, { reference: 'Endpoint/lab' }, { reference: 'Endpoint/med' }] });
    const endpoints = [
      ep('any', { payloadType: [{ coding: [{ system: PAYLOAD_TYPE_SYSTEM, code: 'any' }] }] }),
      ep('lab', { payloadType: [{ coding: [{ system: DATA_CATEGORY_SYSTEM, code: 'ObservationLaboratory' }] }] }),
      ep('med'),
    ];
    assert.equal(chooseEndpoint(view([o], endpoints), { ura: '12345678' }, need).endpoint?.id, 'med');
    assert.equal(chooseEndpoint(view([o], endpoints), { ura: '12345678' }, { ...need, payloadType: 'Condition' }).endpoint?.id, 'any');
    const onlyLab = chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/lab' }] })], [endpoints[1]]), { ura: '12345678' }, need);
    assert.equal(onlyLab.endpoint, undefined);
    assert.match(onlyLab.considered[0].problems[0], /payloadType/);
    // A coding with another system does not match a need that names its system.
    const other = chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/x' }] })], [ep('x', { payloadType: [{ coding: [{ system: 'urn:other', code: 'MedicationUse' }] }] })]), { ura: '12345678' }, need);
    assert.equal(other.endpoint, undefined);
  });

  it('checks the FHIR version from the extension, a header or the MIME type; declared beats undeclared', () => {
    const r5 = ep('r5', { extension: [{ url: ENDPOINT_FHIR_VERSION_EXT, valueCode: '5.0.0' }] });
    const hdr = ep('hdr', { header: ['fhirVersion: 4.0'] });
    const mime = ep('mime', { payloadMimeType: ['application/fhir+json; fhirVersion=4.0'] });
    const plain = ep('plain');
    assert.deepEqual(declaredFhirVersions(hdr), ['4.0']);
    assert.deepEqual(declaredFhirVersions(mime), ['4.0']);
    const o = org('org', { endpoint: [{ reference: 'Endpoint/r5' }, { reference: 'Endpoint/plain' }, { reference: 'Endpoint/hdr' }] });
    const c = chooseEndpoint(view([o], [r5, plain, hdr]), { ura: '12345678' }, need);
    assert.equal(c.endpoint?.id, 'hdr');
    assert.match(c.considered.find((x) => x.endpoint === 'Endpoint/r5')!.problems[0], /FHIR 5\.0\.0/);
    const onlyR5 = chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/r5' }] })], [r5]), { ura: '12345678' }, need);
    assert.equal(onlyR5.endpoint, undefined);
    assert.equal(chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/r5' }] })], [r5]), { ura: '12345678' }, { ...need, fhirVersion: '5.0.0' }).endpoint?.id, 'r5');
    assert.equal(chooseEndpoint(view([org('org', { endpoint: [{ reference: 'Endpoint/m' }] })], [{ ...mime, id: 'm' }]), { ura: '12345678' }, need).endpoint?.id, 'm');
  });

  it('also considers endpoints the organisation manages but does not list', () => {
    const c = chooseEndpoint(view([org('org')], [ep('managed')]), { ura: '12345678' }, need);
    assert.equal(c.endpoint?.id, 'managed');
  });

  it("falls back to the parent organisation's endpoints", () => {
    const parent = org('parent', { identifier: [{ system: URA_SYSTEM, value: '87654321' }], endpoint: [{ reference: 'Endpoint/p' }] });
    const child = org('child', { partOf: { reference: 'Organization/parent' }, endpoint: [{ reference: 'Endpoint/c' }] });
    const endpoints = [ep('c', { status: 'off', managingOrganization: { reference: 'Organization/child' } }), ep('p', { managingOrganization: { reference: 'Organization/parent' } })];
    const c = chooseEndpoint(view([child, parent], endpoints), { ura: '12345678' }, need);
    assert.equal(c.endpoint?.id, 'p');
    assert.equal(c.via, 'parent');
    assert.equal(c.organization?.id, 'parent');
    const byId = chooseEndpoint(view([child, parent], endpoints), { id: 'child' }, need);
    assert.equal(byId.endpoint?.id, 'p');
  });

  it('survives a partOf cycle and reports why nothing was chosen', () => {
    const a = org('a', { partOf: { reference: 'Organization/b' } });
    const b = org('b', { identifier: [], partOf: { reference: 'Organization/a' } });
    const c = chooseEndpoint(view([a, b], []), { ura: '12345678' }, need);
    assert.equal(c.endpoint, undefined);
    assert.match(c.reason!, /no endpoints/);
  });

  it('has nothing for an unknown or inactive organisation', () => {
    assert.match(chooseEndpoint(view([], []), { ura: '12345678' }, need).reason!, /No organisation/);
    const inactive = chooseEndpoint(view([org('org', { active: false, endpoint: [{ reference: 'Endpoint/a' }] })], [ep('a')]), { ura: '12345678' }, need);
    assert.equal(inactive.endpoint, undefined);
    assert.match(inactive.reason!, /inactive/);
  });

  it('ranks equally good endpoints by the latest period start, then id', () => {
    const o = org('org', { endpoint: [{ reference: 'Endpoint/old' }, { reference: 'Endpoint/new' }] });
    const c = chooseEndpoint(view([o], [ep('old', { period: { start: '2020-01-01' } }), ep('new', { period: { start: '2024-01-01' } })]), { ura: '12345678' }, need);
    assert.equal(c.endpoint?.id, 'new');
  });

  it('reads partial dates as their whole unit', () => {
    assert.equal(instantBounds('2025')!.until.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(instantBounds('2025-02')!.until.toISOString(), '2025-03-01T00:00:00.000Z');
    assert.equal(instantBounds('2025-02-28')!.until.toISOString(), '2025-03-01T00:00:00.000Z');
    assert.equal(instantBounds('nonsense'), undefined);
  });
});
