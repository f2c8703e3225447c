/** XML namespaces of FHIR content. */
export const FHIR_NS = 'http://hl7.org/fhir';
/** The narrative `div` (and only it) lives in the XHTML namespace. */
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
