/**
 * Search request parsing: query parameters → a validated, typed SearchRequest.
 *
 * Everything a client can get wrong is detected here (unknown parameter, modifier not valid for the type,
 * malformed date or number, chain through a non-reference), so execution never sees an invalid request.
 * In strict mode (Prefer: handling=strict) errors are a 400 naming the parameter; in lenient mode the
 * parameter is dropped and reported in `ignored`, and the self link (built from `applied`) omits it.
 */
import { badRequest } from '../fhir/outcome.ts';
import { getSearchParam, knownResourceTypes, type ParamInfo, type SearchParamType } from './registry.ts';
import { dateRange, numberRange, normalizeString, type DateRange } from './normalize.ts';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

export type TokenValue = {
  kind: 'token';
  /** undefined = any system; null = explicitly no system (`|code`). */
  system: string | null | undefined;
  code: string | undefined;
  /** For :of-type (identifier type system|code|value). */
  typeSystem?: string;
  typeCode?: string;
  /** For :text. */
  text?: string;
};
export type StringValue = { kind: 'string'; value: string; normalized: string };
export type DateValue = { kind: 'date'; prefix: Prefix; range: DateRange; raw: string };
export type NumberValue = {
  kind: 'number';
  prefix: Prefix;
  value: number;
  low: number;
  high: number;
  /** Quantity only: undefined = any. */
  system?: string;
  code?: string;
};
export type ReferenceValue = {
  kind: 'reference';
  type?: string;
  id?: string;
  url?: string;
  version?: string;
  identifier?: TokenValue;
};
export type UriValue = { kind: 'uri'; value: string };
export type CompositeValue = { kind: 'composite'; parts: LeafValue[] };
export type LeafValue = TokenValue | StringValue | DateValue | NumberValue | ReferenceValue | UriValue | CompositeValue;

/** One AND term. */
export type Criterion =
  | {
      kind: 'param';
      /** The resource types the parameter is evaluated on (one for typed search; _type list for system search). */
      types: string[];
      param: ParamInfo;
      modifier?: string;
      /** `:missing` value */
      missing?: boolean;
      /** OR values */
      values: LeafValue[];
    }
  | {
      kind: 'chain';
      types: string[];
      /** Reference parameter followed. */
      param: ParamInfo;
      /** Target types to look in (from `:Type` or the parameter's targets that define the next parameter). */
      targetTypes: string[];
      next: Criterion;
    }
  | {
      kind: 'has';
      types: string[];
      /** Resource type that refers to us. */
      sourceType: string;
      /** Reference parameter on sourceType pointing at us. */
      refParam: ParamInfo;
      next: Criterion;
    };

export interface IncludeSpec {
  /** `*` means any type (`_include=*`). */
  sourceType: string;
  /** undefined = all reference params of sourceType (`*`). */
  param?: ParamInfo;
  targetType?: string;
  iterate: boolean;
}

