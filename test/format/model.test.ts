import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  childElements,
  context,
  elementInfo,
  isPrimitiveType,
  isResourceType,
  propertyInfo,
  resourceTypes,
  typeKind,
} from '../../src/fhir/definitions/model.ts';

describe('FHIR type model', () => {
  it('knows resource and primitive types', () => {
    assert.equal(isResourceType('Patient'), true);
    assert.equal(isResourceType('Bundle'), true);
    assert.equal(isResourceType('DomainResource'), false, 'abstract');
    assert.equal(isResourceType('Resource'), false, 'abstract');
    assert.equal(isResourceType('Quantity'), false);
    assert.equal(isResourceType('MetadataResource'), false, 'logical model');
    assert.equal(resourceTypes().length, 146, 'concrete resource types in R4 4.0.1');
    assert.equal(isResourceType('SubscriptionStatus'), false, 'R4B, shipped in the same bundle');
    assert.equal(isPrimitiveType('dateTime'), true);
    assert.equal(isPrimitiveType('xhtml'), true);
    assert.equal(isPrimitiveType('Quantity'), false);
    assert.equal(typeKind('CodeableConcept'), 'complex-type');
    assert.equal(typeKind('SimpleQuantity'), undefined, 'constraint profiles are not types');
  });

  it('gives element info with cardinality, summary flag and normalised types', () => {
    const id = elementInfo('Patient', 'id');
    assert.deepEqual(id?.types, ['string']);
    assert.equal(id?.xmlAttr, false, 'Resource.id is an element');
    assert.equal(elementInfo('Patient', 'name.id')?.xmlAttr, true, 'Element.id is an attribute');
    assert.equal(elementInfo('Extension', 'url')?.xmlAttr, true);
    const name = elementInfo('Patient', 'name');
    assert.equal(name?.isArray, true);
    assert.equal(name?.max, '*');
    assert.equal(name?.isSummary, true);
    const status = elementInfo('Observation', 'Observation.status');
    assert.equal(status?.min, 1);
    assert.equal(status?.isArray, false);
    assert.equal(status?.isModifier, true);
    assert.equal(elementInfo('Patient', 'nmae'), undefined);
  });

  it('leaves out the Medplum-only Meta elements', () => {
    assert.deepEqual(
      childElements('Meta')?.map((e) => e.name),
      ['id', 'extension', 'versionId', 'lastUpdated', 'source', 'profile', 'security', 'tag'],
    );
  });

  it('expands choice types by type suffix', () => {
    const p = propertyInfo('Observation', 'valueQuantity');
    assert.equal(p?.type, 'Quantity');
    assert.equal(p?.kind, 'complex');
    assert.equal(p?.element.path, 'Observation.value[x]');
    assert.equal(p?.element.choice, true);
    assert.equal(propertyInfo('Observation', 'valueDateTime')?.kind, 'primitive');
    assert.equal(propertyInfo('Observation', 'valueQuantity.value')?.type, 'decimal');
    assert.equal(propertyInfo('Observation', 'valueFoo'), undefined);
    assert.equal(propertyInfo('Extension', 'valueCodeableConcept.coding.system')?.type, 'uri');
    assert.equal(elementInfo('Observation', 'value[x]')?.types.length, 11);
  });

  it('resolves contentReferences', () => {
    assert.equal(elementInfo('Questionnaire', 'item.item')?.contentReference, 'Questionnaire.item');
    assert.equal(elementInfo('Questionnaire', 'item.item.item.linkId')?.path, 'Questionnaire.item.linkId');
    assert.deepEqual(
      childElements('Bundle', 'entry.link')?.map((e) => e.name),
      ['id', 'extension', 'modifierExtension', 'relation', 'url'],
    );
    assert.equal(elementInfo('ValueSet', 'compose.exclude')?.contentReference, 'ValueSet.compose.include');
    assert.equal(elementInfo('ValueSet', 'compose.exclude.concept.code')?.min, 1);
  });

  it('lists children in StructureDefinition order', () => {
    assert.deepEqual(
      childElements('Quantity')?.map((e) => e.name),
      ['id', 'extension', 'value', 'comparator', 'unit', 'system', 'code'],
    );
    const obs = childElements('Observation')!.map((e) => e.name);
    assert.deepEqual(obs.slice(0, 10), ['id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension', 'identifier', 'basedOn']);
    assert.ok(obs.indexOf('code') < obs.indexOf('subject') && obs.indexOf('value') < obs.indexOf('component'));
    assert.deepEqual(childElements('Observation')!.map((e) => e.order), obs.map((_, i) => i));
    assert.deepEqual(childElements('string')?.map((e) => e.name), ['id', 'extension', 'value']);
    assert.equal(childElements('Patient', 'active'), childElements('boolean'));
    assert.equal(childElements('Bundle', 'entry.resource'), undefined, 'resource-typed: type only known from data');
  });

  it('classifies resource-typed, xhtml and backbone properties', () => {
    assert.equal(propertyInfo('Bundle', 'entry.resource')?.kind, 'resource');
    assert.equal(propertyInfo('Bundle', 'entry.response.outcome')?.type, 'OperationOutcome');
    assert.equal(propertyInfo('Bundle', 'entry.response.outcome')?.kind, 'resource');
    assert.equal(propertyInfo('Parameters', 'parameter.resource')?.kind, 'resource');
    assert.equal(propertyInfo('Patient', 'contained')?.kind, 'resource');
    assert.equal(propertyInfo('Patient', 'text.div')?.kind, 'xhtml');
    assert.equal(propertyInfo('Timing', 'repeat')?.context, 'Timing.repeat', 'Element-typed backbone in a data type');
    assert.equal(propertyInfo('Patient', 'contact')?.context, 'Patient.contact');
    assert.equal(context('Patient.contact')?.properties.get('name')?.type, 'HumanName');
  });
});
