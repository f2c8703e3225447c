/**
 * Validation of an instance against a profile snapshot. The snapshot is compiled once per profile into a tree
 * of element nodes grouped by child name, each group holding the unsliced element and its slices; the
 * instance is then walked alongside it. Core structure (unknown elements, primitives, core cardinality) is
 * the core validator's job; this layer checks what profiles add: narrowed cardinality, type choices and type
 * profiles, fixed/pattern values, required bindings from the package terminology, slicing and invariants.
 */
import type { ElementDefinition, ElementDefinitionSlicingDiscriminator, StructureDefinition } from 'fhir/r4';
import type { Issue, IssueCode, IssueSeverity } from '../outcome.ts';
import { evaluateInvariant } from './invariants.ts';
import { profileTerminology } from './profile-terminology.ts';
import { coreDefinitions } from './core-definitions.ts';
import { getSnapshot } from './profiles.ts';
import { isPrimitiveType } from './primitives.ts';
import type { Expansion } from './terminology.ts';

interface PNode {
  ed: ElementDefinition;
  id: string;
  groups: PGroup[];
}

interface PGroup {
  /** Element name, `[x]` included for choices. */
  name: string;
  base: PNode;
  slices: PNode[];
}

interface Compiled {
  url: string;
  sd: StructureDefinition;
  root: PNode;
}

interface Item {
  value: unknown;
  /** The `_name` object of a primitive (its id and extensions). */
  ext?: unknown;
  path: string;
  /** FHIR type code of the value, when known. */
  type?: string;
}

const compiled = new Map<string, Compiled | null>();

export function compileProfile(url: string): Compiled | undefined {
  const hit = compiled.get(url);
  if (hit !== undefined) return hit ?? undefined;
  const sd = getSnapshot(url);
  const c = sd ? compileSnapshot(sd) : undefined;
  compiled.set(url, c ?? null);
  return c;
}

/** Builds the node tree: each element hangs under its parent id, slices under their unsliced element's group. */
function compileSnapshot(sd: StructureDefinition): Compiled | undefined {
  const elements = sd.snapshot?.element;
  if (!elements?.length) return undefined;
  const nodes = new Map<string, PNode>();
  const root: PNode = { ed: elements[0], id: elements[0].id ?? elements[0].path, groups: [] };
  nodes.set(root.id, root);
  for (const ed of elements.slice(1)) {
    const id = ed.id ?? ed.path;
    const dot = id.lastIndexOf('.');
    const parent = nodes.get(id.slice(0, dot));
    if (!parent) continue;
    const node: PNode = { ed, id, groups: [] };
    nodes.set(id, node);
    const last = id.slice(dot + 1);
    const colon = last.indexOf(':');
    if (colon < 0) {
      parent.groups.push({ name: last, base: node, slices: [] });
    } else {
      const name = last.slice(0, colon);
      parent.groups.find((g) => g.name === name)?.slices.push(node);
    }
  }
  return { url: sd.url, sd, root };
}

export interface ProfileValidationOptions {
  /** Add `information` issues for checks that had to be skipped (invariants that do not evaluate, …). */
  debug?: boolean;
}

