/**
 * Index extraction (pure): resource → rows for the search index tables.
 *
 * Per resource type we compile, once, an extractor per SearchParameter: the fast-path evaluator when the
 * expression is a simple path, fhirpath.js otherwise. Values are then converted to rows by parameter type
 * (a `token` over a CodeableConcept yields one row per coding plus its text, etc.).
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import type { Resource } from 'fhir/r4';
import type { IndexTables, IndexTableName } from './index-tables.ts';
import { searchParamsFor, splitUnion, type ParamInfo, type SearchParamType } from './registry.ts';
import { compileFastPath, type Node } from './fastpath.ts';
import { dateRange, normalizeString, MIN_DATE, MAX_DATE, type DateRange } from './normalize.ts';

type Owner = 'tenant' | 'type' | 'id';
export type IndexRows = { [T in IndexTableName]: Omit<IndexTables[T], Owner>[] };
export type RowOf<T extends IndexTableName> = Omit<IndexTables[T], Owner | 'param'>;

type Evaluator = (input: unknown) => Node[];

/** Statistics for measurement: how many expressions run on the fast path vs fhirpath.js. */
export const extractionStats = { fast: 0, fallback: 0 };

/**
 * Many parameters of a type share union parts (`Observation.code` feeds code, combo-code and four
 * composites; `subject` feeds subject and patient). Parts are compiled once and, during one
 * extractIndexRows call, evaluated once per resource (memo keyed by the compiled part).
 */
const partCache = new Map<string, Evaluator>();
let memo: Map<Evaluator, Node[]> | undefined;

function sharedPart(part: string, absolute: boolean, fast: Evaluator): Evaluator {
  const key = `${absolute ? 'A' : 'R'}:${part}`;
  let ev = partCache.get(key);
  if (!ev) {
    const self: Evaluator = (input) => {
      // Relative (component) parts run on sub-elements: only absolute parts see the whole resource.
      if (!absolute || !memo) return fast(input);
      let r = memo.get(self);
      if (!r) memo.set(self, (r = fast(input)));
      return r;
    };
    partCache.set(key, (ev = self));
  }
  return ev;
}

function compileExpression(expression: string, absolute: boolean, fast = true): Evaluator {
  const parts = splitUnion(expression);
  const evals: Evaluator[] = [];
  const slow: string[] = [];
  for (const p of parts) {
    const f = fast ? compileFastPath(p, absolute) : undefined;
    if (f) {
      evals.push(sharedPart(p, absolute, f));
      extractionStats.fast++;
    } else slow.push(p);
  }
  if (slow.length > 0) {
    extractionStats.fallback++;
    const expr = slow.join(' | ');
    let fn: ((r: unknown) => unknown[]) | undefined;
    try {
      const compiled = fhirpath.compile(absolute ? expr : { base: '', expression: expr }, r4model);
      fn = (r) => compiled(r) as unknown[];
    } catch {
      fn = undefined; // expression the engine cannot parse: index nothing rather than fail every write
    }
    if (fn) {
      const f = fn;
      evals.push((input) => {
        try {
          return f(input).map((v) => ({ v }));
        } catch {
          return [];
        }
      });
    }
  }
  if (evals.length === 1) return evals[0];
  return (input) => evals.flatMap((e) => e(input));
}

// ---- value converters -------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const STRING_PARTS = ['text', 'family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state', 'postalCode', 'country'];

export function stringValues(n: Node): string[] {
  const v = n.v;
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  if (!isObj(v)) return [];
  // HumanName / Address: every part separately (so `name=jan` matches a given name as well as the family).
  const out: string[] = [];
  for (const k of STRING_PARTS) {
    const x = v[k];
    if (typeof x === 'string') out.push(x);
    else if (Array.isArray(x)) for (const y of x) if (typeof y === 'string') out.push(y);
  }
  if (out.length === 0 && typeof v.display === 'string') out.push(v.display);
  return out;
}