export interface SortKey {
  /** Parameter code: a registry parameter, `_id` or `_lastUpdated`. */
  code: string;
  param?: ParamInfo;
  desc: boolean;
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchRequest {
  resourceType?: string;
  /** Types searched: [resourceType] or the `_type` list, or [] for all types in a system search. */
  types: string[];
  criteria: Criterion[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  sort: SortKey[];
  count?: number;
  total: 'none' | 'estimate' | 'accurate';
  summary?: SummaryMode;
  elements?: string[];
  /** MP9 is-latest-stop=true. */
  latestStop: boolean;
  /** Parameters applied, in canonical form, for the self link. */
  applied: [string, string][];
  /** Parameters ignored in lenient mode (unknown or invalid), for an informational OperationOutcome. */
  ignored: { name: string; value: string; reason: string }[];
}

/** Parameters with no effect on matching that the HTTP layer handles (or that we accept and ignore). */
const PASSTHROUGH = new Set(['_format', '_pretty', '_contained', '_containedType']);
const UNSUPPORTED = new Set(['_content', '_text', '_filter', '_query', '_list']);

/** Modifiers valid per parameter type (besides :missing, valid for all). */
const MODIFIERS: Record<SearchParamType, Set<string>> = {
  string: new Set(['exact', 'contains']),
  token: new Set(['text', 'not', 'of-type']),
  reference: new Set(['identifier']),
  date: new Set(),
  number: new Set(),
  quantity: new Set(),
  uri: new Set(['below', 'above']),
  composite: new Set(),
  special: new Set(),
};

class ParamError extends Error {}

/** Split on unescaped `sep` (commas for OR, `|` for token parts, `$` for composite parts). */
export function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[++i];
      continue;
    }
    if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function unescape(s: string): string {
  return s.replace(/\\([\\,$|])/g, '$1');
}

function splitFirst(s: string, sep: string): [string, string] | [string] {
  const parts = splitEscaped(s, sep);
  if (parts.length === 1) return [parts[0]];
  return [parts[0], parts.slice(1).join(sep)];
}

function parsePrefix(raw: string, allow: boolean): [Prefix, string] {
  const m = /^([a-z]{2})(.*)$/.exec(raw);
  if (allow && m && PREFIXES.has(m[1] as Prefix)) return [m[1] as Prefix, m[2]];
  return ['eq', raw];
}

function parseToken(raw: string, modifier: string | undefined): TokenValue {
  if (modifier === 'text') return { kind: 'token', system: undefined, code: undefined, text: normalizeString(unescape(raw)) };
  if (modifier === 'of-type') {
    const p = splitEscaped(raw, '|').map(unescape);
    if (p.length !== 3 || !p[2]) throw new ParamError(`:of-type needs system|code|value, got '${raw}'`);
    return { kind: 'token', system: undefined, code: p[2], typeSystem: p[0] || undefined, typeCode: p[1] || undefined };
  }
  const p = splitFirst(raw, '|');
  if (p.length === 1) {
    if (!p[0]) throw new ParamError('empty token');
    return { kind: 'token', system: undefined, code: unescape(p[0]) };
  }
  const [sys, code] = p;
  if (!sys && !code) throw new ParamError("token '|' without system or code");
  return { kind: 'token', system: sys ? unescape(sys) : null, code: code ? unescape(code) : undefined };
}

function parseDate(raw: string): DateValue {
  const [prefix, rest] = parsePrefix(raw, true);
  const range = dateRange(rest);
  if (!range) throw new ParamError(`invalid date '${raw}'`);
  return { kind: 'date', prefix, range, raw: rest };
}

function parseNumber(raw: string, quantity: boolean): NumberValue {
  const [prefix, rest] = parsePrefix(raw, true);
  const parts = quantity ? splitEscaped(rest, '|').map(unescape) : [rest];
  if (parts.length !== 1 && parts.length !== 3) throw new ParamError(`invalid quantity '${raw}' (number|system|code)`);
  const n = numberRange(parts[0]);
  if (!n) throw new ParamError(`invalid number '${raw}'`);
  return { kind: 'number', prefix, ...n, system: parts[1] || undefined, code: parts[2] || undefined };
}

function parseReference(raw: string, modifier: string | undefined, baseUrl?: string): ReferenceValue {
  let v = unescape(raw);
  // An absolute URL on this server's own base is a local reference (stored references are relative).
  if (baseUrl && v.startsWith(baseUrl.replace(/\/$/, '') + '/')) v = v.slice(baseUrl.replace(/\/$/, '').length + 1);
  if (modifier === 'identifier') return { kind: 'reference', identifier: parseToken(raw, undefined) };
  if (!v) throw new ParamError('empty reference');
  const typed = modifier && /^[A-Z]/.test(modifier) ? modifier : undefined;
  if (/^[a-z][a-z0-9+.-]*:/.test(v)) {
    // absolute URL or canonical (url|version)
    const [url, version] = splitFirst(raw, '|');
    return { kind: 'reference', url: unescape(url), version: version === undefined ? undefined : unescape(version) };
  }
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/.exec(v);
  if (m) {
    if (typed && typed !== m[1]) throw new ParamError(`reference type ${m[1]} conflicts with modifier :${typed}`);
    return { kind: 'reference', type: m[1], id: m[2] };
  }
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(v)) throw new ParamError(`invalid reference '${raw}'`);
  return { kind: 'reference', type: typed, id: v };
}