class Ctx {
  readonly issues: Issue[] = [];
  constructor(
    readonly root: unknown,
    readonly profile: string,
    readonly opts: ProfileValidationOptions,
    readonly depth = 0,
    /** The node the walk started at: its own type invariants are on its element already. */
    public rootNode?: PNode,
  ) {}
  add(severity: IssueSeverity, code: IssueCode, diagnostics: string, expression: string): void {
    if (severity === 'information' && !this.opts.debug) return;
    this.issues.push({ severity, code, diagnostics, expression: [expression] });
  }
  child(root: unknown, profile: string): Ctx {
    return new Ctx(root, profile, this.opts, this.depth + 1);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_DEPTH = 12;

/** Validates a resource against one profile; an unknown profile yields a single warning. */
export function validateAgainstProfile(resource: unknown, profileUrl: string, opts: ProfileValidationOptions = {}): Issue[] {
  const c = compileProfile(profileUrl.split('|')[0]);
  if (!c) return [{ severity: 'warning', code: 'not-supported', diagnostics: `Unknown profile ${profileUrl}: not validated against it`, expression: [rootName(resource)] }];
  return run(resource, c, profileUrl, opts);
}

/**
 * Validates against a StructureDefinition given as data (it must have a snapshot), e.g. an older release's
 * snapshot; profiles it refers to are taken from the registry.
 */
export function validateAgainstStructureDefinition(resource: unknown, sd: StructureDefinition, opts: ProfileValidationOptions = {}): Issue[] {
  const c = compileSnapshot(sd);
  if (!c) return [{ severity: 'warning', code: 'not-supported', diagnostics: `${sd.url} has no snapshot: not validated against it`, expression: [rootName(resource)] }];
  return run(resource, c, sd.url, opts);
}

const rootName = (r: unknown): string => (isObject(r) && typeof r.resourceType === 'string' ? r.resourceType : 'Resource');

function run(resource: unknown, c: Compiled, profileUrl: string, opts: ProfileValidationOptions): Issue[] {
  const rt = rootName(resource);
  const ctx = new Ctx(resource, profileUrl, opts);
  if (c.sd.kind === 'resource' && rt !== c.sd.type) {
    ctx.add('error', 'structure', `Profile ${profileUrl} is for ${c.sd.type}, not ${rt}`, rt);
    return ctx.issues;
  }
  ctx.rootNode = c.root;
  validateNode(c.root, { value: resource, path: rt, type: rt }, ctx);
  return ctx.issues;
}

function validateNode(node: PNode, item: Item, ctx: Ctx): void {
  const ed = node.ed;
  checkFixedAndPattern(ed, item, ctx);
  checkBinding(ed, item, ctx);
  checkConstraints(ed, item, ctx);
  checkReferenceTarget(ed, item, ctx);
  if (node.groups.length === 0) {
    checkTypeProfiles(ed, item, ctx);
    return;
  }
  if (node !== ctx.rootNode) checkTypeInvariants(item, ctx);
  const obj = isObject(item.value) ? item.value : isObject(item.ext) ? item.ext : {};
  for (const g of node.groups) validateGroup(g, obj, item.path, ctx);
}

function itemsOf(obj: Record<string, unknown>, group: PGroup, path: string): Item[] {
  const items: Item[] = [];
  const push = (key: string, label: string, type: string | undefined): void => {
    const v = obj[key];
    const e = obj[`_${key}`];
    if (v === undefined && e === undefined) return;
    if (Array.isArray(v) || Array.isArray(e)) {
      const n = Math.max(Array.isArray(v) ? v.length : 0, Array.isArray(e) ? e.length : 0);
      for (let i = 0; i < n; i++) {
        const value = Array.isArray(v) ? v[i] : undefined;
        items.push({ value, ext: Array.isArray(e) ? e[i] : undefined, path: `${path}.${label}[${i}]`, type: type ?? resourceTypeOf(value) });
      }
    } else {
      items.push({ value: v, ext: e, path: `${path}.${label}`, type: type ?? resourceTypeOf(v) });
    }
  };
  if (group.name.endsWith('[x]')) {
    const stem = group.name.slice(0, -3);
    const seen = new Set<string>();
    for (const key of Object.keys(obj)) {
      const k = key.startsWith('_') ? key.slice(1) : key;
      if (!k.startsWith(stem) || k.length === stem.length || seen.has(k)) continue;
      const suffix = k.slice(stem.length);
      if (suffix[0] !== suffix[0].toUpperCase()) continue;
      seen.add(k);
      const lower = suffix[0].toLowerCase() + suffix.slice(1);
      const type = isPrimitiveType(lower) ? lower : suffix;
      push(k, `${stem}.ofType(${type})`, type);
    }
  } else {
    const t = group.base.ed.type?.[0]?.code;
    push(group.name, group.name, t === 'Resource' ? undefined : t);
  }
  return items;
}

const resourceTypeOf = (v: unknown): string | undefined => (isObject(v) && typeof v.resourceType === 'string' ? v.resourceType : undefined);

function validateGroup(group: PGroup, obj: Record<string, unknown>, path: string, ctx: Ctx): void {
  const items = itemsOf(obj, group, path);
  const base = group.base.ed;
  const label = `${path}.${group.name.replace('[x]', '')}`;
  checkCardinality(base, items.length, label, undefined, ctx, false);
  if (group.name.endsWith('[x]') && base.type?.length) {
    const allowed = new Set(base.type.map((t) => t.code));
    for (const it of items) {
      if (it.type && !allowed.has(it.type))
        ctx.add('error', 'structure', `Type ${it.type} is not allowed here by the profile (allowed: ${[...allowed].join(', ')})`, it.path);
    }
  }
  if (group.slices.length === 0) {
    for (const it of items) validateNode(group.base, it, ctx);
    return;
  }
  const discriminators = base.slicing?.discriminator ?? [];
  const counts = new Map<PNode, number>();
  for (const it of items) {
    let slice = discriminators.length ? group.slices.find((s) => discriminators.every((d) => matches(s, d, it, ctx))) : undefined;
    if (!slice && discriminators.some((d) => d.type === 'profile')) {
      // The item is meant for a slice (type/value match) but fails its profile: validating it against that
      // slice reports why, at the offending element, instead of only a slice-count error.
      const rest = discriminators.filter((d) => d.type !== 'profile');
      if (rest.length) slice = group.slices.find((s) => rest.every((d) => matches(s, d, it, ctx)));
    }
    if (slice) {
      counts.set(slice, (counts.get(slice) ?? 0) + 1);
      validateNode(slice, it, ctx);
    } else {
      if (base.slicing?.rules === 'closed')
        ctx.add('error', 'structure', `Element matches none of the slices of ${group.base.id}, and the slicing is closed`, it.path);
      validateNode(group.base, it, ctx);
    }
  }
  for (const s of group.slices) checkCardinality(s.ed, counts.get(s) ?? 0, label, s.ed.sliceName, ctx, true);
}

function checkCardinality(ed: ElementDefinition, count: number, path: string, slice: string | undefined, ctx: Ctx, always: boolean): void {
  const min = ed.min ?? 0;
  const max = ed.max ?? '*';
  const baseMin = ed.base?.min ?? 0;
  const baseMax = ed.base?.max ?? '*';
  const what = slice ? `slice '${slice}' of ${path}` : path;
  if (count < min && (always || min > baseMin))
    ctx.add('error', 'required', `${what}: minimum required = ${min}, but found ${count} (profile ${ctx.profile})`, path);
  if (max !== '*' && count > Number(max) && (always || baseMax === '*' || Number(max) < Number(baseMax)))
    ctx.add('error', 'structure', `${what}: maximum allowed = ${max}, but found ${count} (profile ${ctx.profile})`, path);
}

// --- slicing ------------------------------------------------------------------------------------------

interface Valued {
  v: unknown;
  type?: string;
}

function matches(slice: PNode, d: ElementDefinitionSlicingDiscriminator, item: Item, ctx: Ctx): boolean {
  const values = instanceValues(item, d.path);
  if (!values) return false;
  const target = nodeAt(slice, d.path);
  if (!target) return false;
  const ed = target.ed;
  switch (d.type) {
    case 'value':
    case 'pattern': {
      const fixed = fixedOrPattern(ed);
      if (fixed) return values.some((x) => (fixed.exact ? deepEqual(x.v, fixed.value) : containsPattern(x.v, fixed.value)));
      const exp = requiredExpansion(ed);
      if (exp) return values.some((x) => codeInExpansion(x.v, exp));
      return false;
    }
    case 'type': {
      const types = new Set((ed.type ?? []).map((t) => t.code));
      return values.some((x) => x.type !== undefined && (types.has(x.type) || types.has('Resource')));
    }
    case 'profile': {
      const profiles = (ed.type ?? []).flatMap((t) => t.profile ?? []);
      return values.some((x) => profiles.some((p) => conformsTo(x.v, p, ctx)));
    }
    case 'exists': {
      if ((ed.min ?? 0) > 0) return values.length > 0;
      if (ed.max === '0') return values.length === 0;
      return true;
    }
    default:
      return false;
  }
}

/** The element a discriminator path points at, descending into type profiles (e.g. an extension's url). */
function nodeAt(start: PNode, path: string): PNode | undefined {
  if (path === '$this') return start;
  let node = start;
  for (const raw of path.split('.')) {
    const seg = raw.replace(/\.?ofType\([^)]*\)$/, '');
    if (seg === '$this') continue;
    let group = node.groups.find((g) => g.name === seg || g.name === `${seg}[x]`);
    if (!group && node.groups.length === 0) {
      const profile = node.ed.type?.length === 1 && node.ed.type[0].profile?.length === 1 ? node.ed.type[0].profile[0] : undefined;
      const sub = profile ? compileProfile(profile.split('|')[0]) : undefined;
      if (sub) group = sub.root.groups.find((g) => g.name === seg || g.name === `${seg}[x]`);
    }
    if (!group) return undefined;
    node = group.base;
  }
  return node;
}

/** Values at a simple discriminator path (`url`, `system`, `coding.code`, `resource`, `$this`); undefined if unsupported. */
function instanceValues(item: Item, path: string): Valued[] | undefined {
  let cur: Valued[] = [{ v: item.value, type: item.type }];
  if (path === '$this') return cur;
  for (const seg of path.split('.')) {
    if (seg === '$this') continue;
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(seg)) return undefined; // resolve(), extension('…'), ofType(): not supported
    const next: Valued[] = [];
    for (const { v } of cur) {
      if (!isObject(v)) continue;
      const direct = v[seg];
      if (direct !== undefined) {
        for (const x of Array.isArray(direct) ? direct : [direct]) next.push({ v: x, type: resourceTypeOf(x) });
        continue;
      }
      for (const key of Object.keys(v)) {
        if (key.length > seg.length && key.startsWith(seg) && key[seg.length] === key[seg.length].toUpperCase()) {
          const suffix = key.slice(seg.length);
          const lower = suffix[0].toLowerCase() + suffix.slice(1);
          next.push({ v: v[key], type: isPrimitiveType(lower) ? lower : suffix });
        }
      }
    }
    cur = next;
  }
  return cur;
}

