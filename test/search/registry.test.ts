/** SearchParameter registry: R4 core split per type, package parameters (MP9, zib2020), common parameters. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { getSearchParam, searchParamsFor, splitUnion, knownResourceTypes } from '../../src/search/registry.ts';
import { extractParam } from '../../src/search/extract.ts';

describe('search parameter registry', () => {
  it('splits multi-type R4 expressions per resource type', () => {
    assert.equal(getSearchParam('Observation', 'patient')?.expression, 'Observation.subject.where(resolve() is Patient)');
    assert.equal(getSearchParam('AllergyIntolerance', 'patient')?.expression, 'AllergyIntolerance.patient');
    assert.equal(getSearchParam('Observation', 'code')?.type, 'token');
    assert.deepEqual(splitUnion("A.b | (A.c as X) | A.d.where(e = 'x|y')"), ['A.b', '(A.c as X)', "A.d.where(e = 'x|y')"]);
  });

  it('has the common parameters on every type and none of the medplum-specific ones', () => {
    for (const code of ['_id', '_lastUpdated', '_profile', '_tag', '_security', '_source']) {
      assert.ok(getSearchParam('Patient', code), code);
      assert.ok(getSearchParam(undefined, code), `${code} (system level)`);
    }
    assert.ok(searchParamsFor('Patient').every((p) => !p.url.includes('medplum')));
    assert.equal(getSearchParam('Patient', '_compartment'), undefined);
    assert.ok(knownResourceTypes().includes('MedicationRequest'));
  });

  it('loads the MP9 parameters, overriding core codes per base type', () => {
    const expect: [string, string, string][] = [
      ['MedicationRequest', 'period-of-use', 'special'],
      ['MedicationDispense', 'period-of-use', 'special'],
      ['MedicationStatement', 'period-of-use', 'special'],
      ['MedicationRequest', 'pharmaceutical-treatment-identifier', 'token'],
      ['MedicationAdministration', 'pharmaceutical-treatment-identifier', 'token'],
      ['MedicationDispense', 'category', 'token'],
      ['MedicationAdministration', 'category', 'token'],
      ['MedicationRequest', 'next-practitioner', 'reference'],
      ['MedicationRequest', 'dispense-location', 'reference'],
      ['MedicationRequest', 'reason', 'reference'],
      ['MedicationStatement', 'author', 'reference'],
      ['MedicationStatement', 'prescriber', 'reference'],
      ['MedicationDispense', 'location', 'reference'],
      ['MedicationRequest', 'is-latest-stop', 'special'],
      ['Flag', 'category', 'token'],
    ];
    for (const [type, code, kind] of expect) {
      const p = getSearchParam(type, code);
      assert.ok(p, `${type}.${code}`);
      assert.equal(p.type, kind, `${type}.${code}`);
      assert.ok(p.url.startsWith('http://nictiz.nl/'), `${type}.${code} from the package: ${p.url}`);
    }
    assert.equal(getSearchParam('MedicationDispense', 'category')?.expression, 'MedicationDispense.category');
    assert.equal(getSearchParam('MedicationRequest', 'category')?.url, 'http://hl7.org/fhir/SearchParameter/MedicationRequest-category', 'core stays where MP9 adds nothing');
    assert.ok(searchParamsFor('MedicationRequest').some((p) => p.code === 'period-of-use'), 'listed for the CapabilityStatement');
  });

  it('indexes the zib2020 Flag category and MP9 extension-based parameters', () => {
    const flag = { resourceType: 'Flag', id: 'f', status: 'active', code: { text: 'x' }, subject: { reference: 'Patient/p' }, category: [{ coding: [{ system: 'http://snomed.info/sct', code: '1234' }] }] } as Resource;
    assert.deepEqual(extractParam(flag, 'category').idx_token.map((t) => t.code), ['1234']);
    const mr = {
      resourceType: 'MedicationRequest',
      id: 'm',
      extension: [
        { url: 'http://nictiz.nl/fhir/StructureDefinition/ext-PharmaceuticalTreatment.Identifier', valueIdentifier: { system: 'urn:oid:1.2', value: 'MBH1' } },
        { url: 'http://nictiz.nl/fhir/StructureDefinition/ext-MedicationAgreement.NextPractitioner', valueReference: { reference: 'PractitionerRole/pr1' } },
      ],
      dispenseRequest: { extension: [{ url: 'http://nictiz.nl/fhir/StructureDefinition/ext-DispenseRequest.DispenseLocation', valueReference: { reference: 'Location/l1' } }] },
    } as unknown as Resource;
    assert.deepEqual(extractParam(mr, 'pharmaceutical-treatment-identifier').idx_token.map((t) => `${t.system}|${t.code}`), ['urn:oid:1.2|MBH1']);
    assert.deepEqual(extractParam(mr, 'next-practitioner').idx_reference.map((r) => `${r.target_type}/${r.target_id}`), ['PractitionerRole/pr1']);
    assert.deepEqual(extractParam(mr, 'dispense-location').idx_reference.map((r) => `${r.target_type}/${r.target_id}`), ['Location/l1']);
  });
});
