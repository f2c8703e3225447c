/**
 * A small evaluator for the simple FHIRPath shapes that make up most SearchParameter expressions
 * (`Observation.code`, `(Observation.effective as dateTime)`, `Observation.value.as(Quantity)`,
 * `Encounter.subject.where(resolve() is Patient)`, `X.extension('url').value`, `Patient.telecom.where(system='phone')`).
 *
 * fhirpath.js builds typed node wrappers for every step and costs tens of microseconds per call; with ~20
 * parameters per resource that dominates ingest. This evaluator walks plain JSON. Anything it does not
 * recognise returns `undefined` from `compileFastPath`, and the caller falls back to fhirpath.js.
 */
import { createRequire } from 'node:module';

/** A value reached by a path, with its FHIR type when known (from a choice element's suffix). */
export interface Node {
  v: unknown;
  t?: string;
}

type Step = (nodes: Node[]) => Node[];

const require = createRequire(import.meta.url);
const choicePaths = require('fhirpath/fhir-context/r4/choiceTypePaths.json') as Record<string, string[]>;
/** Last segments of choice elements (`value`, `effective`, `onset`, …): only these resolve `name` → `nameXxx`. */
const CHOICE_NAMES = new Set(Object.keys(choicePaths).map((p) => p.slice(p.lastIndexOf('.') + 1)));

const QUANTITY_KINDS = new Set(['quantity', 'age', 'duration', 'distance', 'count', 'simplequantity', 'moneyquantity']);

/** FHIR primitive specialisations: `as uri` also takes a canonical, `as string` a code or markdown, … */
const PRIMITIVE_KINDS: Record<string, Set<string>> = {
  uri: new Set(['url', 'canonical', 'oid', 'uuid']),
  string: new Set(['code', 'id', 'markdown']),
  integer: new Set(['positiveint', 'unsignedint']),
};

function typeMatches(actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return true; // not a choice: the definition already constrains the type
  const a = actual.toLowerCase();
  // Case-insensitive on purpose: R4 definitions write both `as(DateTime)` and `as dateTime`.
  const w = wanted.toLowerCase().replace(/^fhir\./, '');
  return a === w || (w === 'quantity' && QUANTITY_KINDS.has(a)) || (PRIMITIVE_KINDS[w]?.has(a) ?? false);
}

function pushAll(out: Node[], v: unknown, t?: string): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) for (const x of v) out.push({ v: x, t });
  else out.push({ v, t });
}

function child(name: string): Step {
  const choice = CHOICE_NAMES.has(name);
  return (nodes) => {
    const out: Node[] = [];
    for (const n of nodes) {
      if (typeof n.v !== 'object' || n.v === null) continue;
      const o = n.v as Record<string, unknown>;
      const direct = o[name];
      if (direct !== undefined) {
        pushAll(out, direct);
        continue;
      }
      if (!choice) continue;
      for (const k in o) {
        if (k.length > name.length && k.startsWith(name)) {
          const c = k.charCodeAt(name.length);
          if (c >= 65 && c <= 90) pushAll(out, o[k], k.slice(name.length));
        }
      }
    }
    return out;
  };
}

/** Resource type of a reference node (from `reference` or `type`). */
export function referenceTargetType(ref: unknown): string | undefined {
  if (typeof ref !== 'object' || ref === null) return undefined;
  const r = ref as { reference?: string; type?: string };
  if (typeof r.reference === 'string') {
    const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[^/]+(?:\/_history\/[^/]+)?$/.exec(r.reference);
    if (m) return m[1];
  }
  return r.type;
}

