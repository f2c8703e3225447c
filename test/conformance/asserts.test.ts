import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Immunization, TestScript, TestScriptSetupActionAssert } from 'fhir/r4';
import { ASSERT_RULE, containsAll, evaluateAssert } from '../../src/conformance/asserts.ts';
import { compare } from '../../src/conformance/compare.ts';
import { ScriptContext, type HttpExchange } from '../../src/conformance/context.ts';
import { checkQueryParamsInSelfLink } from '../../src/conformance/selflink.ts';

const SELF_RULE = { url: ASSERT_RULE, extension: [{ url: 'ruleId', valueId: 'assert-response-queryParamsInSelfLink' }] };

function bundle(self: string): Bundle {
  const b: Bundle<Immunization> = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: 1,
    link: [{ relation: 'self', url: self }],
    entry: [
      {
        fullUrl: 'http://srv/fhir/t/Immunization/i1',
        search: { mode: 'match' },
        resource: {
          resourceType: 'Immunization',
          id: 'i1',
          meta: { profile: ['http://nictiz.nl/fhir/StructureDefinition/imm-Vaccination-event'] },
          status: 'completed',
          vaccineCode: { coding: [{ system: 'http://snomed.info/sct', code: '836398006', display: 'vaccine' }] },
          patient: { reference: 'Patient/p1', display: 'Piet' },
          occurrenceDateTime: '2024-01-01',
        },
      },
    ],
  };
  return b as Bundle;
}

function contextWith(ex: HttpExchange | undefined, script: Partial<TestScript> = {}): ScriptContext {
  const s = { resourceType: 'TestScript', name: 't', status: 'active', ...script } as TestScript;
  const ctx = new ScriptContext(s, '/nowhere/script.xml', new Date(2024, 2, 15, 12));
  ctx.last = ex;
  return ctx;
}

function exchange(status: number, resource: Bundle | undefined, url = 'http://srv/fhir/t/Immunization?_include=Immunization:patient'): HttpExchange {
  return {
    request: { method: 'GET', url, headers: { Authorization: 'Bearer abc', Accept: 'application/fhir+json' } },
    response: { status, headers: { 'content-type': 'application/fhir+json; charset=utf-8', etag: 'W/"1"' }, body: JSON.stringify(resource ?? {}), resource, format: 'json' },
  };
}

const a = (x: Partial<TestScriptSetupActionAssert>): TestScriptSetupActionAssert => ({ warningOnly: false, ...x });

describe('compare', () => {
  it('implements the operators', () => {
    assert.ok(compare('in', '201', '200,201'));
    assert.ok(!compare('in', '404', '200,201'));
    assert.ok(compare('notIn', '404', '200, 201'));
    assert.ok(compare('equals', 'x', 'x'));
    assert.ok(compare('notEquals', 'x', 'y'));
    assert.ok(compare('greaterThan', '10', '9'));
    assert.ok(compare('lessThan', '2024-01-01', '2024-02-01'));
    assert.ok(compare('contains', 'abcdef', 'cd'));
    assert.ok(compare('notContains', 'abc?x=1', 'patient='));
    assert.ok(compare('empty', undefined, undefined));
    assert.ok(!compare('notEmpty', '', undefined));
  });
});

