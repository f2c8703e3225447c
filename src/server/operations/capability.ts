/**
 * The CapabilityStatement at [base]/metadata. It is generated from what the server really does: the
 * resource types of R4, the interactions the dispatcher implements, and every SearchParameter the search
 * registry indexes (R4 core plus the loaded packages) — so it cannot drift from the implementation.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';
import { resourceTypes } from '../../fhir/definitions/model.ts';
import { searchParamsFor } from '../../search/registry.ts';
import { SCHAKEL_VERSION } from '../../version.ts';

const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

let cached: string | undefined;

export function capabilityStatement(base: string, opts: { profileValidation: string[] }): CapabilityStatement {
  const resources: CapabilityStatementRestResource[] = [...resourceTypes()].sort().map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    referencePolicy: ['literal', 'local'],
    searchInclude: ['*'],
    searchRevInclude: ['*'],
    searchParam: searchParamsFor(type).map((p) => ({ name: p.code, definition: p.url, type: p.type, documentation: p.definition.description })),
    operation: [
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      ...(type === 'Patient'
        ? [
            { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
            { name: 'purge', definition: 'http://schakel.dev/fhir/OperationDefinition/Patient-purge' },
          ]
        : []),
      ...(type === 'Observation' ? [{ name: 'lastn', definition: 'http://hl7.org/fhir/OperationDefinition/Observation-lastn' }] : []),
      ...(type === 'Patient' || type === 'Group' ? [{ name: 'export', definition: `http://hl7.org/fhir/uv/bulkdata/OperationDefinition/${type.toLowerCase()}-export` }] : []),
    ],
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Schakel',
    kind: 'instance',
    software: { name: 'Schakel', version: SCHAKEL_VERSION },
    implementation: { description: 'Schakel FHIR R4 server', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/fhir+xml', 'json', 'xml'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
    implementationGuide: opts.profileValidation,
    rest: [
      {
        mode: 'server',
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        operation: [
          { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
          { name: 'import', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/import' },
        ],
        searchParam: [
          { name: '_id', type: 'token' },
          { name: '_lastUpdated', type: 'date' },
          { name: '_profile', type: 'uri' },
          { name: '_tag', type: 'token' },
          { name: '_security', type: 'token' },
          { name: '_type', type: 'token' },
        ],
      },
    ],
  };
}

/** The statement is large and identical per base apart from the URL: cache the serialised form. */
export function capabilityStatementJson(base: string, opts: { profileValidation: string[] }): string {
  if (!cached) cached = JSON.stringify(capabilityStatement('{{BASE}}', opts));
  return cached.replaceAll('{{BASE}}', base);
}