function parseLeaf(param: ParamInfo, type: SearchParamType, raw: string, modifier: string | undefined, baseUrl?: string): LeafValue {
  switch (type) {
    case 'token':
      return parseToken(raw, modifier);
    case 'string': {
      const value = unescape(raw);
      if (!value) throw new ParamError('empty string value');
      return { kind: 'string', value, normalized: normalizeString(value) };
    }
    case 'date':
      return parseDate(raw);
    case 'number':
      return parseNumber(raw, false);
    case 'quantity':
      return parseNumber(raw, true);
    case 'reference':
      return parseReference(raw, modifier, baseUrl);
    case 'uri': {
      const value = unescape(raw);
      if (!value) throw new ParamError('empty uri');
      return { kind: 'uri', value };
    }
    case 'composite': {
      const comps = param.components ?? [];
      const parts = splitEscaped(raw, '$');
      if (parts.length !== comps.length) throw new ParamError(`composite needs ${comps.length} parts separated by '$'`);
      return { kind: 'composite', parts: parts.map((p, i) => parseLeaf(comps[i].param, comps[i].param.type, p, undefined)) };
    }
    case 'special':
      throw new ParamError(`special parameter ${param.code} not supported`);
  }
}

/** Type used for value parsing: MP9 period-of-use is a 'special' parameter that behaves as a date. */
export function effectiveType(param: ParamInfo): SearchParamType {
  if (param.special === 'period-of-use') return 'date';
  return param.type;
}

function lookup(types: string[], code: string): ParamInfo | undefined {
  if (types.length === 0) return getSearchParam(undefined, code);
  let found: ParamInfo | undefined;
  for (const t of types) {
    const p = getSearchParam(t, code);
    if (!p) return undefined; // a system search parameter must exist on every searched type
    found ??= p;
  }
  return found;
}

