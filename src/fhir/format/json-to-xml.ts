/**
 * FHIR JSON → FHIR XML, driven by the type model (src/fhir/definitions/model.ts).
 *
 * XML is order-sensitive while JSON is not: for every object we map its keys to properties and emit them
 * in StructureDefinition order. Keys the model does not know are a client error naming the path, as are
 * values of the wrong JSON type, so a response can never become silently lossy.
 */
import type { Resource } from 'fhir/r4';
import { context, isResourceType, type Context, type PropertyInfo } from '../definitions/model.ts';
import { badRequest } from '../outcome.ts';
import { decimalSource, primitiveToXml } from './primitives.ts';
import { xhtmlToXml } from './xhtml.ts';
import { escapeAttr } from './xml-escape.ts';
import { MAX_DEPTH } from './xml-reader.ts';
import { FHIR_NS } from './namespaces.ts';

export interface XmlOutputOptions {
  /** Indent nested elements by two spaces, one element per line. Default false. */
  pretty?: boolean;
  /** Prefix `<?xml version="1.0" encoding="UTF-8"?>`. Default false. */
  declaration?: boolean;
}

type JsonObject = Record<string, unknown>;

/** Serialises a FHIR JSON resource as FHIR XML. Throws FhirError 400 on content the model does not allow. */
export function toFhirXml(resource: Resource, opts: XmlOutputOptions = {}): string {
  const w = new XmlWriter(opts.pretty === true);
  if (opts.declaration) w.out = '<?xml version="1.0" encoding="UTF-8"?>';
  w.resource(resource as unknown as JsonObject, '', 0, true);
  return w.out;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

class XmlWriter {
  out = '';
  private readonly indents: string[] = [];

  constructor(private readonly pretty: boolean) {}

  private newline(depth: number): void {
    if (!this.pretty) return;
    let ind = this.indents[depth];
    if (ind === undefined) {
      ind = `\n${'  '.repeat(depth)}`;
      this.indents[depth] = ind;
    }
    // The document starts without a leading newline.
    if (this.out !== '') this.out += ind;
  }

  resource(obj: unknown, path: string, depth: number, root = false): void {
    if (!isObject(obj)) throw badRequest(`Expected a resource object at ${path || 'the root'}`, path || undefined);
    const rt = obj.resourceType;
    if (typeof rt !== 'string' || !isResourceType(rt)) {
      throw badRequest(`Unknown or missing resourceType${path ? ` at ${path}` : ''}: ${String(rt)}`, path || undefined);
    }
    const here = path || rt;
    this.newline(depth);
    this.out += root ? `<${rt} xmlns="${FHIR_NS}"` : `<${rt}`;
    this.body(rt, obj, context(rt)!, here, depth, true);
  }

  /** Writes attributes and children of an element whose start tag is open, then closes it. */
  private body(tag: string, obj: JsonObject, ctx: Context, path: string, depth: number, isResource: boolean): void {
    if (depth > MAX_DEPTH) throw badRequest(`Content nested deeper than ${MAX_DEPTH} levels at ${path}`, path);
    for (const attr of ctx.attributes) {
      const v = obj[attr.name];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw badRequest(`Expected a string at ${path}.${attr.name}`, `${path}.${attr.name}`);
      this.out += ` ${attr.name}="${escapeAttr(v, path)}"`;
    }
    const props = this.orderedProperties(obj, ctx, path, isResource);
    if (props.length === 0) {
      this.out += '/>';
      return;
    }
    this.out += '>';
    for (const prop of props) this.property(obj, prop, `${path}.${prop.name}`, depth + 1);
    this.newline(depth);
    this.out += `</${tag}>`;
  }

  /** The object's element properties (not attributes) in definition order; rejects unknown keys. */
  private orderedProperties(obj: JsonObject, ctx: Context, path: string, isResource: boolean): PropertyInfo[] {
    const props: PropertyInfo[] = [];
    for (const key in obj) {
      if (isResource && key === 'resourceType') continue;
      const underscore = key.charCodeAt(0) === 95;
      const name = underscore ? key.slice(1) : key;
      const prop = ctx.properties.get(name);
      if (!prop || prop.name !== name) {
        if (key === 'fhir_comments') continue; // legacy JSON comments: no XML equivalent needed
        throw badRequest(`Unknown property '${key}' at ${path}`, `${path}.${key}`);
      }
      if (underscore && prop.kind !== 'primitive') throw badRequest(`Unknown property '${key}' at ${path}`, `${path}.${key}`);
      if (prop.element.xmlAttr) {
        if (underscore) throw badRequest(`Unknown property '${key}' at ${path}`, `${path}.${key}`);
        continue;
      }
      if (underscore && obj[name] !== undefined) continue; // written together with the value
      if (obj[key] === undefined) continue;
      // Insertion sort: objects have few keys and are usually already in order.
      let i = props.length;
      while (i > 0 && props[i - 1].element.order > prop.element.order) i--;
      if (i > 0 && props[i - 1].element === prop.element) {
        throw badRequest(`Only one of ${props[i - 1].name} and ${name} may be present at ${path}`, `${path}.${name}`);
      }
      props.splice(i, 0, prop);
    }
    return props;
  }

  private property(obj: JsonObject, prop: PropertyInfo, path: string, depth: number): void {
    const name = prop.name;
    const value = obj[name];
    if (prop.kind === 'primitive') {
      const ext = obj[`_${name}`];
      if (prop.element.isArray) {
        if ((value !== undefined && !Array.isArray(value)) || (ext !== undefined && !Array.isArray(ext))) {
          throw badRequest(`Expected an array at ${path}`, path);
        }
        const values = (value ?? []) as unknown[];
        const exts = (ext ?? []) as unknown[];
        const n = Math.max(values.length, exts.length);
        for (let i = 0; i < n; i++) this.primitive(name, prop.type, values[i], exts[i], path, depth);
      } else {
        if (Array.isArray(value) || Array.isArray(ext)) throw badRequest(`Expected a single value at ${path}`, path);
        const lexical = prop.type === 'decimal' ? decimalSource(obj, name, value) : undefined;
        this.primitive(name, prop.type, value, ext, path, depth, lexical);
      }
      return;
    }
    if (prop.element.isArray) {
      if (!Array.isArray(value)) throw badRequest(`Expected an array at ${path}`, path);
      for (const item of value) this.nonPrimitive(prop, item, path, depth);
    } else {
      if (Array.isArray(value)) throw badRequest(`Expected a single value at ${path}`, path);
      this.nonPrimitive(prop, value, path, depth);
    }
  }

  private nonPrimitive(prop: PropertyInfo, value: unknown, path: string, depth: number): void {
    const name = prop.name;
    if (prop.kind === 'xhtml') {
      this.newline(depth);
      this.out += xhtmlToXml(value, path);
      return;
    }
    if (!isObject(value)) throw badRequest(`Expected an object at ${path}`, path);
    if (prop.kind === 'resource') {
      if (prop.type !== 'Resource' && value.resourceType !== prop.type) {
        throw badRequest(`${path} must be a ${prop.type}, not ${String(value.resourceType)}`, path);
      }
      this.newline(depth);
      this.out += `<${name}>`;
      this.resource(value, path, depth + 1);
      this.newline(depth);
      this.out += `</${name}>`;
      return;
    }
    this.newline(depth);
    this.out += `<${name}`;
    this.body(name, value, context(prop.context!)!, path, depth, false);
  }

  /** `lexical`: the exact text to write for the value (a remembered decimal), already validated. */
  private primitive(name: string, type: string, value: unknown, ext: unknown, path: string, depth: number, lexical?: string): void {
    if (value == null && ext == null) return; // null placeholders in primitive arrays
    this.newline(depth);
    this.out += `<${name}`;
    let extensions: unknown[] | undefined;
    if (ext != null) {
      if (!isObject(ext)) throw badRequest(`Expected an object at ${path.replace(/[^.]+$/, `_${name}`)}`, path);
      for (const k in ext) {
        const v = ext[k];
        if (v === undefined) continue;
        if (k === 'id' && typeof v === 'string') this.out += ` id="${escapeAttr(v, path)}"`;
        else if (k === 'extension' && Array.isArray(v)) extensions = v.length > 0 ? v : undefined;
        else if (k !== 'fhir_comments') throw badRequest(`Unexpected property '${k}' in the extension object of ${path}`, path);
      }
    }
    if (value != null) this.out += ` value="${escapeAttr(lexical ?? primitiveToXml(type, value, path), path)}"`;
    if (!extensions) {
      this.out += '/>';
      return;
    }
    this.out += '>';
    const extCtx = context('Extension')!;
    for (const e of extensions) {
      if (!isObject(e)) throw badRequest(`Expected an object at ${path}.extension`, `${path}.extension`);
      this.newline(depth + 1);
      this.out += '<extension';
      this.body('extension', e, extCtx, `${path}.extension`, depth + 1, false);
    }
    this.newline(depth);
    this.out += `</${name}>`;
  }
}
