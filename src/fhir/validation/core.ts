/**
 * Core (R4 4.0.1) validation, run on every write. The snapshots are compiled once, lazily per type, into
 * `Model`s: a property-name → `Rule` map with the primitive test, cardinality and required-binding expansion
 * resolved up front, so validating an instance is one walk over its JSON with Map look-ups and regex tests.
 *
 * Invariants are checked natively only where cheap: ele-1 (no empty objects/arrays/strings), ext-1, dom-2,
 * dom-4, dom-5. Everything else expressed in FHIRPath is left to profile validation (see profile-validator.ts).
 */
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import type { Issue, IssueCode } from '../outcome.ts';
import { coreDefinitions } from './core-definitions.ts';
import { PRIMITIVE_CHECKS, jsonKind, primitiveForSystemType, type PrimitiveCheck } from './primitives.ts';
import { coreTerminology, type Expansion } from './terminology.ts';

interface Rule {
  /** JSON property name, e.g. `valueQuantity`. */
  name: string;
  /** FHIRPath step used in issue expressions, e.g. `value.ofType(Quantity)`. */
  label: string;
  min: number;
  max: number;
  many: boolean;
  type: string;
  prim?: PrimitiveCheck;
  isResource: boolean;
  /** Complex type name whose model checks the value, or an inline backbone model. */
  modelName?: string;
  inline?: Model;
  binding?: Expansion;
  bindingUrl?: string;
  choice?: ChoiceGroup;
}

interface ChoiceGroup {
  label: string;
  min: number;
  names: string[];
}

interface Model {
  name: string;
  rules: Map<string, Rule>;
  required: Rule[];
  choices: ChoiceGroup[];
  isExtension: boolean;
}

const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

const models = new Map<string, Model>();

function typeModel(name: string): Model | undefined {
  let m = models.get(name);
  if (m) return m;
  const sd = coreDefinitions().byType.get(name);
  if (!sd?.snapshot || sd.kind === 'primitive-type') return undefined;
  m = compileStructure(sd);
  models.set(name, m);
  return m;
}

/** Compiles a snapshot into the root model; backbone elements become inline models. */
function compileStructure(sd: StructureDefinition): Model {
  const elements = sd.snapshot!.element;
  const children = new Map<string, ElementDefinition[]>();
  for (const ed of elements) {
    const dot = ed.path.lastIndexOf('.');
    if (dot < 0) continue;
    const parent = ed.path.slice(0, dot);
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(ed);
  }
  const byPath = new Map<string, Model>();
  const pending: { rule: Rule; ref: string }[] = [];
  const build = (path: string): Model => {
    const model: Model = { name: path, rules: new Map(), required: [], choices: [], isExtension: path === 'Extension' };
    byPath.set(path, model);
    for (const ed of children.get(path) ?? []) {
      if (ed.sliceName) continue; // core snapshots carry no slices; guard anyway
      const last = ed.path.slice(ed.path.lastIndexOf('.') + 1);
      const min = ed.min ?? 0;
      const max = ed.max === '*' ? Infinity : Number(ed.max ?? '1');
      const base = { min, max, many: (ed.base?.max ?? ed.max) !== '1' && (ed.base?.max ?? ed.max) !== '0' };
      if (ed.contentReference) {
        const rule: Rule = { ...base, name: last, label: last, type: 'BackboneElement', isResource: false };
        pending.push({ rule, ref: ed.contentReference.slice(ed.contentReference.indexOf('#') + 1) });
        addRule(model, rule);
        continue;
      }
      const types = ed.type ?? [];
      if (last.endsWith('[x]')) {
        const stem = last.slice(0, -3);
        const group: ChoiceGroup = { label: stem, min, names: [] };
        for (const t of types) {
          const suffix = t.code.charAt(0).toUpperCase() + t.code.slice(1);
          const rule = makeRule(sd, ed, stem + suffix, `${stem}.ofType(${t.code})`, t.code, { ...base, min: 0 });
          rule.choice = group;
          group.names.push(rule.name);
          addRule(model, rule);
        }
        model.choices.push(group);
        continue;
      }
      const code = types[0]?.code ?? 'Element';
      const rule = makeRule(sd, ed, last, last, code, base);
      if (children.has(ed.path)) rule.inline = build(ed.path);
      addRule(model, rule);
    }
    return model;
  };
  const root = build(sd.snapshot!.element[0].path);
  for (const { rule, ref } of pending) rule.inline = byPath.get(ref);
  return root;
}

function addRule(model: Model, rule: Rule): void {
  model.rules.set(rule.name, rule);
  if (rule.min > 0 && !rule.choice) model.required.push(rule);
}