const conformance = new WeakMap<object, Map<string, boolean>>();

/** Profile discriminator: meta.profile claims conformance cheaply; otherwise validate and look for errors. */
function conformsTo(v: unknown, profile: string, ctx: Ctx): boolean {
  if (!isObject(v)) return false;
  const meta = v.meta;
  if (isObject(meta) && Array.isArray(meta.profile) && meta.profile.includes(profile)) return true;
  let cache = conformance.get(v);
  const hit = cache?.get(profile);
  if (hit !== undefined) return hit;
  const c = compileProfile(profile.split('|')[0]);
  if (!c || ctx.depth > MAX_DEPTH) return false;
  const type = resourceTypeOf(v) ?? c.sd.type;
  if (c.sd.kind === 'resource' && type !== c.sd.type) return false;
  const sub = ctx.child(v, profile);
  sub.rootNode = c.root;
  validateNode(c.root, { value: v, path: type, type }, sub);
  const ok = !sub.issues.some((i) => i.severity === 'error');
  if (!cache) conformance.set(v, (cache = new Map()));
  cache.set(profile, ok);
  return ok;
}

// --- values -------------------------------------------------------------------------------------------

const fixedCache = new WeakMap<ElementDefinition, { value: unknown; exact: boolean } | null>();

/** The element's fixed[x] or pattern[x], memoised: it is asked for every instance value and discriminator. */
function fixedOrPattern(ed: ElementDefinition): { value: unknown; exact: boolean } | undefined {
  let hit = fixedCache.get(ed);
  if (hit === undefined) {
    hit = null;
    for (const [k, v] of Object.entries(ed)) {
      if (k.startsWith('fixed')) hit = { value: v, exact: true };
      else if (k.startsWith('pattern')) hit = { value: v, exact: false };
      if (hit) break;
    }
    fixedCache.set(ed, hit);
  }
  return hit ?? undefined;
}

