/**
 * The narrative `div`: XHTML carried inside FHIR. In JSON it is a string holding the serialised
 * `<div xmlns="http://www.w3.org/1999/xhtml">…</div>`; in XML it is that same markup inline.
 *
 * We keep the text verbatim in both directions whenever it is self-contained (the div declares the XHTML
 * namespace itself and uses no namespace prefixes declared outside it), so signatures and diffs of
 * narratives survive a format change. Otherwise the div is re-serialised with the namespace made explicit.
 */
import { badRequest, FhirError } from '../outcome.ts';
import { XHTML_NS } from './namespaces.ts';
import { escapeAttr, escapeText } from './xml-escape.ts';
import { isXmlNsDeclaration, readXml, XML_NS, type XmlElement } from './xml-reader.ts';


/** The JSON string for a parsed XML `div` element; `source` is the document the offsets refer to. */
export function xhtmlFromXml(el: XmlElement, source: string, path: string): string {
  if (el.ns !== XHTML_NS || el.local !== 'div') {
    throw badRequest(`${path} must be a <div> in the XHTML namespace ${XHTML_NS}`, path);
  }
  if (isSelfContained(el)) return source.slice(el.start, el.end);
  return serialise(el, '');
}

/**
 * The XML markup for a JSON narrative string. The string is parsed, so a malformed narrative is reported
 * here (as a client error naming the element) instead of producing a broken XML document.
 */
export function xhtmlToXml(value: unknown, path: string): string {
  if (typeof value !== 'string') throw badRequest(`Expected an XHTML string at ${path}`, path);
  let root: XmlElement;
  try {
    root = readXml(value).root;
  } catch (e) {
    if (e instanceof FhirError) throw badRequest(`Invalid XHTML at ${path}: ${e.message}`, path);
    throw e;
  }
  if (root.local !== 'div' || (root.ns !== XHTML_NS && root.ns !== '')) {
    throw badRequest(`${path} must be a <div> in the XHTML namespace ${XHTML_NS}`, path);
  }
  if (root.ns === XHTML_NS && isSelfContained(root)) return value.charCodeAt(0) === 0xfeff ? value.slice(1) : value;
  // No namespace at all (a common JSON shortcut) is read as XHTML.
  return serialise(root, '', true);
}

function isSelfContained(div: XmlElement): boolean {
  const declaresXhtml = div.attrs.some((a) => a.qname === 'xmlns' && a.value === XHTML_NS);
  return declaresXhtml && div.qname === 'div' && !usesPrefixes(div);
}

function usesPrefixes(el: XmlElement): boolean {
  if (el.qname.includes(':')) return true;
  for (const a of el.attrs) if (a.qname.includes(':') && a.ns !== XML_NS) return true;
  for (const c of el.children) if (typeof c !== 'string' && usesPrefixes(c)) return true;
  return false;
}

/**
 * Serialises with unprefixed element names, declaring a default namespace wherever it changes. `parentNs`
 * is the default namespace in scope; `noNsIsXhtml` maps un-namespaced elements to XHTML.
 */
function serialise(el: XmlElement, parentNs: string, noNsIsXhtml = false): string {
  const ns = el.ns === '' && noNsIsXhtml ? XHTML_NS : el.ns;
  let out = `<${el.local}`;
  if (ns !== parentNs) out += ` xmlns="${escapeAttr(ns, 'xhtml')}"`;
  let n = 0;
  for (const a of el.attrs) {
    if (isXmlNsDeclaration(a)) continue;
    if (a.ns === '') out += ` ${a.local}="${escapeAttr(a.value, 'xhtml')}"`;
    else if (a.ns === XML_NS) out += ` xml:${a.local}="${escapeAttr(a.value, 'xhtml')}"`;
    else {
      const p = `ns${n++}`;
      out += ` xmlns:${p}="${escapeAttr(a.ns, 'xhtml')}" ${p}:${a.local}="${escapeAttr(a.value, 'xhtml')}"`;
    }
  }
  if (el.children.length === 0) return `${out}/>`;
  out += '>';
  for (const c of el.children) out += typeof c === 'string' ? escapeText(c, 'xhtml') : serialise(c, ns, noNsIsXhtml);
  return `${out}</${el.local}>`;
}