export function tokenValues(n: Node): RowOf<'idx_token'>[] {
  const v = n.v;
  const row = (system: unknown, code: unknown, text?: unknown): RowOf<'idx_token'> => ({
    system: str(system) ?? null,
    code: code === undefined || code === null ? null : String(code),
    text: typeof text === 'string' ? normalizeString(text) : null,
    type_system: null,
    type_code: null,
  });
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return [row(undefined, v)];
  if (!isObj(v)) return [];
  if (Array.isArray(v.coding) || (typeof v.text === 'string' && v.value === undefined)) {
    // CodeableConcept
    const out = ((v.coding as unknown[]) ?? []).filter(isObj).map((c) => row(c.system, c.code, c.display));
    if (typeof v.text === 'string') out.push(row(undefined, undefined, v.text));
    return out;
  }
  if (v.value !== undefined && typeof v.value !== 'number') {
    // Identifier (or ContactPoint: its `system` is phone/email…, harmless for code matching)
    const r = row(v.system, v.value, (v.type as Obj | undefined)?.text);
    const typeCodings = isObj(v.type) && Array.isArray(v.type.coding) ? (v.type.coding as unknown[]).filter(isObj) : [];
    if (typeCodings.length === 0) return [r];
    return typeCodings.map((c) => ({ ...r, type_system: str(c.system) ?? null, type_code: str(c.code) ?? null }));
  }
  if (v.code !== undefined || v.system !== undefined) {
    // Coding (or Quantity used as token: system|code of its unit)
    return [row(v.system, v.code, v.display)];
  }
  return [];
}

const REL_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

export function referenceValues(n: Node): RowOf<'idx_reference'>[] {
  const v = n.v;
  const empty: RowOf<'idx_reference'> = { target_type: null, target_id: null, url: null, version: null, ident_system: null, ident_value: null };
  if (typeof v === 'string') {
    // canonical / uri: url|version
    const bar = v.indexOf('|');
    return [{ ...empty, url: bar < 0 ? v : v.slice(0, bar), version: bar < 0 ? null : v.slice(bar + 1) }];
  }
  if (!isObj(v)) return [];
  const out: RowOf<'idx_reference'> = { ...empty };
  const ref = str(v.reference);
  if (ref) {
    const m = REL_REF.exec(ref);
    if (m) {
      out.target_type = m[1];
      out.target_id = m[2];
    } else if (!ref.startsWith('#')) {
      out.url = ref.replace(/\/_history\/[^/]+$/, '');
      const abs = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(out.url);
      // Keep the type of absolute references so `:[type]` and type-restricted chains can use it.
      if (abs) out.target_type = abs[1];
    } else return [];
  }
  if (isObj(v.identifier)) {
    out.ident_system = str(v.identifier.system) ?? null;
    out.ident_value = str(v.identifier.value) ?? null;
  }
  if (!out.target_type && str(v.type)) out.target_type = str(v.type)!;
  if (!ref && !out.ident_value) return [];
  return [out];
}

export function dateValues(n: Node): DateRange[] {
  const v = n.v;
  if (typeof v === 'string') {
    const r = dateRange(v);
    return r ? [r] : [];
  }
  if (!isObj(v)) return [];
  if (v.start !== undefined || v.end !== undefined) {
    const s = typeof v.start === 'string' ? dateRange(v.start) : undefined;
    const e = typeof v.end === 'string' ? dateRange(v.end) : undefined;
    if (!s && !e) return [];
    return [{ low: s?.low ?? MIN_DATE, high: e?.high ?? MAX_DATE }];
  }
  // Timing: every event, and the repeat bounds as a period.
  const out: DateRange[] = [];
  if (Array.isArray(v.event)) for (const e of v.event) if (typeof e === 'string') out.push(...dateValues({ v: e }));
  if (isObj(v.repeat) && isObj(v.repeat.boundsPeriod)) out.push(...dateValues({ v: v.repeat.boundsPeriod }));
  return out;
}

