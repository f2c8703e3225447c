/**
 * FHIR XML ⇄ JSON: the entry point for the HTTP layer and tools.
 *
 * - parseFhirXml(xml): FHIR XML document → FHIR JSON resource (FhirError 400 on malformed XML, unknown
 *   elements, wrong root, badly typed primitive values).
 * - toFhirXml(resource, { pretty?, declaration? }): FHIR JSON → FHIR XML, elements in definition order
 *   (FhirError 400 on unknown properties or wrongly typed values).
 */
export { parseFhirXml } from './xml-to-json.ts';
export { toFhirXml, type XmlOutputOptions } from './json-to-xml.ts';
export { FHIR_NS, XHTML_NS } from './namespaces.ts';

export const FHIR_XML_CONTENT_TYPE = 'application/fhir+xml';
