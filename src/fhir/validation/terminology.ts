/**
 * Offline ValueSet expansion for binding checks. Only what can be expanded from the loaded CodeSystems is
 * expanded: a compose that needs an external terminology (SNOMED CT, LOINC, UCUM, BCP-47…) or an unsupported
 * filter yields `undefined`, and callers then skip the check instead of failing valid data.
 */
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from 'fhir/r4';
import { readBundle } from './core-definitions.ts';

export interface Expansion {
  /** `system|code` pairs. */
  pairs: Set<string>;
  /** Bare codes (for `code`-typed elements, which carry no system). */
  codes: Set<string>;
}

const stripVersion = (url: string): string => {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
};

export class Terminology {
  /** Lookups fall back to the parent (the core terminology), so packages need not copy it. */
  constructor(private readonly parent?: Terminology) {}

  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly expansions = new Map<string, Expansion | null>();
  /** Loaded on first miss: the big v2/v3 bundles are only needed by a few bindings. */
  private fallbackLoaders: (() => void)[] = [];

  add(resource: { resourceType?: string }): void {
    if (resource.resourceType === 'ValueSet') {
      const vs = resource as ValueSet;
      if (vs.url && !this.valueSets.has(vs.url)) this.valueSets.set(vs.url, vs);
    } else if (resource.resourceType === 'CodeSystem') {
      const cs = resource as CodeSystem;
      if (cs.url && !cs.supplements && !this.codeSystems.has(cs.url)) this.codeSystems.set(cs.url, cs);
    }
    this.expansions.clear();
  }

  addFallback(load: () => void): void {
    this.fallbackLoaders.push(load);
  }

  hasValueSet(url: string): boolean {
    return this.valueSets.has(stripVersion(url)) || (this.parent?.hasValueSet(url) ?? false);
  }

  private valueSet(url: string): ValueSet | undefined {
    return this.valueSets.get(url) ?? this.parent?.valueSet(url);
  }

  private codeSystem(url: string): CodeSystem | undefined {
    return this.codeSystems.get(url) ?? this.parent?.codeSystem(url);
  }

  private runFallbacks(): boolean {
    const loaders = this.fallbackLoaders;
    this.fallbackLoaders = [];
    for (const l of loaders) l();
    return loaders.length > 0 || (this.parent?.runFallbacks() ?? false);
  }

  /** Expansion of a ValueSet, or undefined when it is unknown or cannot be expanded offline. */
  expand(url: string): Expansion | undefined {
    const key = stripVersion(url);
    const hit = this.expansions.get(key);
    if (hit !== undefined) return hit ?? undefined;
    this.expansions.set(key, null); // guards against include-cycles
    let result = this.tryExpand(key, new Set());
    if (!result && this.runFallbacks()) {
      this.expansions.set(key, null);
      result = this.tryExpand(key, new Set());
    }
    this.expansions.set(key, result ?? null);
    return result;
  }

  private tryExpand(url: string, seen: Set<string>): Expansion | undefined {
    if (seen.has(url)) return undefined;
    seen.add(url);
    const vs = this.valueSet(url);
    if (!vs) return undefined;
    const out: Expansion = { pairs: new Set(), codes: new Set() };
    if (vs.compose) {
      for (const inc of vs.compose.include) if (!this.include(inc, out, seen)) return this.fromExpansion(vs);
      for (const exc of vs.compose.exclude ?? []) {
        const removed: Expansion = { pairs: new Set(), codes: new Set() };
        if (!this.include(exc, removed, seen)) return this.fromExpansion(vs);
        for (const p of removed.pairs) out.pairs.delete(p);
      }
      out.codes = new Set([...out.pairs].map((p) => p.slice(p.lastIndexOf('|') + 1)));
      return out;
    }
    return this.fromExpansion(vs);
  }

  /** A ValueSet that ships its own (complete) expansion can be used when its compose cannot. */
  private fromExpansion(vs: ValueSet): Expansion | undefined {
    const contains = vs.expansion?.contains;
    if (!contains || vs.expansion?.total === undefined || vs.expansion.total !== contains.length) return undefined;
    const out: Expansion = { pairs: new Set(), codes: new Set() };
    const walk = (list: typeof contains): void => {
      for (const c of list) {
        if (c.code) {
          out.pairs.add(`${c.system}|${c.code}`);
          out.codes.add(c.code);
        }
        if (c.contains) walk(c.contains);
      }
    };
    walk(contains);
    return out;
  }

  private include(inc: ValueSetComposeInclude, out: Expansion, seen: Set<string>): boolean {
    // An include with several parts is their intersection; handled only for the common single-part shapes.
    let fromSystem: Set<string> | undefined;
    if (inc.system) {
      if (inc.concept) {
        fromSystem = new Set(inc.concept.map((c) => `${inc.system}|${c.code}`));
      } else {
        const cs = this.codeSystem(inc.system);
        if (!cs || !cs.concept || (cs.content !== 'complete' && cs.content !== undefined)) return false;
        const all = flatten(cs.concept);
        let selected = all.map((c) => c.code);
        for (const f of inc.filter ?? []) {
          const sel = applyFilter(cs.concept, f.property, f.op, f.value);
          if (!sel) return false;
          selected = selected.filter((c) => sel.has(c));
        }
        fromSystem = new Set(selected.map((c) => `${inc.system}|${c}`));
      }
    }
    let result = fromSystem;
    for (const vsUrl of inc.valueSet ?? []) {
      const sub = this.tryExpand(stripVersion(vsUrl), seen);
      if (!sub) return false;
      result = result ? new Set([...result].filter((p) => sub.pairs.has(p))) : new Set(sub.pairs);
    }
    if (!result) return false;
    for (const p of result) out.pairs.add(p);
    return true;
  }
}

function flatten(concepts: CodeSystemConcept[], acc: CodeSystemConcept[] = []): CodeSystemConcept[] {
  for (const c of concepts) {
    acc.push(c);
    if (c.concept) flatten(c.concept, acc);
  }
  return acc;
}

/** Hierarchy filters on CodeSystems that nest their concepts; anything else is not expandable offline. */
function applyFilter(concepts: CodeSystemConcept[], property: string, op: string, value: string): Set<string> | undefined {
  if (property !== 'concept' || (op !== 'is-a' && op !== 'descendent-of')) return undefined;
  const find = (list: CodeSystemConcept[]): CodeSystemConcept | undefined => {
    for (const c of list) {
      if (c.code === value) return c;
      const sub = c.concept && find(c.concept);
      if (sub) return sub;
    }
    return undefined;
  };
  const root = find(concepts);
  if (!root) return new Set();
  const codes = flatten(root.concept ?? []).map((c) => c.code);
  if (op === 'is-a') codes.push(root.code);
  return new Set(codes);
}

let core: Terminology | undefined;

/** Terminology with the R4 core ValueSets/CodeSystems; v2/v3 CodeSystems are added on the first miss. */
export function coreTerminology(): Terminology {
  if (core) return core;
  const t = new Terminology();
  for (const e of readBundle('valuesets.json').entry ?? []) if (e.resource) t.add(e.resource);
  t.addFallback(() => {
    for (const f of ['v3-codesystems.json', 'v2-tables.json']) for (const e of readBundle(f).entry ?? []) if (e.resource) t.add(e.resource);
  });
  core = t;
  return t;
}