function checkFixedAndPattern(ed: ElementDefinition, item: Item, ctx: Ctx): void {
  const fp = fixedOrPattern(ed);
  if (!fp || item.value === undefined) return;
  if (fp.exact ? !deepEqual(item.value, fp.value) : !containsPattern(item.value, fp.value))
    ctx.add('error', 'value', `Value ${short(item.value)} does not match the ${fp.exact ? 'fixed value' : 'pattern'} ${short(fp.value)} (profile ${ctx.profile})`, item.path);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** FHIR pattern semantics: every property of the pattern is present with a matching value; arrays by "some". */
export function containsPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const arr = Array.isArray(value) ? value : [value];
    return pattern.every((p) => arr.some((v) => containsPattern(v, p)));
  }
  if (isObject(pattern)) {
    if (!isObject(value)) return false;
    return Object.entries(pattern).every(([k, p]) => containsPattern(value[k], p));
  }
  return value === pattern;
}

function requiredExpansion(ed: ElementDefinition): Expansion | undefined {
  if (ed.binding?.strength !== 'required' || !ed.binding.valueSet) return undefined;
  return profileTerminology().expand(ed.binding.valueSet);
}

function codeInExpansion(v: unknown, exp: Expansion): boolean {
  if (typeof v === 'string') return exp.codes.has(v);
  if (!isObject(v)) return false;
  if (Array.isArray(v.coding)) return v.coding.some((c) => codeInExpansion(c, exp));
  if (typeof v.code !== 'string') return false;
  return typeof v.system === 'string' ? exp.pairs.has(`${v.system}|${v.code}`) : exp.codes.has(v.code);
}

