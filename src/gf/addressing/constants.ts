/**
 * Systems, canonicals and codes of GF addressing (mCSD as profiled by the MinVWS generic-functions guide,
 * `hl7.fhir.nl.gf` 0.10.0). One place, so a changed canonical is changed once. Sources: STANDARDS.md §1–§3.
 */

/** URA (UZI-register subscriber number), the identifier of a care-provider organisation. */
export const URA_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/ura';
/** The URA as an OID URI: the guide's own invariants use this form, so it is accepted when reading. */
export const URA_OID_SYSTEM = 'urn:oid:2.16.528.1.1007.3.3';
export const URA_SYSTEMS: readonly string[] = [URA_SYSTEM, URA_OID_SYSTEM];
export const AGB_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/agb-z';
export const KVK_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/kvk';
/** "RoleCodeNL – zorgaanbiedertype (organisaties)". */
export const ORGANIZATION_TYPE_SYSTEM = 'http://nictiz.nl/fhir/NamingSystem/organization-type';

const GF = 'http://minvws.github.io/generiekefuncties-docs/';
export const GF_PROFILE = {
  Organization: `${GF}StructureDefinition/nl-gf-organization`,
  Location: `${GF}StructureDefinition/nl-gf-location`,
  HealthcareService: `${GF}StructureDefinition/nl-gf-healthcareservice`,
  Endpoint: `${GF}StructureDefinition/nl-gf-endpoint`,
  OrganizationAffiliation: `${GF}StructureDefinition/nl-gf-organizationaffiliation`,
} as const;
export const GF_CAPABILITY = {
  iti90: `${GF}CapabilityStatement/nl-gf-directory-for-ITI-90-NL`,
  iti91: `${GF}CapabilityStatement/nl-gf-directory-for-ITI-91-NL`,
  iti130: `${GF}CapabilityStatement/nl-gf-directory-for-ITI-130-NL`,
} as const;
/** GF data categories: the payloadType codes that say which data an endpoint serves. */
export const DATA_CATEGORY_SYSTEM = `${GF}CodeSystem/nl-gf-data-categories-cs`;

export const CONNECTION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';
export const HL7_FHIR_REST = 'hl7-fhir-rest';
export const PAYLOAD_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type';
/** R4 extension on Endpoint declaring the FHIR version it speaks (valueCode, e.g. 4.0.1). */
export const ENDPOINT_FHIR_VERSION_EXT = 'http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version';
/** CustodianAssignedIdentifier: assigner.identifier.type. */
export const PROVENANCE_PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/** The five mCSD types of the national directory, plus PractitionerRole (kept by an organisation for its staff). */
export const DIRECTORY_TYPES = ['Organization', 'Endpoint', 'HealthcareService', 'Location', 'OrganizationAffiliation', 'PractitionerRole'] as const;
export type DirectoryType = (typeof DIRECTORY_TYPES)[number];
export const isDirectoryType = (t: string): t is DirectoryType => (DIRECTORY_TYPES as readonly string[]).includes(t);

/** Reserved tenants (ADR 0003): the national directory's store, and a node's local replica of it. */
export const NATIONAL_DIRECTORY_TENANT = 'national-directory';
export const LOCAL_DIRECTORY_TENANT = 'local-directory';
export const DIRECTORY_PREFIX = '/national/directory/fhir';

/** The element through which each directory type belongs to an organisation (ITI-130 ownership). */
export const OWNER_ELEMENT: Record<Exclude<DirectoryType, 'Organization'>, string> = {
  Endpoint: 'managingOrganization',
  Location: 'managingOrganization',
  HealthcareService: 'providedBy',
  OrganizationAffiliation: 'organization',
  PractitionerRole: 'organization',
};