function makeRule(
  sd: StructureDefinition,
  ed: ElementDefinition,
  name: string,
  label: string,
  code: string,
  card: { min: number; max: number; many: boolean },
): Rule {
  let type = code;
  const sys = primitiveForSystemType(code, ed.type?.[0]?.extension?.find((e) => e.url === FHIR_TYPE_EXT)?.valueUrl);
  if (sys) type = sys;
  // R4 snapshots type Resource.id as System.String; the spec's rule for it is the `id` type.
  if (ed.path.endsWith('.id') && ed.path.split('.').length === 2 && sd.kind === 'resource') type = 'id';
  const rule: Rule = { ...card, name, label, type, isResource: type === 'Resource', prim: PRIMITIVE_CHECKS[type] };
  if (!rule.prim && !rule.isResource) rule.modelName = type;
  if (ed.binding?.strength === 'required' && ed.binding.valueSet) {
    const exp = coreTerminology().expand(ed.binding.valueSet);
    if (exp) {
      rule.binding = exp;
      rule.bindingUrl = ed.binding.valueSet;
    }
  }
  return rule;
}

const resourceModels = new Map<string, Model>();

function resourceModel(resourceType: string): Model | undefined {
  let m = resourceModels.get(resourceType);
  if (m) return m;
  if (!coreDefinitions().resourceTypes.has(resourceType)) return undefined;
  m = typeModel(resourceType);
  if (m) resourceModels.set(resourceType, m);
  return m;
}

export function isKnownResourceType(t: string): boolean {
  return coreDefinitions().resourceTypes.has(t);
}

// ---------------------------------------------------------------------------------------------------------

class Ctx {
  readonly issues: Issue[] = [];
  err(code: IssueCode, diagnostics: string, expression: string): void {
    this.issues.push({ severity: 'error', code, diagnostics, expression: [expression] });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Core validation of one resource (and everything contained or nested in it). */
export function validateCore(resource: unknown): Issue[] {
  const ctx = new Ctx();
  const rt = isObject(resource) && typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource';
  checkResource(resource, rt, ctx, false);
  return ctx.issues;
}

function checkResource(value: unknown, path: string, ctx: Ctx, contained: boolean): void {
  if (!isObject(value)) {
    ctx.err('structure', `A resource must be a JSON object, got ${jsonKind(value)}`, path);
    return;
  }
  const rt = value.resourceType;
  if (typeof rt !== 'string') {
    ctx.err('structure', 'Missing resourceType', path);
    return;
  }
  const model = resourceModel(rt);
  if (!model) {
    ctx.err('structure', `Unknown resourceType '${rt}'`, path);
    return;
  }
  checkObject(value, model, path, ctx, true);
  if (contained) checkContainedRules(value, path, ctx);
}

/** dom-2, dom-4, dom-5: constraints on contained resources that need no FHIRPath engine. */
function checkContainedRules(res: Record<string, unknown>, path: string, ctx: Ctx): void {
  if (res.contained !== undefined) ctx.err('invariant', 'dom-2: a contained resource SHALL NOT contain nested resources', `${path}.contained`);
  const meta = res.meta;
  if (isObject(meta)) {
    if (meta.versionId !== undefined || meta.lastUpdated !== undefined)
      ctx.err('invariant', 'dom-4: a contained resource SHALL NOT have a meta.versionId or a meta.lastUpdated', `${path}.meta`);
    if (meta.security !== undefined) ctx.err('invariant', 'dom-5: a contained resource SHALL NOT have a security label', `${path}.meta.security`);
  }
}

function checkObject(obj: Record<string, unknown>, model: Model, path: string, ctx: Ctx, isResource: boolean): void {
  let count = 0;
  let choicesSeen: Map<ChoiceGroup, string> | undefined;
  for (const key in obj) {
    const value = obj[key];
    if (isResource && key === 'resourceType') continue;
    count++;
    if (key.charCodeAt(0) === 95 /* _ */) {
      const rule = model.rules.get(key.slice(1));
      if (!rule?.prim) {
        ctx.err('structure', `Unknown element '${key}'`, `${path}.${key}`);
        continue;
      }
      checkPrimitiveExtras(value, obj[rule.name], rule, `${path}.${rule.label}`, ctx);
      if (obj[rule.name] === undefined) choicesSeen = noteChoice(rule, choicesSeen, path, ctx);
      continue;
    }
    const rule = model.rules.get(key);
    if (!rule) {
      ctx.err('structure', `Unknown element '${key}'`, `${path}.${key}`);
      continue;
    }
    if (rule.choice) choicesSeen = noteChoice(rule, choicesSeen, path, ctx);
    const p = `${path}.${rule.label}`;
    if (rule.many) {
      if (!Array.isArray(value)) {
        ctx.err('structure', `Element '${key}' repeats and must be a JSON array`, p);
        continue;
      }
      if (value.length === 0) {
        ctx.err('invariant', `Element '${key}' must not be an empty array`, p);
        continue;
      }
      if (value.length > rule.max) ctx.err('structure', `Element '${key}' has ${value.length} items, at most ${rule.max} allowed`, p);
      const ext = rule.prim ? obj[`_${key}`] : undefined;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item === null && rule.prim && Array.isArray(ext) && isObject(ext[i])) continue;
        checkValue(item, rule, `${p}[${i}]`, ctx);
      }
    } else {
      if (Array.isArray(value)) {
        ctx.err('structure', `Element '${key}' does not repeat and must not be a JSON array`, p);
        continue;
      }
      checkValue(value, rule, p, ctx);
    }
  }
  if (count === 0 && !isResource) {
    ctx.err('invariant', 'ele-1: all FHIR elements must have a @value or children', path);
    return;
  }
  for (const rule of model.required) {
    if (obj[rule.name] === undefined && !(rule.prim && obj[`_${rule.name}`] !== undefined))
      ctx.err('required', `Missing required element '${rule.label}' (min ${rule.min})`, `${path}.${rule.label}`);
  }
  for (const g of model.choices) {
    if (g.min > 0 && !choicesSeen?.has(g)) ctx.err('required', `Missing required element '${g.label}[x]'`, `${path}.${g.label}`);
  }
  if (model.isExtension) {
    const hasValue = choicesSeen !== undefined && choicesSeen.size > 0;
    if (hasValue === (obj.extension !== undefined))
      ctx.err('invariant', 'ext-1: an extension must have either extensions or value[x], not both', path);
  }
}

