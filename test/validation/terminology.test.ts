import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Terminology, coreTerminology } from '../../src/fhir/validation/terminology.ts';
import { profileTerminology } from '../../src/fhir/validation/profile-terminology.ts';

describe('offline ValueSet expansion', () => {
  const t = new Terminology();
  t.add({
    resourceType: 'CodeSystem',
    url: 'urn:cs',
    status: 'active',
    content: 'complete',
    concept: [{ code: 'a', concept: [{ code: 'a1' }, { code: 'a2', concept: [{ code: 'a2x' }] }] }, { code: 'b' }],
  } as never);
  const vs = (url: string, compose: unknown): void => t.add({ resourceType: 'ValueSet', url, status: 'active', compose } as never);
  vs('urn:all', { include: [{ system: 'urn:cs' }] });
  vs('urn:listed', { include: [{ system: 'urn:other', concept: [{ code: 'x' }] }] });
  vs('urn:isa', { include: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'is-a', value: 'a2' }] }] });
  vs('urn:excl', { include: [{ system: 'urn:cs' }], exclude: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'descendent-of', value: 'a' }] }] });
  vs('urn:nested', { include: [{ valueSet: ['urn:listed'] }, { system: 'urn:cs', concept: [{ code: 'b' }] }] });
  vs('urn:external', { include: [{ system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '404684003' }] }] });
  vs('urn:unknown-system', { include: [{ system: 'urn:nowhere' }] });

  it('includes whole code systems with nested concepts, concept lists, filters, excludes and other value sets', () => {
    assert.deepEqual([...t.expand('urn:all')!.codes].sort(), ['a', 'a1', 'a2', 'a2x', 'b']);
    assert.ok(t.expand('urn:listed')!.pairs.has('urn:other|x'));
    assert.deepEqual([...t.expand('urn:isa')!.codes].sort(), ['a2', 'a2x']);
    assert.deepEqual([...t.expand('urn:excl')!.codes].sort(), ['a', 'b']);
    assert.deepEqual([...t.expand('urn:nested|1.0')!.pairs].sort(), ['urn:cs|b', 'urn:other|x']);
  });
  it('gives up (undefined) on what needs an external terminology', () => {
    assert.equal(t.expand('urn:external'), undefined);
    assert.equal(t.expand('urn:unknown-system'), undefined);
    assert.equal(t.expand('urn:not-there'), undefined);
  });
  it('expands core and package value sets', () => {
    assert.ok(coreTerminology().expand('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1')!.codes.has('female'));
    // observation-status excludes nothing in R4 core, but results-status-uv-ips excludes entered-in-error by filter
    const ips = profileTerminology().expand('http://hl7.org/fhir/uv/ips/ValueSet/results-status-uv-ips')!;
    assert.ok(ips.codes.has('final') && !ips.codes.has('entered-in-error'));
    // a zib ValueSet read from the nictiz-zib2020 XML terminology folder
    assert.ok(profileTerminology().hasValueSet('http://decor.nictiz.nl/fhir/ValueSet/2.16.840.1.113883.2.4.3.11.60.40.2.9.7.8--20200901000000'));
  });
});