function checkBinding(ed: ElementDefinition, item: Item, ctx: Ctx): void {
  if (item.value === undefined || ed.binding?.strength !== 'required' || !ed.binding.valueSet) return;
  const t = item.type;
  if (t !== 'code' && t !== 'Coding' && t !== 'CodeableConcept' && t !== 'string' && t !== 'uri') return;
  const exp = requiredExpansion(ed);
  if (!exp) {
    ctx.add('information', 'informational', `Value set ${ed.binding.valueSet} cannot be expanded offline; binding not checked`, item.path);
    return;
  }
  if (!codeInExpansion(item.value, exp))
    ctx.add('error', 'code-invalid', `${short(item.value)} is not in the required value set ${ed.binding.valueSet} (profile ${ctx.profile})`, item.path);
}

// --- types, references, invariants --------------------------------------------------------------------

function checkTypeProfiles(ed: ElementDefinition, item: Item, ctx: Ctx): void {
  if (!isObject(item.value) || ctx.depth > MAX_DEPTH) return;
  const t = ed.type?.find((x) => x.code === item.type) ?? (ed.type?.length === 1 ? ed.type[0] : undefined);
  let profiles = t?.profile ?? [];
  if (profiles.length === 0) {
    // No profile on the type: the value is still walked against its core definition, for the datatype and
    // nested-resource invariants (per-1, …) that live on the type, not on the element using it.
    const type = resourceTypeOf(item.value) ?? item.type;
    if (!type || isPrimitiveType(type) || type === 'Extension' || type === 'Resource' || type === 'BackboneElement' || type === 'Element') return;
    profiles = [`http://hl7.org/fhir/StructureDefinition/${type}`];
  }
  let first: Issue[] | undefined;
  for (const p of profiles) {
    const c = compileProfile(p.split('|')[0]);
    if (!c) {
      ctx.add('warning', 'not-supported', `Unknown profile ${p} for this element: not validated against it`, item.path);
      return;
    }
    const type = resourceTypeOf(item.value) ?? item.type ?? c.sd.type;
    if (c.sd.kind === 'resource' && type !== c.sd.type) continue;
    // %resource / %rootResource of invariants (e.g. ref-1 on '#contained' references) is the resource the
    // element belongs to: a Bundle entry's resource, not the Bundle.
    const sub = ctx.child(c.sd.kind === 'resource' && resourceTypeOf(item.value) ? item.value : ctx.root, p);
    sub.rootNode = c.root;
    validateNode(c.root, { ...item, type }, sub);
    if (!sub.issues.some((i) => i.severity === 'error')) {
      ctx.issues.push(...sub.issues);
      return;
    }
    first ??= sub.issues;
  }
  if (first) ctx.issues.push(...first);
  else ctx.add('error', 'structure', `Resource type ${resourceTypeOf(item.value)} does not match the profiles ${profiles.join(', ')}`, item.path);
}