/** Parse one parameter name + value into a criterion (recursive for chains and _has). */
function parseCriterion(types: string[], name: string, value: string, baseUrl?: string): Criterion {
  if (name.startsWith('_has:')) {
    const parts = name.split(':');
    // _has:SourceType:refParam:rest…
    if (parts.length < 4) throw new ParamError(`invalid _has '${name}' (_has:Type:reference:param)`);
    const [, sourceType, refCode] = parts;
    const rest = parts.slice(3).join(':');
    if (!knownResourceTypes().includes(sourceType)) throw new ParamError(`unknown resource type '${sourceType}' in _has`);
    const refParam = getSearchParam(sourceType, refCode);
    if (!refParam || refParam.type !== 'reference') throw new ParamError(`'${refCode}' is not a reference parameter of ${sourceType}`);
    if (types.length > 0 && refParam.targets.length > 0 && !types.some((t) => refParam.targets.includes(t))) {
      throw new ParamError(`${sourceType}.${refCode} cannot refer to ${types.join(',')}`);
    }
    return { kind: 'has', types, sourceType, refParam, next: parseCriterion([sourceType], rest, value, baseUrl) };
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    const head = name.slice(0, dot);
    const rest = name.slice(dot + 1);
    const [code, typeMod] = head.split(':');
    const param = lookup(types, code);
    if (!param) throw new ParamError(`unknown search parameter '${code}'`);
    if (param.type !== 'reference') throw new ParamError(`cannot chain through '${code}': not a reference parameter`);
    let targetTypes: string[];
    if (typeMod) {
      if (!knownResourceTypes().includes(typeMod)) throw new ParamError(`unknown resource type '${typeMod}'`);
      if (param.targets.length > 0 && !param.targets.includes(typeMod)) throw new ParamError(`'${code}' cannot refer to ${typeMod}`);
      targetTypes = [typeMod];
    } else {
      const nextCode = rest.split(/[.:]/)[0];
      const candidates = param.targets.length > 0 ? param.targets : knownResourceTypes();
      targetTypes = nextCode.startsWith('_has') ? candidates : candidates.filter((t) => getSearchParam(t, nextCode));
      if (targetTypes.length === 0) throw new ParamError(`no target of '${code}' has parameter '${nextCode}'`);
      // Index rows are keyed by parameter code, so one parsed criterion serves every target type, provided
      // the parameter has the same type on each (keep the targets that agree with the first).
      const first = getSearchParam(targetTypes[0], nextCode)?.type;
      if (first) targetTypes = targetTypes.filter((t) => getSearchParam(t, nextCode)?.type === first);
    }
    const next = parseCriterion(targetTypes, rest, value, baseUrl);
    return { kind: 'chain', types, param, targetTypes, next };
  }
  const [code, modifier, ...extra] = name.split(':');
  if (extra.length > 0) throw new ParamError(`invalid parameter name '${name}'`);
  const param = lookup(types, code);
  if (!param) throw new ParamError(`unknown search parameter '${code}'${types.length === 1 ? ` for ${types[0]}` : ''}`);
  const type = effectiveType(param);
  if (type === 'special') throw new ParamError(`search parameter '${code}' is not supported`);
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw new ParamError(':missing must be true or false');
    return { kind: 'param', types, param, modifier, missing: value === 'true', values: [] };
  }
  if (modifier !== undefined) {
    const typeModifier = type === 'reference' && /^[A-Z]/.test(modifier);
    if (typeModifier) {
      if (!knownResourceTypes().includes(modifier)) throw new ParamError(`unknown resource type modifier ':${modifier}'`);
    } else if (!MODIFIERS[type].has(modifier)) {
      throw new ParamError(`modifier ':${modifier}' is not supported for ${type} parameter '${code}'`);
    }
  }
  const raws = splitEscaped(value, ',');
  if (raws.length === 0 || raws.every((r) => r === '')) throw new ParamError(`empty value for '${name}'`);
  const values = raws.filter((r) => r !== '').map((r) => parseLeaf(param, type, r, modifier, baseUrl));
  return { kind: 'param', types, param, modifier, values };
}

function parseInclude(value: string, iterate: boolean): IncludeSpec {
  if (value === '*') return { sourceType: '*', iterate };
  const [src, code, target, ...extra] = value.split(':');
  if (extra.length > 0 || !src || !code) throw new ParamError(`invalid include '${value}' (Type:param[:targetType])`);
  if (!knownResourceTypes().includes(src)) throw new ParamError(`unknown resource type '${src}'`);
  if (target !== undefined && !knownResourceTypes().includes(target)) throw new ParamError(`unknown resource type '${target}'`);
  // An _include whose source is not a searched type (and not :iterate) simply adds nothing; like HAPI we
  // accept it rather than fail the search.
  if (code === '*') return { sourceType: src, targetType: target, iterate };
  const param = getSearchParam(src, code);
  if (!param || param.type !== 'reference') throw new ParamError(`'${code}' is not a reference parameter of ${src}`);
  return { sourceType: src, param, targetType: target, iterate };
}

const SORTABLE = new Set<SearchParamType>(['string', 'date', 'token', 'number', 'quantity', 'uri', 'reference']);

