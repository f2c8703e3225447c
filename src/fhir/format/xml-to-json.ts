/**
 * FHIR XML → FHIR JSON, driven by the type model (src/fhir/definitions/model.ts).
 *
 * Every element name is looked up in the context of its parent, which yields its JSON name, FHIR type and
 * cardinality; unknown elements are a client error naming the element path. Foreign-namespace attributes
 * (e.g. `nts:in-targets` left in Nictiz TestScripts, `xsi:schemaLocation`) are ignored; unprefixed
 * attributes must be defined (`value`, `id`, `url`). XML element order is not enforced on input.
 */
import type { Resource } from 'fhir/r4';
import { context, isResourceType, type Context, type PropertyInfo } from '../definitions/model.ts';
import { badRequest } from '../outcome.ts';
import { compatAttribute, compatExtension } from './compat.ts';
import { primitiveFromXml, rememberDecimal, type JsonPrimitive } from './primitives.ts';
import { FHIR_NS, XHTML_NS } from './namespaces.ts';
import { xhtmlFromXml } from './xhtml.ts';
import { readXml, type XmlElement } from './xml-reader.ts';

type JsonObject = Record<string, unknown>;

/** Parses a FHIR XML document (any resource type) into FHIR JSON. Throws FhirError 400 on bad input. */
export function parseFhirXml(xml: string): Resource {
  const { root, source } = readXml(xml, { keepWhitespace: (ns) => ns !== FHIR_NS });
  if (root.ns !== FHIR_NS) {
    throw badRequest(`Root element <${root.qname}> is not in the FHIR namespace (${FHIR_NS})`, root.local);
  }
  if (!isResourceType(root.local)) throw badRequest(`Root element <${root.local}> is not a FHIR resource type`, root.local);
  return readResource(root, root.local, source) as unknown as Resource;
}

function getContext(key: string, path: string): Context {
  const ctx = context(key);
  if (!ctx) throw new Error(`FHIR model has no definition for ${key} (at ${path})`);
  return ctx;
}

function readResource(el: XmlElement, path: string, source: string): JsonObject {
  rejectAttributes(el, path);
  const obj: JsonObject = { resourceType: el.local };
  readChildren(el, getContext(el.local, path), obj, path, source);
  return obj;
}

/** Unprefixed attributes on elements that define none; namespace declarations and foreign ones are fine. */
function rejectAttributes(el: XmlElement, path: string): void {
  for (const a of el.attrs) if (a.ns === '') throw badRequest(`Unknown attribute '${a.local}' on ${path}`, path);
}

/** `elementPath` is the definition path of the element being read (for the compat mappings). */
function readComplex(el: XmlElement, ctx: Context, elementPath: string, path: string, source: string): JsonObject {
  const obj: JsonObject = {};
  for (const a of el.attrs) {
    if (a.ns !== '') continue;
    const prop = ctx.properties.get(a.local);
    if (prop && prop.element.xmlAttr) {
      obj[a.local] = a.value;
      continue;
    }
    const mapped = compatAttribute(elementPath, a);
    if (mapped === undefined || ctx.properties.get(mapped)?.kind !== 'primitive' || mapped in obj) {
      throw badRequest(`Unknown attribute '${a.local}' on ${path}`, path);
    }
    obj[mapped] = a.value;
  }
  readChildren(el, ctx, obj, path, source);
  return obj;
}