/** UCUM codes we can convert to a base unit without a UCUM library: metric prefix × base unit. */
const PREFIX: Record<string, number> = { '': 1, k: 1e3, h: 1e2, da: 10, d: 1e-1, c: 1e-2, m: 1e-3, u: 1e-6, n: 1e-9, p: 1e-12 };
const BASES = ['g', 'L', 'l', 'm', 'mol', 's', 'eq', 'U'];
const TIME: Record<string, number> = { min: 60, h: 3600, d: 86400, wk: 604800, mo: 2629800, a: 31557600 };

export function canonicalUnit(code: string | undefined): { factor: number; code: string } | undefined {
  if (!code) return undefined;
  if (TIME[code]) return { factor: TIME[code], code: 's' };
  for (const b of BASES) {
    if (!code.endsWith(b)) continue;
    const p = code.slice(0, code.length - b.length);
    if (p in PREFIX) return { factor: PREFIX[p], code: b === 'l' ? 'L' : b };
  }
  return undefined;
}

const UCUM = 'http://unitsofmeasure.org';
const OPEN = 1e308;

export function numberValues(n: Node): RowOf<'idx_number'>[] {
  const v = n.v;
  const empty = { system: null, code: null, unit: null, canon_low: null, canon_high: null, canon_code: null };
  if (typeof v === 'number') return [{ ...empty, low: v, high: v }];
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return [{ ...empty, low: Number(v), high: Number(v) }];
  if (!isObj(v)) return [];
  if (typeof v.value === 'number') {
    const system = str(v.system) ?? null;
    const code = str(v.code) ?? (str(v.currency) ?? null);
    const canon = system === UCUM || system === null ? canonicalUnit(code ?? undefined) : undefined;
    return [
      {
        low: v.value,
        high: v.value,
        system,
        code,
        unit: str(v.unit) ?? null,
        canon_low: canon ? v.value * canon.factor : null,
        canon_high: canon ? v.value * canon.factor : null,
        canon_code: canon?.code ?? null,
      },
    ];
  }
  if (isObj(v.low) || isObj(v.high)) {
    // Range
    const lo = isObj(v.low) ? numberValues({ v: v.low })[0] : undefined;
    const hi = isObj(v.high) ? numberValues({ v: v.high })[0] : undefined;
    const any = lo ?? hi;
    if (!any) return [];
    return [
      {
        ...any,
        // Open ends as ±1e308 rather than NULL keep the range predicates plain column comparisons (indexable).
        low: lo?.low ?? -OPEN,
        high: hi?.high ?? OPEN,
        canon_low: any.canon_code ? (lo?.canon_low ?? -OPEN) : null,
        canon_high: any.canon_code ? (hi?.canon_high ?? OPEN) : null,
      },
    ];
  }
  return [];
}

export function uriValues(n: Node): string[] {
  return typeof n.v === 'string' ? [n.v] : [];
}

// ---- composite --------------------------------------------------------------------------------------------

type CompCols = { sys: string | null; val: string | null; lo: string | null; hi: string | null; nlo: number | null; nhi: number | null };
const NO_COMP: CompCols = { sys: null, val: null, lo: null, hi: null, nlo: null, nhi: null };

function componentValues(type: SearchParamType, n: Node): CompCols[] {
  switch (type) {
    case 'token':
      return tokenValues(n)
        .filter((t) => t.code !== null)
        .map((t) => ({ ...NO_COMP, sys: t.system, val: t.code }));
    case 'string':
      return stringValues(n).map((s) => ({ ...NO_COMP, val: normalizeString(s) }));
    case 'reference':
      return referenceValues(n).map((r) => ({ ...NO_COMP, sys: r.target_type, val: r.target_id ?? r.url }));
    case 'date':
      return dateValues(n).map((d) => ({ ...NO_COMP, lo: d.low, hi: d.high }));
    case 'number':
    case 'quantity':
      return numberValues(n).map((q) => ({ ...NO_COMP, sys: q.system, val: q.code, nlo: q.low, nhi: q.high }));
    case 'uri':
      return uriValues(n).map((u) => ({ ...NO_COMP, val: u }));
    default:
      return [];
  }
}

