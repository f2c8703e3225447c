/**
 * A lenient TestScript XML → JSON reader. Nictiz TestScripts are not strictly valid R4: they carry
 * `<profile id=… value=…/>` (profile is a Reference in R4), the R5 element `stopTestOnFail`, and
 * leftover `nts:` attributes. The project's strict FHIR XML parser rightly rejects those in resources a
 * server receives, so scripts (only scripts — fixtures still go through the strict parser) are read here
 * with a small generic mapping: `value` attributes become primitives, elements with children objects.
 */
import { XMLParser } from 'fast-xml-parser';
import type { TestScript } from 'fhir/r4';

/** Complex elements that repeat in TestScript (the JSON form then is an array even with one item). */
const REPEATING = new Set([
  'contact', 'telecom', 'useContext', 'jurisdiction', 'identifier', 'origin', 'destination', 'link', 'capability',
  'fixture', 'profile', 'variable', 'action', 'test', 'requestHeader', 'extension', 'modifierExtension', 'coding',
]);
/** Primitive elements whose JSON type is not string. */
const BOOLEAN = new Set([
  'valueBoolean', 'autocreate', 'autodelete', 'warningOnly', 'stopTestOnFail', 'encodeRequestUrl', 'navigationLinks',
  'required', 'validated', 'experimental',
]);
const INTEGER = new Set(['valueInteger', 'index', 'origin', 'destination']);

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };
type Json = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
});

function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text');
}

function primitive(name: string, raw: string): unknown {
  if (BOOLEAN.has(name)) return raw === 'true';
  if (INTEGER.has(name) && /^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}

function convertChildren(children: XmlNode[]): Json {
  const out: Json = {};
  for (const child of children) {
    const name = tagOf(child);
    if (!name) continue;
    const attrs = child[':@'] ?? {};
    const kids = (child[name] as XmlNode[]) ?? [];
    const hasElements = kids.some((k) => tagOf(k) !== undefined);
    let value: unknown;
    if (name === 'profile' && attrs.value !== undefined) {
      // Nictiz's `<profile id="Bundle-profile" value="…"/>`: keep the URL where R4 has it, in reference.
      value = { id: attrs.id, reference: attrs.value };
    } else if (attrs.value !== undefined && !hasElements) {
      value = primitive(name, attrs.value);
    } else if (name === 'div') {
      continue; // narrative is irrelevant to running a script
    } else {
      const obj = convertChildren(kids);
      if (attrs.id !== undefined) obj.id = attrs.id;
      if (attrs.url !== undefined) obj.url = attrs.url;
      if (attrs.value !== undefined) {
        // A primitive with extensions: the value itself, extensions under `_name` as in FHIR JSON.
        out[`_${name}`] = obj;
        value = primitive(name, attrs.value);
      } else value = obj;
    }
    if (REPEATING.has(name) && (typeof value === 'object' || name === 'profile')) {
      const list = (out[name] as unknown[] | undefined) ?? [];
      list.push(value);
      out[name] = list;
    } else {
      out[name] = value;
    }
  }
  return out;
}

export function parseTestScriptXml(xml: string): TestScript {
  const doc = parser.parse(xml) as XmlNode[];
  const root = doc.find((n) => tagOf(n) !== undefined && tagOf(n) !== '?xml');
  const name = root && tagOf(root);
  if (!root || name !== 'TestScript') throw new Error(`not a TestScript document (root ${name ?? 'none'})`);
  return { resourceType: 'TestScript', ...convertChildren(root[name] as XmlNode[]) } as TestScript;
}
