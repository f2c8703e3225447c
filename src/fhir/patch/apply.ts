/**
 * PATCH bodies: JSON Patch (RFC 6902, via fast-json-patch) and FHIRPath Patch (a Parameters resource,
 * FHIR R4 fhirpatch.html). FHIRPath Patch is written here because no library implements it on top of
 * HL7's FHIRPath engine: we evaluate the path with fhirpath.js and edit the parent node it reports.
 */
import type { Parameters, ParametersParameter, Resource } from 'fhir/r4';
import jsonpatch from 'fast-json-patch';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { badRequest, unprocessable } from '../outcome.ts';

export function applyPatch(resource: Resource, body: unknown, kind: 'json-patch' | 'fhirpath-patch'): Resource {
  return kind === 'json-patch' ? applyJsonPatch(resource, body) : applyFhirPathPatch(resource, body);
}

function applyJsonPatch(resource: Resource, body: unknown): Resource {
  if (!Array.isArray(body)) throw badRequest('A JSON Patch body must be an array of operations');
  const problem = jsonpatch.validate(body as jsonpatch.Operation[], resource);
  if (problem) throw unprocessable(`JSON Patch operation ${problem.index} (${problem.name}) failed: ${problem.message}`);
  try {
    return jsonpatch.applyPatch(resource, body as jsonpatch.Operation[], true, false).newDocument;
  } catch (e) {
    throw unprocessable(`JSON Patch failed: ${(e as Error).message}`);
  }
}

/** The node fhirpath.js reports with resolveInternalTypes=false: it knows its parent and property. */
interface FpNode {
  data: unknown;
  parentResNode?: FpNode | null;
  propName?: string;
  index?: number | null;
}

function locate(resource: Resource, path: string): FpNode[] {
  try {
    const out = fhirpath.evaluate(resource, path, undefined, r4, { resolveInternalTypes: false }) as unknown[];
    return out.filter((n): n is FpNode => typeof n === 'object' && n !== null && 'data' in n);
  } catch (e) {
    throw badRequest(`FHIRPath '${path}' is invalid: ${(e as Error).message}`, 'Parameters.parameter.part.valueString');
  }
}

function partValue(op: ParametersParameter): unknown {
  const v = op.part?.find((p) => p.name === 'value');
  if (!v) return undefined;
  if (v.part) {
    // A complex value given as parts: each part is a child element.
    const obj: Record<string, unknown> = {};
    for (const p of v.part) obj[p.name] = valueOf(p);
    return obj;
  }
  return valueOf(v);
}

function valueOf(p: ParametersParameter): unknown {
  for (const [k, v] of Object.entries(p)) if (k.startsWith('value')) return v;
  return p.resource;
}

function str(op: ParametersParameter, name: string): string | undefined {
  const p = op.part?.find((x) => x.name === name);
  return p?.valueString ?? p?.valueCode ?? (p?.valueInteger !== undefined ? String(p.valueInteger) : undefined);
}

function container(node: FpNode): { obj: Record<string, unknown>; prop: string; index: number | null } {
  const parent = node.parentResNode?.data;
  if (!node.propName || typeof parent !== 'object' || parent === null) throw unprocessable('FHIRPath Patch cannot change the resource root');
  return { obj: parent as Record<string, unknown>, prop: node.propName, index: node.index ?? null };
}

function applyFhirPathPatch(resource: Resource, body: unknown): Resource {
  const params = body as Parameters;
  if (params?.resourceType !== 'Parameters') throw badRequest('A FHIRPath Patch body must be a Parameters resource', 'resourceType');
  const doc = structuredClone(resource);
  (params.parameter ?? []).forEach((op, i) => {
    const where = `Parameters.parameter[${i}]`;
    if (op.name !== 'operation') throw badRequest(`Unexpected parameter '${op.name}'`, `${where}.name`);
    const type = str(op, 'type');
    const path = str(op, 'path');
    if (!type || !path) throw badRequest('A patch operation needs type and path', where);
    const nodes = locate(doc, path);
    switch (type) {
      case 'add': {
        const name = str(op, 'name');
        if (!name) throw badRequest('add needs a name', where);
        if (nodes.length !== 1) throw unprocessable(`add: path '${path}' must match one element, matched ${nodes.length}`, where);
        const target = nodes[0].data as Record<string, unknown>;
        const value = partValue(op);
        const existing = target[name];
        if (existing === undefined) target[name] = isRepeating(nodes[0], name, doc) ? [value] : value;
        else if (Array.isArray(existing)) existing.push(value);
        else throw unprocessable(`add: ${path}.${name} exists already and does not repeat`, where);
        break;
      }
      case 'insert': {
        const index = Number(str(op, 'index'));
        const arr = locateArray(doc, path, where);
        if (!Number.isInteger(index) || index < 0 || index > arr.length) throw unprocessable(`insert: index ${index} is out of range`, where);
        arr.splice(index, 0, partValue(op));
        break;
      }
      case 'delete': {
        if (nodes.length === 0) break; // deleting nothing is allowed by the spec
        if (nodes.length > 1) throw unprocessable(`delete: path '${path}' matched ${nodes.length} elements`, where);
        const { obj, prop, index } = container(nodes[0]);
        if (index !== null && Array.isArray(obj[prop])) {
          (obj[prop] as unknown[]).splice(index, 1);
          if ((obj[prop] as unknown[]).length === 0) delete obj[prop];
        } else delete obj[prop];
        break;
      }
      case 'replace': {
        if (nodes.length !== 1) throw unprocessable(`replace: path '${path}' must match one element, matched ${nodes.length}`, where);
        const { obj, prop, index } = container(nodes[0]);
        if (index !== null && Array.isArray(obj[prop])) (obj[prop] as unknown[])[index] = partValue(op);
        else obj[prop] = partValue(op);
        break;
      }
      case 'move': {
        const source = Number(str(op, 'source'));
        const destination = Number(str(op, 'destination'));
        const arr = locateArray(doc, path, where);
        if (![source, destination].every((n) => Number.isInteger(n) && n >= 0 && n < arr.length)) throw unprocessable('move: index out of range', where);
        const [item] = arr.splice(source, 1);
        arr.splice(destination, 0, item);
        break;
      }
      default:
        throw badRequest(`Unknown patch operation type '${type}'`, where);
    }
  });
  return doc;
}

function locateArray(doc: Resource, path: string, where: string): unknown[] {
  const nodes = locate(doc, path);
  if (nodes.length === 0) throw unprocessable(`path '${path}' matched nothing`, where);
  const { obj, prop } = container(nodes[0]);
  const arr = obj[prop];
  if (!Array.isArray(arr)) throw unprocessable(`path '${path}' is not a list`, where);
  return arr;
}

/** Whether element `name` under node repeats, per the R4 model fhirpath.js carries. */
function isRepeating(node: FpNode, name: string, doc: Resource): boolean {
  const model = r4 as unknown as { path2Repeating?: Record<string, boolean> };
  const typePath = typePathOf(node, doc);
  return Boolean(model.path2Repeating?.[`${typePath}.${name}`]);
}

function typePathOf(node: FpNode, doc: Resource): string {
  const parts: string[] = [];
  let n: FpNode | null | undefined = node;
  while (n && n.propName) {
    parts.unshift(n.propName);
    n = n.parentResNode;
  }
  return [doc.resourceType, ...parts].join('.');
}