describe('evaluateAssert', () => {
  const ok = exchange(200, bundle('http://srv/fhir/t/Immunization?_include=Immunization:patient'));

  it('responseCode with in', async () => {
    assert.equal((await evaluateAssert(a({ operator: 'in', responseCode: '200,201' }), contextWith(ok))).result, 'pass');
    const r = await evaluateAssert(a({ operator: 'in', responseCode: '200,201' }), contextWith(exchange(404, undefined)));
    assert.equal(r.result, 'fail');
    assert.match(r.message, /404/);
    assert.equal((await evaluateAssert(a({ responseCode: '200' }), contextWith(ok))).result, 'pass');
    assert.equal((await evaluateAssert(a({ response: 'okay' }), contextWith(ok))).result, 'pass');
  });

  it('resource type and content type', async () => {
    assert.equal((await evaluateAssert(a({ direction: 'response', resource: 'Bundle' }), contextWith(ok))).result, 'pass');
    assert.equal((await evaluateAssert(a({ direction: 'response', resource: 'Patient' }), contextWith(ok))).result, 'fail');
    assert.equal((await evaluateAssert(a({ contentType: 'json' }), contextWith(ok))).result, 'pass');
    assert.equal((await evaluateAssert(a({ contentType: 'xml' }), contextWith(ok))).result, 'fail');
  });

  it('FHIRPath expressions, with and without operator', async () => {
    const ctx = contextWith(ok);
    const cases: [Partial<TestScriptSetupActionAssert>, string][] = [
      [{ expression: 'Bundle.type', operator: 'equals', value: 'searchset' }, 'pass'],
      [{ expression: 'Bundle.type', operator: 'equals', value: 'collection' }, 'fail'],
      [{ expression: "Bundle.entry.where(resource.is(Immunization)).count() = 1" }, 'pass'],
      [{ expression: "Bundle.entry.where(resource.is(Immunization)).count() = 2" }, 'fail'],
      [{ expression: 'Bundle.descendants().where($this.is(Coding)).all(system.exists() and code.exists())' }, 'pass'],
      // Touchstone semantics: an unknown type name (lower-case `coding`) matches nothing instead of erroring.
      [{ expression: "Bundle.descendants().where($this.is(coding)).where(system.startsWith('urn:oid:2.16')).exists().not()" }, 'pass'],
      [{ expression: 'Bundle.descendants().where($this.is(Reference)).all(display.exists())' }, 'pass'],
      [{ expression: "Bundle.total.exists() implies (Bundle.total.toInteger() <= Bundle.entry.where(search.empty() or search.mode = 'match').count())" }, 'pass'],
      [{ expression: 'Bundle.entry.resource.where($this is Immunization).id', operator: 'equals', value: '${want}' }, 'pass'],
      [{ expression: 'Bundle.entry.resource.id' }, 'pass'], // non-boolean, non-empty: true
      [{ expression: 'Bundle.entry.resource.where($this is Patient)' }, 'fail'], // empty: false
      [{ expression: 'Bundle.signature', operator: 'empty' }, 'pass'],
      [{ expression: 'Bundle.entry(' }, 'fail'], // syntax errors are reported, not thrown
    ];
    const ctxVars = contextWith(ok, { variable: [{ name: 'want', defaultValue: 'i1' }] });
    await ctxVars.prepare();
    for (const [x, want] of cases) {
      const r = await evaluateAssert(a({ direction: 'response', ...x }), x.value?.includes('${') ? ctxVars : ctx);
      assert.equal(r.result, want, `${x.expression}: ${r.message}`);
    }
  });

  it('warningOnly turns a failure into a warning', async () => {
    const r = await evaluateAssert(a({ expression: 'Bundle.type = \'batch\'', warningOnly: true }), contextWith(ok));
    assert.equal(r.result, 'warning');
  });

  it('headerField and requestURL', async () => {
    const ctx = contextWith(ok);
    assert.equal((await evaluateAssert(a({ direction: 'request', headerField: 'authorization', value: 'Bearer abc' }), ctx)).result, 'pass');
    assert.equal((await evaluateAssert(a({ direction: 'request', headerField: 'Authorization', value: 'Bearer xyz' }), ctx)).result, 'fail');
    assert.equal((await evaluateAssert(a({ headerField: 'ETag' }), ctx)).result, 'pass');
    assert.equal((await evaluateAssert(a({ headerField: 'Location' }), ctx)).result, 'fail');
    assert.equal((await evaluateAssert(a({ requestURL: 'patient=', operator: 'notContains' }), ctx)).result, 'pass');
    assert.equal((await evaluateAssert(a({ requestURL: 'Immunization:patient', operator: 'contains' }), ctx)).result, 'pass');
    const enc = contextWith(exchange(200, undefined, 'http://srv/fhir/t/Immunization?patient=Patient%2F1'));
    assert.equal((await evaluateAssert(a({ requestURL: 'patient=Patient/1', operator: 'notContains' }), enc)).result, 'fail');
  });

  it('minimumId checks that the response contains the fixture', async () => {
    const ctx = contextWith(ok);
    ctx.fixtures.set('min', { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Immunization', id: 'i1' } }] } as Bundle);
    ctx.fixtures.set('more', { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Immunization', id: 'i2' } }] } as Bundle);
    assert.equal((await evaluateAssert(a({ minimumId: 'min' }), ctx)).result, 'pass');
    assert.equal((await evaluateAssert(a({ minimumId: 'more' }), ctx)).result, 'fail');
    assert.ok(containsAll({ a: [1, 2, 3], b: { c: 'x', d: 1 } }, { a: [3], b: { c: 'x' } }));
  });

  it('asserts without a previous operation are errors', async () => {
    const r = await evaluateAssert(a({ responseCode: '200' }), contextWith(undefined));
    assert.equal(r.result, 'error');
  });

  it('the self-link rule as an assert extension', async () => {
    const pass = await evaluateAssert(a({ extension: [SELF_RULE], warningOnly: true }), contextWith(ok));
    assert.equal(pass.result, 'pass');
    const missing = exchange(200, bundle('http://srv/fhir/t/Immunization'));
    const warn = await evaluateAssert(a({ extension: [SELF_RULE], warningOnly: true }), contextWith(missing));
    assert.equal(warn.result, 'warning');
    assert.match(warn.message, /_include=Immunization:patient/);
  });
});

describe('checkQueryParamsInSelfLink', () => {
  const check = (req: string, self: string): ReturnType<typeof checkQueryParamsInSelfLink> =>
    checkQueryParamsInSelfLink(req, bundle(self));

  it('accepts verbatim and differently encoded parameters in any order', () => {
    const req = 'http://s/fhir/MedicationRequest?category=http://snomed.info/sct%7C33633005&_include=MedicationRequest:medication';
    assert.ok(check(req, 'http://s/fhir/MedicationRequest?_include=MedicationRequest%3Amedication&category=http%3A%2F%2Fsnomed.info%2Fsct%7C33633005').ok);
    assert.ok(check('http://s/fhir/Immunization', 'http://s/fhir/Immunization').ok);
  });

  it('accepts references with or without the type prefix, both ways round', () => {
    assert.ok(check('http://s/fhir/Obs?patient=Patient/123', 'http://s/fhir/Obs?patient=123').ok);
    assert.ok(check('http://s/fhir/Obs?patient=123', 'http://s/fhir/Obs?patient=Patient/123').ok);
    assert.ok(check('http://s/fhir/Obs?subject=http://s/fhir/Patient/123', 'http://s/fhir/Obs?subject=Patient/123').ok);
    assert.ok(!check('http://s/fhir/Obs?patient=Patient/123', 'http://s/fhir/Obs?patient=Patient/124').ok);
  });

  it('requires every repeat of a parameter', () => {
    const req = 'http://s/fhir/MS?period-of-use=ge2024-01-01&period-of-use=le2024-02-01';
    assert.ok(check(req, 'http://s/fhir/MS?period-of-use=ge2024-01-01&period-of-use=le2024-02-01').ok);
    const r = check(req, 'http://s/fhir/MS?period-of-use=ge2024-01-01');
    assert.ok(!r.ok);
    assert.deepEqual(r.missing, ['period-of-use=le2024-02-01']);
  });

  it('fails on a changed value, a dropped parameter or a missing self link', () => {
    assert.ok(!check('http://s/fhir/Obs?code=a', 'http://s/fhir/Obs?code=b').ok);
    assert.ok(!check('http://s/fhir/Obs?code=a&_include=Obs:subject', 'http://s/fhir/Obs?code=a').ok);
    assert.ok(!checkQueryParamsInSelfLink('http://s/fhir/Obs?code=a', { resourceType: 'Bundle', type: 'searchset' } as Bundle).ok);
  });
});
