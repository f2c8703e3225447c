import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, MedicationRequest, TestScript } from 'fhir/r4';
import { ScriptContext, type HttpExchange } from '../../src/conformance/context.ts';

const now = new Date(2024, 2, 15, 12, 0, 0);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conformance-vars-'));
  await writeFile(
    join(dir, 'patient.json'),
    JSON.stringify({ resourceType: 'Patient', id: 'p1', birthDate: '${DATE, T, Y, -30}', identifier: [{ system: 's', value: '${UUID}' }] }),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

function script(): TestScript {
  return {
    resourceType: 'TestScript',
    name: 'vars',
    status: 'active',
    fixture: [{ id: 'patient-fixture', autocreate: false, autodelete: false, resource: { reference: 'patient.json' } }],
    variable: [
      { name: 'T', defaultValue: '${CURRENTDATE}' },
      { name: 'corr', defaultValue: '${UUID}' },
      { name: 'token', defaultValue: 'Bearer abc' },
      { name: 'patient-id', expression: 'Patient.id', sourceId: 'patient-fixture' },
      { name: 'patient-uuid', expression: 'Patient.identifier.value', sourceId: 'patient-fixture' },
      {
        name: 'med-url',
        expression:
          "iif(Bundle.entry.resource.where($this is MedicationRequest).medicationReference.reference.startsWith('Medication/'), Bundle.link.where(relation='self').url.replaceMatches('MedicationRequest[/?].*$','') + Bundle.entry.resource.where($this is MedicationRequest).medicationReference.reference, Bundle.entry.resource.where($this is MedicationRequest).medicationReference.reference)",
        sourceId: 'search',
      },
      { name: 'location', headerField: 'Location', sourceId: 'search' },
      { name: 'with-default', expression: 'Bundle.total', sourceId: 'search', defaultValue: 'none' },
    ],
  } as TestScript;
}

function searchExchange(): HttpExchange {
  const bundle: Bundle<MedicationRequest> = {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: 'http://srv/fhir/t/MedicationRequest?category=x' }],
    entry: [{ resource: { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: {}, medicationReference: { reference: 'Medication/m1' } } }],
  };
  return {
    request: { method: 'GET', url: 'http://srv/fhir/t/MedicationRequest?category=x', headers: {} },
    response: { status: 200, headers: { location: 'http://srv/fhir/t/X/1' }, body: '', resource: bundle as Bundle },
  };
}

describe('ScriptContext variables', () => {
  it('binds defaultValues once and expands fixtures once', async () => {
    const ctx = new ScriptContext(script(), join(dir, 'script.xml'), now);
    await ctx.prepare();
    assert.equal(ctx.resolve('T'), '2024-03-15');
    assert.equal(ctx.resolve('token'), 'Bearer abc');
    // ${UUID} in a defaultValue is fixed for the whole script run (X-Correlation-ID semantics).
    const corr = ctx.resolve('corr');
    assert.match(corr ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(ctx.resolve('corr'), corr);
    // The fixture is expanded with T and keeps its generated identifier between uses.
    assert.equal((ctx.fixtures.get('patient-fixture') as { birthDate?: string }).birthDate, '1994-03-15');
    assert.equal(ctx.resolve('patient-id'), 'p1');
    const uuid = ctx.resolve('patient-uuid');
    assert.match(uuid ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(ctx.resolve('patient-uuid'), uuid);
    assert.equal(ctx.expand('/Patient/${patient-id}?t=${token}'), '/Patient/p1?t=Bearer abc');
  });

  it('evaluates response variables lazily, once the response exists', async () => {
    const ctx = new ScriptContext(script(), join(dir, 'script.xml'), now);
    await ctx.prepare();
    assert.equal(ctx.resolve('med-url'), undefined);
    assert.equal(ctx.expand('${med-url}'), '${med-url}');
    assert.equal(ctx.resolve('with-default'), 'none');
    ctx.responses.set('search', searchExchange());
    assert.equal(ctx.resolve('med-url'), 'http://srv/fhir/t/Medication/m1');
    assert.equal(ctx.resolve('location'), 'http://srv/fhir/t/X/1');
    assert.equal(ctx.resolve('with-default'), 'none');
    assert.equal(ctx.resolve('unknown'), undefined);
  });

  it('reports a missing fixture file', async () => {
    const s = script();
    s.fixture = [{ id: 'gone', autocreate: false, autodelete: false, resource: { reference: 'nope.json' } }];
    const ctx = new ScriptContext(s, join(dir, 'script.xml'), now);
    await assert.rejects(ctx.prepare(), /nope\.json/);
  });
});