export function parseSearchRequest(
  type: string | undefined,
  query: URLSearchParams | [string, string][],
  opts: {
    strict: boolean;
    /** This server's base URL for the tenant: absolute references to it are treated as local. */
    baseUrl?: string;
  },
): SearchRequest {
  const entries: [string, string][] = query instanceof URLSearchParams ? [...query.entries()] : query;
  const req: SearchRequest = {
    resourceType: type,
    types: type ? [type] : [],
    criteria: [],
    include: [],
    revinclude: [],
    sort: [],
    total: 'none',
    latestStop: false,
    applied: [],
    ignored: [],
  };
  // _type first: it decides how the other parameters of a system search resolve.
  if (!type) {
    const tv = entries.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(','));
    for (const t of tv) {
      if (!t) continue;
      if (!knownResourceTypes().includes(t)) {
        if (opts.strict) throw badRequest(`Unknown resource type '${t}' in _type`, '_type');
        req.ignored.push({ name: '_type', value: t, reason: 'unknown resource type' });
        continue;
      }
      if (!req.types.includes(t)) req.types.push(t);
    }
    if (req.types.length > 0) req.applied.push(['_type', req.types.join(',')]);
  }
  for (const [name, value] of entries) {
    try {
      if (name === '_type' && !type) continue;
      if (name === '_type' && type) {
        // Harmless on a typed search when it names that type (some clients always send it).
        if (value.split(',').every((t) => t === type)) continue;
        throw new ParamError(`_type '${value}' conflicts with the searched type ${type}`);
      }
      if (PASSTHROUGH.has(name)) continue;
      if (UNSUPPORTED.has(name)) throw new ParamError(`parameter '${name}' is not supported`);
      if (name === '_count') {
        if (!/^\d+$/.test(value)) throw new ParamError('_count must be a non-negative integer');
        req.count = Number(value);
      } else if (name === '_total') {
        if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw new ParamError('_total must be none, estimate or accurate');
        req.total = value;
      } else if (name === '_summary') {
        if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw new ParamError('_summary must be true, text, data, count or false');
        req.summary = value as SummaryMode;
      } else if (name === '_elements') {
        req.elements = value.split(',').map((s) => s.trim()).filter(Boolean);
      } else if (name === '_sort') {
        const keys: SortKey[] = [];
        for (const k of value.split(',')) {
          if (!k) continue;
          const desc = k.startsWith('-');
          const code = desc ? k.slice(1) : k;
          if (code === '_id' || code === '_lastUpdated') {
            keys.push({ code, desc });
            continue;
          }
          const param = lookup(req.types, code);
          if (!param || !SORTABLE.has(effectiveType(param))) throw new ParamError(`cannot sort on '${code}'`);
          keys.push({ code, param, desc });
        }
        req.sort = keys;
      } else if (name === '_include' || name === '_include:iterate' || name === '_include:recurse') {
        req.include.push(parseInclude(value, name !== '_include'));
      } else if (name === '_revinclude' || name === '_revinclude:iterate' || name === '_revinclude:recurse') {
        req.revinclude.push(parseInclude(value, name !== '_revinclude'));
      } else if (name === 'is-latest-stop') {
        const p = lookup(req.types, name);
        if (!p) throw new ParamError(`unknown search parameter '${name}'`);
        if (value !== 'true' && value !== 'false') throw new ParamError('is-latest-stop must be true or false');
        req.latestStop = value === 'true';
      } else {
        req.criteria.push(parseCriterion(req.types, name, value, opts.baseUrl));
      }
      req.applied.push([name, value]);
    } catch (e) {
      if (!(e instanceof ParamError)) throw e;
      if (opts.strict) throw badRequest(`Invalid search parameter '${name}': ${e.message}`, name);
      req.ignored.push({ name, value, reason: e.message });
    }
  }
  if (req.summary === 'count') req.total = 'accurate';
  return req;
}

/** The self link query string: every applied parameter, in order, URL-encoded. */
export function selfLinkQuery(req: SearchRequest): string {
  return req.applied.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}
