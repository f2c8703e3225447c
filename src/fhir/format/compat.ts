/**
 * Known non-R4 constructs in XML we must nevertheless read, mapped onto valid R4.
 *
 * The Nictiz "R4" TestScripts (built for AEGIS Touchstone) use two R5 TestScript features:
 * - `assert.stopTestOnFail` (R5 element; absent in R4 4.0.1) → the official FHIR cross-version extension
 *   for that R5 element, so the flag survives and a runner can read it;
 * - `<profile id=".." value="canonical"/>` (R5 made TestScript.profile a canonical; R4 has a Reference)
 *   → `profile: { id, reference: canonical }`.
 * Only these exact places are mapped; everything else unknown stays an error.
 */
import { FHIR_NS } from './namespaces.ts';
import type { XmlAttr, XmlElement } from './xml-reader.ts';

export const STOP_TEST_ON_FAIL_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-TestScript.setup.action.assert.stopTestOnFail';

const ASSERT_CONTEXTS = new Set(['TestScript.setup.action.assert', 'TestScript.test.action.assert']);

/**
 * An extension to append for an element the R4 model does not know in context `contextKey`, or undefined
 * when there is no mapping.
 */
export function compatExtension(contextKey: string, el: XmlElement): Record<string, unknown> | undefined {
  if (el.local === 'stopTestOnFail' && el.ns === FHIR_NS && ASSERT_CONTEXTS.has(contextKey) && el.children.length === 0) {
    const v = el.attrs.find((a) => a.ns === '' && a.local === 'value')?.value;
    if (v === 'true' || v === 'false') return { url: STOP_TEST_ON_FAIL_EXT, valueBoolean: v === 'true' };
  }
  return undefined;
}

/** The R4 property name for an attribute the R4 model does not define on element `elementPath`. */
export function compatAttribute(elementPath: string, attr: XmlAttr): string | undefined {
  if (elementPath === 'TestScript.profile' && attr.local === 'value') return 'reference';
  return undefined;
}