// ---- per-type extractor -----------------------------------------------------------------------------------

interface ParamExtractor {
  param: ParamInfo;
  run: (resource: Resource, rows: IndexRows) => void;
}

const DURATION_URL = 'http://nictiz.nl/fhir/StructureDefinition/ext-TimeInterval.Duration';
const PERIOD_URL = 'http://nictiz.nl/fhir/StructureDefinition/ext-TimeInterval.Period';

/**
 * MP9 period-of-use: the TimeInterval.Period extension (MedicationRequest/MedicationDispense) or
 * MedicationStatement.effectivePeriod, with a missing start or end derived from the TimeInterval.Duration
 * extension (start + duration, or end − duration).
 */
export function periodOfUse(resource: Resource): DateRange[] {
  const r = resource as unknown as Obj;
  const periods: Obj[] = [];
  if (resource.resourceType === 'MedicationStatement') {
    if (isObj(r.effectivePeriod)) periods.push(r.effectivePeriod);
    else if (typeof r.effectiveDateTime === 'string') periods.push({ start: r.effectiveDateTime, end: r.effectiveDateTime });
  }
  for (const e of [...((r.extension as Obj[]) ?? []), ...((r.modifierExtension as Obj[]) ?? [])]) {
    if (e.url === PERIOD_URL && isObj(e.valuePeriod)) periods.push(e.valuePeriod);
  }
  const out: DateRange[] = [];
  for (const p of periods) {
    const exts = [...((p.extension as Obj[]) ?? []), ...((p.modifierExtension as Obj[]) ?? [])];
    const dur = exts.find((e) => e.url === DURATION_URL)?.valueDuration as Obj | undefined;
    const seconds = dur && typeof dur.value === 'number' ? durationSeconds(dur.value, str(dur.code) ?? str(dur.unit)) : undefined;
    const s = typeof p.start === 'string' ? dateRange(p.start) : undefined;
    const e = typeof p.end === 'string' ? dateRange(p.end) : undefined;
    let low = s?.low;
    let high = e?.high;
    if (seconds !== undefined && s && !e) high = new Date(Date.parse(s.low) + seconds * 1000 - 1).toISOString();
    if (seconds !== undefined && e && !s) low = new Date(Date.parse(e.high) - seconds * 1000 + 1).toISOString();
    if (!low && !high) continue;
    out.push({ low: low ?? MIN_DATE, high: high ?? MAX_DATE });
  }
  return out;
}

function durationSeconds(value: number, unit: string | undefined): number | undefined {
  const u = unit?.toLowerCase();
  const table: Record<string, number> = {
    s: 1, min: 60, h: 3600, d: 86400, dag: 86400, day: 86400, wk: 604800, week: 604800, mo: 2629800, a: 31557600,
  };
  const f = u ? table[u] : undefined;
  return f === undefined ? undefined : value * f;
}

/**
 * Append a parameter's rows without duplicates: FHIRPath's `|` is a set union (AllergyIntolerance.code |
 * reaction.substance often names the same code twice), and duplicate rows only cost space and writes.
 */
function pushUnique<R extends object>(out: ({ param: string } & R)[], param: string, rows: R[]): void {
  if (rows.length === 1) {
    out.push({ param, ...rows[0] });
    return;
  }
  const seen = new Set<string>();
  for (const r of rows) {
    const k = Object.values(r).join('\u0000');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ param, ...r });
  }
}

