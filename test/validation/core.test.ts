import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sharedPath } from '../../src/paths.ts';
import { validateCore } from '../../src/fhir/validation/index.ts';
import type { Issue } from '../../src/fhir/outcome.ts';

function examples(...dir: string[]): { file: string; resource: unknown }[] {
  const d = sharedPath(...dir);
  return readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, resource: JSON.parse(readFileSync(`${d}/${file}`, 'utf8')) as unknown }));
}

const errorsAt = (issues: Issue[]): string[] => issues.filter((i) => i.severity === 'error').map((i) => i.expression?.[0] ?? '');

function expectError(resource: unknown, expression: string, code?: string): void {
  const issues = validateCore(resource);
  const hit = issues.find((i) => i.severity === 'error' && i.expression?.[0] === expression);
  assert.ok(hit, `expected an error at ${expression}, got ${JSON.stringify(issues)}`);
  if (code) assert.equal(hit.code, code);
}

describe('core validation accepts the shared examples', () => {
  for (const dir of [
    ['fhir', 'hl7nl-zib2020-ig-build', 'package', 'example'],
    ['fhir', 'ips', 'package', 'example'],
  ]) {
    it(dir.join('/'), () => {
      const all = examples(...dir);
      assert.ok(all.length > 40, 'examples present');
      const failures = all.map(({ file, resource }) => ({ file, issues: validateCore(resource) })).filter((x) => x.issues.length > 0);
      assert.deepEqual(failures, []);
    });
  }
});

describe('core validation rejects', () => {
  const obs = (extra: Record<string, unknown>): Record<string, unknown> => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });

  it('an unknown element, naming its path', () => {
    expectError({ resourceType: 'Patient', name: [{ family: 'X', nickname: 'Y' }] }, 'Patient.name[0].nickname', 'structure');
  });
  it('an unknown _element', () => {
    expectError({ resourceType: 'Patient', _foo: { id: 'a' } }, 'Patient._foo', 'structure');
  });
  it('primitives that break their type', () => {
    expectError({ resourceType: 'Patient', birthDate: '2020-13-01' }, 'Patient.birthDate', 'value');
    expectError({ resourceType: 'Patient', birthDate: '2021-02-29' }, 'Patient.birthDate', 'value');
    expectError({ resourceType: 'Patient', active: 'true' }, 'Patient.active', 'value');
    expectError({ resourceType: 'Patient', id: 'has space' }, 'Patient.id', 'value');
    expectError({ resourceType: 'Patient', name: [{ given: ['A', 7] }] }, 'Patient.name[0].given[1]', 'value');
    expectError(obs({ valueInteger: 2147483648 }), 'Observation.value.ofType(integer)', 'value');
    expectError(obs({ issued: '2020-01-01T10:00:00' }), 'Observation.issued', 'value'); // instant needs a zone
    expectError(obs({ valueQuantity: { value: '5' } }), 'Observation.value.ofType(Quantity).value', 'value');
    expectError({ resourceType: 'Binary', contentType: 'text/plain', data: 'not base64!' }, 'Binary.data', 'value');
    expectError({ resourceType: 'Patient', text: { status: 'generated', div: '<p>x</p>' } }, 'Patient.text.div', 'value');
  });
  it('cardinality: missing required, array for a single element, single for a repeating one, empty array', () => {
    expectError({ resourceType: 'Observation', code: { text: 'x' } }, 'Observation.status', 'required');
    expectError(obs({ subject: [{ reference: 'Patient/1' }] }), 'Observation.subject', 'structure');
    expectError({ resourceType: 'Patient', name: { family: 'X' } }, 'Patient.name', 'structure');
    expectError({ resourceType: 'Patient', identifier: [] }, 'Patient.identifier');
    expectError({ resourceType: 'Observation', status: 'final' }, 'Observation.code', 'required');
  });
  it('two types of one choice element', () => {
    expectError(obs({ valueString: 'a', valueBoolean: true }), 'Observation.value', 'structure');
  });
  it('a code outside a required binding (and accepts the valid one)', () => {
    expectError({ resourceType: 'Patient', gender: 'M' }, 'Patient.gender', 'code-invalid');
    expectError(obs({ status: 'done' }), 'Observation.status', 'code-invalid');
    assert.deepEqual(validateCore({ resourceType: 'Patient', gender: 'male' }), []);
  });
  it('a bad resource nested in a Bundle or contained', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Patient' } }, { resource: { resourceType: 'Patient', gender: 'x' } }, { resource: { resourceType: 'Nope' } }],
    };
    expectError(bundle, 'Bundle.entry[1].resource.gender', 'code-invalid');
    expectError(bundle, 'Bundle.entry[2].resource', 'structure');
    expectError({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', nam: 'x' }] }, 'Patient.contained[0].nam', 'structure');
    expectError(
      { resourceType: 'Patient', contained: [{ resourceType: 'Organization', meta: { versionId: '2' } }] },
      'Patient.contained[0].meta',
      'invariant',
    );
  });
  it('ele-1 (empty objects) and ext-1 (value and extensions on one extension)', () => {
    expectError({ resourceType: 'Patient', name: [{}] }, 'Patient.name[0]', 'invariant');
    expectError({ resourceType: 'Patient', extension: [{ url: 'http://x', valueString: 'a', extension: [{ url: 'y', valueBoolean: true }] }] }, 'Patient.extension[0]', 'invariant');
    expectError({ resourceType: 'Patient', extension: [{ url: 'http://x' }] }, 'Patient.extension[0]', 'invariant');
  });
  it('nested backbone elements and content references (Questionnaire.item.item)', () => {
    const q = { resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: '1', type: 'group', item: [{ linkId: '2', type: 'bogus' }] }] };
    expectError(q, 'Questionnaire.item[0].item[0].type', 'code-invalid');
  });
  it('a non-object or unknown resource', () => {
    expectError('hello', 'Resource', 'structure');
    expectError({ resourceType: 'Foo' }, 'Foo', 'structure');
    expectError({ id: 'x' }, 'Resource', 'structure');
  });
});

describe('core validation accepts', () => {
  it('primitive extensions (_x), aligned arrays with nulls, and a value-less primitive', () => {
    const p = {
      resourceType: 'Patient',
      name: [{ given: ['A', null], _given: [null, { extension: [{ url: 'http://x', valueString: 's' }] }] }],
      _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] },
    };
    assert.deepEqual(errorsAt(validateCore(p)), []);
  });
  it('every choice type suffix and the R4 date/time forms', () => {
    for (const [k, v] of Object.entries({ effectiveDateTime: '2020', issued: '2020-01-01T10:00:00.123+01:00', valueTime: '23:59:60' })) {
      assert.deepEqual(validateCore({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, [k]: v }), [], k);
    }
  });
});
