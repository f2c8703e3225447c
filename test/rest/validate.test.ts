/** $validate against R4 core and profiles, and the per-tenant opt-in profile validation on write. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

const AGREEMENT = 'http://nictiz.nl/fhir/StructureDefinition/mp-MedicationAgreement';
const incompleteAgreement = {
  resourceType: 'MedicationRequest',
  meta: { profile: [AGREEMENT] },
  status: 'active',
  intent: 'order',
  medicationCodeableConcept: { text: 'paracetamol' },
  subject: { reference: 'Patient/x', display: 'x' },
};

describe('validation over HTTP', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer('sqlite');
    await s.server.node.tenants.add({ tenant: 'strict', settings: { validateProfilesOnWrite: true } });
  });
  after(() => s.stop());

  it('$validate answers an OperationOutcome with paths, for core and for a profile', async () => {
    const base = s.base('t1');
    const ok = await fhir(`${base}/Patient/$validate`, { method: 'POST', body: { resourceType: 'Patient', gender: 'female' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.issue[0].severity, 'information');
    const bad = await fhir(`${base}/Patient/$validate`, { method: 'POST', body: { resourceType: 'Patient', gender: 'vrouw' } });
    assert.equal(bad.status, 200);
    assert.ok(bad.json.issue.some((i: { severity: string; expression?: string[] }) => i.severity === 'error' && i.expression?.[0]?.includes('gender')));
    const profile = await fhir(`${base}/MedicationRequest/$validate`, {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: incompleteAgreement }, { name: 'profile', valueUri: AGREEMENT }] },
    });
    assert.equal(profile.status, 200);
    const errors = profile.json.issue.filter((i: { severity: string }) => i.severity === 'error');
    assert.ok(errors.length > 0, 'an incomplete MP9 medication agreement has profile errors');
    assert.ok(errors.every((i: { expression?: string[] }) => i.expression && i.expression[0].startsWith('MedicationRequest')));
  });

  it('a tenant that opted in refuses profile violations with 422 and stores nothing; others accept', async () => {
    const refused = await fhir(`${s.base('strict')}/MedicationRequest`, { method: 'POST', body: incompleteAgreement });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json.resourceType, 'OperationOutcome');
    const none = await fhir(`${s.base('strict')}/MedicationRequest?_total=accurate`);
    assert.equal(none.json.total, 0);
    const accepted = await fhir(`${s.base('t1')}/MedicationRequest`, { method: 'POST', body: incompleteAgreement });
    assert.equal(accepted.status, 201);
  });
});