/** Split at top-level dots (not inside parentheses or quotes). */
function splitDots(expr: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (const ch of expr) {
    if (quote) {
      if (ch === "'") quote = false;
    } else if (ch === "'") quote = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '.' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return depth === 0 && !quote ? out.map((s) => s.trim()) : undefined;
}

function compileSegment(seg: string): Step | undefined {
  let m: RegExpExecArray | null;
  if (/^[a-z][A-Za-z0-9]*$/.test(seg)) return child(seg);
  if ((m = /^([a-z][A-Za-z0-9]*)\[(\d+)\]$/.exec(seg))) {
    const c = child(m[1]);
    const idx = +m[2];
    return (nodes) => nodes.flatMap((n) => c([n]).slice(idx, idx + 1));
  }
  if ((m = /^(?:as|ofType)\(\s*([A-Za-z.]+)\s*\)$/.exec(seg))) {
    const t = m[1];
    return (nodes) => nodes.filter((n) => typeMatches(n.t, t));
  }
  if ((m = /^where\(\s*resolve\(\)\s+is\s+([A-Z][A-Za-z]+)\s*\)$/.exec(seg))) {
    const t = m[1];
    return (nodes) => nodes.filter((n) => referenceTargetType(n.v) === t);
  }
  if ((m = /^extension\(\s*'([^']*)'\s*\)$/.exec(seg))) {
    const url = m[1];
    const ext = child('extension');
    return (nodes) => ext(nodes).filter((n) => (n.v as { url?: string }).url === url);
  }
  if ((m = /^where\(\s*([a-z][A-Za-z0-9]*)\s*=\s*'([^']*)'\s*\)$/.exec(seg))) {
    const [, field, lit] = m;
    return (nodes) => nodes.filter((n) => typeof n.v === 'object' && n.v !== null && (n.v as Record<string, unknown>)[field] === lit);
  }
  if (seg === 'first()') return (nodes) => nodes.slice(0, 1);
  return undefined;
}

/**
 * Compile one union part. `rootType` is the resource type the part starts with (absolute expressions) or
 * undefined for relative component expressions (`code`, `value.as(Quantity)`).
 */
export function compileFastPath(part: string, absolute: boolean): ((input: unknown) => Node[]) | undefined {
  let expr = part.trim();
  let asType: string | undefined;
  const tail: Step[] = [];
  // `(X.y as T)` optionally followed by `.z…`
  const paren = /^\(([^()]*)\s+as\s+([A-Za-z.]+)\s*\)((?:\.[^.]+)*)$/.exec(expr);
  if (paren) {
    expr = paren[1].trim();
    asType = paren[2];
    if (paren[3]) {
      const more = splitDots(paren[3].slice(1));
      if (!more) return undefined;
      for (const m of more) {
        const st = compileSegment(m);
        if (!st) return undefined;
        tail.push(st);
      }
    }
  } else if (expr.startsWith('(') && expr.endsWith(')') && !expr.slice(1, -1).includes('(')) {
    expr = expr.slice(1, -1);
  }
  // Operators (`and`, `!=`, `is` outside where(resolve() is X)) leave an unparseable segment → fallback.
  const segs = splitDots(expr);
  if (!segs || segs.length === 0) return undefined;
  const steps: Step[] = [];
  let start = 0;
  let root: string | undefined;
  if (absolute) {
    root = segs[0];
    if (!/^[A-Z][A-Za-z]+$/.test(root)) return undefined;
    start = 1;
  }
  for (let i = start; i < segs.length; i++) {
    const s = compileSegment(segs[i]);
    if (!s) return undefined;
    steps.push(s);
  }
  if (asType) {
    const t = asType;
    steps.push((nodes) => nodes.filter((n) => typeMatches(n.t, t)));
  }
  steps.push(...tail);
  const anyRoot = root === 'Resource' || root === 'DomainResource';
  // Cheap pre-check: most parameters of a type look at elements the resource does not have.
  const first = segs[start];
  const firstName = first && /^([a-z][A-Za-z0-9]*)(?:\[\d+\])?$|^(extension)\(/.exec(first)?.slice(1).find(Boolean);
  const firstIsChoice = firstName !== undefined && CHOICE_NAMES.has(firstName);
  return (input) => {
    if (root && !anyRoot && (input as { resourceType?: string }).resourceType !== root) return [];
    if (firstName && !firstIsChoice && (input as Record<string, unknown>)[firstName] === undefined) return [];
    let nodes: Node[] = [{ v: input }];
    for (const s of steps) {
      nodes = s(nodes);
      if (nodes.length === 0) break;
    }
    return nodes;
  };
}