function noteChoice(rule: Rule, seen: Map<ChoiceGroup, string> | undefined, path: string, ctx: Ctx): Map<ChoiceGroup, string> {
  const m = seen ?? new Map<ChoiceGroup, string>();
  const g = rule.choice;
  if (!g) return m;
  const prev = m.get(g);
  if (prev !== undefined && prev !== rule.name)
    ctx.err('structure', `Only one of '${g.label}[x]' is allowed, found '${prev}' and '${rule.name}'`, `${path}.${g.label}`);
  m.set(g, rule.name);
  return m;
}

function checkValue(value: unknown, rule: Rule, path: string, ctx: Ctx): void {
  if (value === null) {
    ctx.err('structure', 'null is not allowed here', path);
    return;
  }
  if (rule.prim) {
    const msg = rule.prim(value);
    if (msg) ctx.err('value', msg, path);
    else if (rule.binding && typeof value === 'string' && !rule.binding.codes.has(value))
      ctx.err('code-invalid', `Code '${value}' is not in the required value set ${rule.bindingUrl}`, path);
    return;
  }
  if (rule.isResource) {
    checkResource(value, path, ctx, rule.name === 'contained');
    return;
  }
  if (!isObject(value)) {
    ctx.err('structure', `Element of type ${rule.type} must be a JSON object, got ${jsonKind(value)}`, path);
    return;
  }
  const model = rule.inline ?? (rule.modelName ? typeModel(rule.modelName) : undefined);
  if (!model) return;
  checkObject(value, model, path, ctx, false);
  if (rule.binding) checkCodedBinding(value, rule, path, ctx);
}

function checkCodedBinding(value: Record<string, unknown>, rule: Rule, path: string, ctx: Ctx): void {
  const exp = rule.binding!;
  const inVs = (c: unknown): boolean =>
    isObject(c) && typeof c.code === 'string' && (typeof c.system === 'string' ? exp.pairs.has(`${c.system}|${c.code}`) : exp.codes.has(c.code));
  if (rule.type === 'Coding') {
    if (!inVs(value)) ctx.err('code-invalid', `Coding is not in the required value set ${rule.bindingUrl}`, path);
  } else if (rule.type === 'CodeableConcept') {
    const codings = Array.isArray(value.coding) ? value.coding : [];
    if (!codings.some(inVs)) ctx.err('code-invalid', `No coding from the required value set ${rule.bindingUrl}`, path);
  }
}

/** `_name`: the id/extension part of a primitive; for repeating primitives an array aligned with the values. */
function checkPrimitiveExtras(ext: unknown, values: unknown, rule: Rule, path: string, ctx: Ctx): void {
  const elementModel = typeModel('Element')!;
  if (rule.many) {
    if (!Array.isArray(ext)) {
      ctx.err('structure', `'_${rule.name}' must be an array aligned with '${rule.name}'`, path);
      return;
    }
    if (Array.isArray(values) && values.length !== ext.length)
      ctx.err('structure', `'_${rule.name}' must have as many items as '${rule.name}'`, path);
    for (let i = 0; i < ext.length; i++) {
      const e = ext[i];
      if (e === null) {
        if (!Array.isArray(values) || values[i] === null || values[i] === undefined) ctx.err('structure', 'Both value and extension are null', `${path}[${i}]`);
        continue;
      }
      if (!isObject(e)) ctx.err('structure', `'_${rule.name}' items must be JSON objects`, `${path}[${i}]`);
      else checkObject(e, elementModel, `${path}[${i}]`, ctx, false);
    }
    return;
  }
  if (!isObject(ext)) {
    ctx.err('structure', `'_${rule.name}' must be a JSON object`, path);
    return;
  }
  checkObject(ext, elementModel, path, ctx, false);
}

/** Compiles every resource type up front (e.g. at server start) instead of on first use. */
export function warmUpCore(): void {
  for (const t of coreDefinitions().resourceTypes) resourceModel(t);
}