function makeExtractor(param: ParamInfo, fast = true): ParamExtractor | undefined {
  const code = param.code;
  if (param.special === 'period-of-use') {
    return { param, run: (res, rows) => { for (const d of periodOfUse(res)) rows.idx_date.push({ param: code, ...d }); } };
  }
  if (param.special === 'id' || !param.expression || param.type === 'special') return undefined;
  const ev = compileExpression(param.expression, true, fast);
  switch (param.type) {
    case 'string':
      return {
        param,
        run: (res, rows) => {
          const seen = new Set<string>();
          for (const n of ev(res))
            for (const s of stringValues(n)) {
              if (seen.has(s)) continue;
              seen.add(s);
              rows.idx_string.push({ param: code, value: normalizeString(s), exact: s });
            }
        },
      };
    case 'token':
      return { param, run: (res, rows) => pushUnique(rows.idx_token, code, ev(res).flatMap(tokenValues)) };
    case 'reference':
      return { param, run: (res, rows) => pushUnique(rows.idx_reference, code, ev(res).flatMap(referenceValues)) };
    case 'date':
      return { param, run: (res, rows) => pushUnique(rows.idx_date, code, ev(res).flatMap(dateValues)) };
    case 'number':
    case 'quantity':
      return { param, run: (res, rows) => pushUnique(rows.idx_number, code, ev(res).flatMap(numberValues)) };
    case 'uri':
      return { param, run: (res, rows) => pushUnique(rows.idx_uri, code, ev(res).flatMap(uriValues).map((value) => ({ value }))) };
    case 'composite': {
      const comps = (param.components ?? []).slice(0, 3).map((c) => ({ type: c.param.type, ev: compileExpression(c.expression, false, fast) }));
      if (comps.length < 2) return undefined;
      return {
        param,
        run: (res, rows) => {
          for (const base of ev(res)) {
            let combos: CompCols[][] = [[]];
            for (const c of comps) {
              const vals = c.ev(base.v).flatMap((n) => componentValues(c.type, n));
              combos = combos.flatMap((prefix) => vals.map((v) => [...prefix, v]));
              if (combos.length === 0) break;
            }
            for (const combo of combos) {
              const row: Record<string, unknown> = { param: code };
              combo.forEach((cv, i) => {
                for (const [k, val] of Object.entries(cv)) row[`c${i + 1}_${k}`] = val;
              });
              rows.idx_composite.push(row as unknown as IndexRows['idx_composite'][number]);
            }
          }
        },
      };
    }
    default:
      return undefined;
  }
}

const extractorsByType = new Map<string, ParamExtractor[]>();

function extractorsFor(type: string): ParamExtractor[] {
  let ex = extractorsByType.get(type);
  if (!ex) {
    ex = searchParamsFor(type)
      .map((p) => makeExtractor(p))
      .filter((e): e is ParamExtractor => e !== undefined);
    extractorsByType.set(type, ex);
  }
  return ex;
}

export function emptyRows(): IndexRows {
  return { idx_string: [], idx_token: [], idx_reference: [], idx_date: [], idx_number: [], idx_uri: [], idx_composite: [] };
}

/** All index rows of one resource (without the tenant/type/id owner columns). */
export function extractIndexRows(resource: Resource): IndexRows {
  const rows = emptyRows();
  memo = new Map();
  try {
    for (const e of extractorsFor(resource.resourceType)) e.run(resource, rows);
  } finally {
    memo = undefined;
  }
  return rows;
}

/**
 * Reference implementation for tests: the same parameter evaluated by fhirpath.js only (no fast path), so
 * the fast path can be checked against HL7's engine on real resources.
 */
export function extractParamWithFhirpath(resource: Resource, code: string): IndexRows {
  const rows = emptyRows();
  const p = searchParamsFor(resource.resourceType).find((x) => x.code === code);
  const e = p && makeExtractor(p, false);
  e?.run(resource, rows);
  return rows;
}

/** Evaluate one parameter on a resource (used by tests and by in-memory checks such as _include iterate). */
export function extractParam(resource: Resource, code: string): IndexRows {
  const rows = emptyRows();
  for (const e of extractorsFor(resource.resourceType)) if (e.param.code === code) e.run(resource, rows);
  return rows;
}