function checkReferenceTarget(ed: ElementDefinition, item: Item, ctx: Ctx): void {
  if (item.type !== 'Reference' || !isObject(item.value) || typeof item.value.reference !== 'string') return;
  const targets = ed.type?.find((t) => t.code === 'Reference')?.targetProfile;
  if (!targets?.length) return;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(item.value.reference);
  if (!m) return; // contained (#id), urn:uuid: or logical references cannot be typed without resolving them
  const allowed = targets.map((tp) => getSnapshot(tp)?.type ?? tp.split('/').pop()!);
  if (!allowed.includes(m[1]) && !allowed.includes('Resource'))
    ctx.add('warning', 'structure', `Reference to ${m[1]} where the profile expects ${[...new Set(allowed)].join(' | ')}`, `${item.path}.reference`);
}

/**
 * Not evaluated here: ele-1, ext-1, dom-2/4/5 are enforced natively by core validation; dom-3 (contained
 * resources referenced) walks all descendants per contained resource; dom-6 is a best-practice warning;
 * txt-1/txt-2 call htmlChecks(), which fhirpath.js does not implement (it answers false for valid XHTML).
 */
const SKIP_INVARIANTS = new Set(['ele-1', 'ext-1', 'dom-2', 'dom-3', 'dom-4', 'dom-5', 'dom-6', 'txt-1', 'txt-2']);

function checkConstraints(ed: ElementDefinition, item: Item, ctx: Ctx): void {
  if (!ed.constraint || item.value === undefined) return;
  for (const c of ed.constraint) {
    if (!c.expression || SKIP_INVARIANTS.has(c.key)) continue;
    const r = evaluateInvariant(ed.path, c.expression, item.value, ctx.root);
    if (r === true) continue;
    if (r === false) ctx.add(c.severity === 'error' ? 'error' : 'warning', 'invariant', `${c.key}: ${c.human} (profile ${ctx.profile})`, item.path);
    else ctx.add('information', 'informational', `${c.key} not evaluated: ${r}`, item.path);
  }
}

/**
 * Invariants of a datatype (per-1, qty-3, …) sit on the type's root, not on the elements that use the type,
 * so they are evaluated for every complex value whose type is known.
 */
function checkTypeInvariants(item: Item, ctx: Ctx): void {
  const t = item.type;
  if (!t || !isObject(item.value) || isPrimitiveType(t) || resourceTypeOf(item.value)) return;
  const root = coreDefinitions().byType.get(t)?.snapshot?.element[0];
  if (root?.constraint) checkConstraints(root, item, ctx);
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