function readChildren(el: XmlElement, ctx: Context, obj: JsonObject, path: string, source: string): void {
  // Names of repeating primitives: their value and `_` arrays are trimmed once all children are read.
  let primitiveArrays: string[] | undefined;
  for (const child of el.children) {
    if (typeof child === 'string') throw badRequest(`Unexpected text content in ${path}`, path);
    const prop = lookup(child, ctx, path);
    if (!prop) {
      const ext = compatExtension(ctx.key, child);
      if (!ext) throw unknownElement(child, path);
      const list = obj.extension as unknown[] | undefined;
      if (list) list.push(ext);
      else obj.extension = [ext];
      continue;
    }
    const name = prop.name;
    const childPath = `${path}.${name}`;
    const isArray = prop.element.isArray;
    if (prop.kind === 'primitive') {
      const [value, ext] = readPrimitive(child, prop, childPath, source);
      if (value === null && ext === null) continue; // an empty element carries nothing
      if (isArray) {
        let values = obj[name] as (JsonPrimitive | null)[] | undefined;
        if (!values) {
          values = [];
          obj[name] = values;
          obj[`_${name}`] = [];
          (primitiveArrays ??= []).push(name);
        }
        values.push(value);
        (obj[`_${name}`] as (JsonObject | null)[]).push(ext);
      } else {
        if (name in obj || `_${name}` in obj) throw repeated(childPath);
        if (value !== null) {
          obj[name] = value;
          if (prop.type === 'decimal') rememberDecimal(obj, name, attrValue(child)!, value as number);
        }
        if (ext !== null) obj[`_${name}`] = ext;
      }
      continue;
    }
    let value: unknown;
    if (prop.kind === 'complex') value = readComplex(child, getContext(prop.context!, childPath), prop.element.path, childPath, source);
    else if (prop.kind === 'resource') value = readWrappedResource(child, prop, childPath, source);
    else value = xhtmlFromXml(child, source, childPath);
    if (isArray) {
      const list = obj[name] as unknown[] | undefined;
      if (list) list.push(value);
      else obj[name] = [value];
    } else {
      if (name in obj) throw repeated(childPath);
      obj[name] = value;
    }
  }
  if (primitiveArrays) {
    for (const name of primitiveArrays) {
      if ((obj[name] as unknown[]).every((v) => v === null)) delete obj[name];
      if ((obj[`_${name}`] as unknown[]).every((v) => v === null)) delete obj[`_${name}`];
    }
  }
}

const repeated = (path: string) => badRequest(`Element ${path} occurs more than once but allows at most one`, path);

function lookup(child: XmlElement, ctx: Context, path: string): PropertyInfo | undefined {
  const prop = ctx.properties.get(child.local);
  if (!prop || prop.name !== child.local || prop.element.xmlAttr) return undefined;
  // The narrative div is the only element in another namespace; everything else must be FHIR.
  if (prop.kind === 'xhtml' ? child.ns === XHTML_NS : child.ns === FHIR_NS) return prop;
  if (prop.kind === 'xhtml') throw badRequest(`${path}.${child.local} must be in the XHTML namespace (${XHTML_NS})`, `${path}.${child.local}`);
  return undefined;
}

function unknownElement(child: XmlElement, path: string) {
  const where = child.ns === FHIR_NS ? '' : ` (namespace '${child.ns}')`;
  return badRequest(`Unknown element '${child.qname}'${where} at ${path}`, `${path}.${child.local}`);
}

const attrValue = (el: XmlElement): string | undefined => el.attrs.find((a) => a.ns === '' && a.local === 'value')?.value;

function readPrimitive(el: XmlElement, prop: PropertyInfo, path: string, source: string): [JsonPrimitive | null, JsonObject | null] {
  let value: JsonPrimitive | null = null;
  let ext: JsonObject | null = null;
  for (const a of el.attrs) {
    if (a.ns !== '') continue;
    if (a.local === 'value') value = primitiveFromXml(prop.type, a.value, path);
    else if (a.local === 'id') (ext ??= {}).id = a.value;
    else throw badRequest(`Unknown attribute '${a.local}' on ${path}`, path);
  }
  if (el.children.length > 0) {
    // The primitive type's own definition allows only `extension` as a child element.
    ext ??= {};
    readChildren(el, getContext(prop.type, path), ext, path, source);
  }
  return [value, ext];
}

function readWrappedResource(el: XmlElement, prop: PropertyInfo, path: string, source: string): JsonObject {
  rejectAttributes(el, path);
  let inner: XmlElement | undefined;
  for (const c of el.children) {
    if (typeof c === 'string') throw badRequest(`Unexpected text content in ${path}`, path);
    if (inner) throw badRequest(`${path} must contain exactly one resource`, path);
    inner = c;
  }
  if (!inner) throw badRequest(`${path} must contain a resource`, path);
  if (inner.ns !== FHIR_NS || !isResourceType(inner.local)) {
    throw badRequest(`<${inner.qname}> at ${path} is not a FHIR resource`, path);
  }
  if (prop.type !== 'Resource' && prop.type !== inner.local) {
    throw badRequest(`${path} must contain a ${prop.type}, not a ${inner.local}`, path);
  }
  return readResource(inner, path, source);
}
