/**
 * Snapshot generation: merges a profile's differential onto the snapshot of its base definition.
 *
 * Works on element ids (`Patient.identifier:bsn.system`), which name slices and their children unambiguously.
 * When a differential element is not in the working snapshot yet, it is made to exist:
 * - `name:slice` → the unsliced element and its descendants are copied as a new slice (after earlier slices);
 * - a child of an element whose type is not unfolded → the type's snapshot (or its type profile's snapshot,
 *   e.g. an extension or nl-core datatype profile) is unfolded under it;
 * - a renamed choice (`valueQuantity`) → the `value[x]` element, restricted to that type (or its type slice).
 * Then the differential's properties are merged onto it (constraints appended, everything else overriding).
 */
import type { ElementDefinition, ElementDefinitionSlicing, StructureDefinition } from 'fhir/r4';

/** Returns a StructureDefinition with a snapshot for a canonical URL (core or profile), or undefined. */
export type SnapshotResolver = (url: string) => StructureDefinition | undefined;

export interface SnapshotResult {
  elements: ElementDefinition[];
  /** Differential elements that could not be placed (reported, never thrown: a partial snapshot still validates). */
  problems: string[];
}

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const clone = <T>(v: T): T => structuredClone(v);
const stripVersion = (url: string): string => url.split('|')[0];

export function generateSnapshot(sd: StructureDefinition, resolve: SnapshotResolver): SnapshotResult {
  if (!sd.baseDefinition) throw new Error(`${sd.url}: no baseDefinition`);
  const base = resolve(stripVersion(sd.baseDefinition));
  if (!base?.snapshot) throw new Error(`${sd.url}: base ${sd.baseDefinition} not available`);
  const g = new Generator(clone(base.snapshot.element), resolve);
  for (const d of sd.differential?.element ?? []) g.apply(d);
  return { elements: g.elements, problems: g.problems };
}

class Generator {
  readonly problems: string[] = [];
  private index = new Map<string, number>();

  constructor(
    readonly elements: ElementDefinition[],
    private readonly resolve: SnapshotResolver,
  ) {
    for (const e of elements) e.id ??= e.path;
    this.reindex();
  }

  private reindex(): void {
    this.index.clear();
    this.elements.forEach((e, i) => this.index.set(e.id!, i));
  }

  apply(d: ElementDefinition): void {
    const id = d.id ?? idFromPath(d);
    const target = this.ensure(id);
    if (target === undefined) {
      this.problems.push(`cannot place differential element ${id}`);
      return;
    }
    merge(this.elements[this.index.get(target)!], d);
  }

  /** Makes the element exist and returns its (normalised) id. */
  private ensure(id: string): string | undefined {
    const segs = id.split('.');
    let cur = this.elements[0].id!;
    for (let i = 1; i < segs.length; i++) {
      const colon = segs[i].indexOf(':');
      const name = colon < 0 ? segs[i] : segs[i].slice(0, colon);
      const slice = colon < 0 ? undefined : segs[i].slice(colon + 1);
      let child = `${cur}.${name}`;
      if (!this.index.has(child)) {
        if (!this.hasChildren(cur) && !this.unfold(cur)) return undefined;
        if (!this.index.has(child)) {
          const renamed = this.choiceRename(cur, name);
          if (!renamed) return undefined;
          child = renamed;
        }
      }
      if (slice !== undefined) {
        const sliceId = `${child}:${slice}`;
        if (!this.index.has(sliceId)) this.createSlice(child, slice);
        child = sliceId;
      }
      cur = child;
    }
    return cur;
  }

  private hasChildren(id: string): boolean {
    const i = this.index.get(id)!;
    return this.elements[i + 1]?.id?.startsWith(`${id}.`) ?? false;
  }

  /** `valueQuantity` → `value[x]:valueQuantity` if that type slice exists, else `value[x]` narrowed to Quantity. */
  private choiceRename(parent: string, name: string): string | undefined {
    for (let i = this.index.get(parent)! + 1; i < this.elements.length; i++) {
      const e = this.elements[i];
      if (!e.id!.startsWith(`${parent}.`)) break;
      const last = e.id!.slice(parent.length + 1);
      if (!last.endsWith('[x]') || last.includes('.') || last.includes(':')) continue;
      const stem = last.slice(0, -3);
      if (!name.startsWith(stem)) continue;
      const t = e.type?.find((t) => stem + upperFirst(t.code) === name);
      if (!t) continue;
      if (this.index.has(`${e.id}:${name}`)) return `${e.id}:${name}`;
      e.type = [t];
      return e.id;
    }
    return undefined;
  }

  private createSlice(baseId: string, slice: string): void {
    const bi = this.index.get(baseId)!;
    const base = this.elements[bi];
    const last = baseId.slice(baseId.lastIndexOf('.') + 1);
    if (!base.slicing) {
      // Extensions and choice types are implicitly sliced (by url / by type), so differentials often omit it.
      if (last === 'extension' || last === 'modifierExtension') base.slicing = { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' };
      else if (last.endsWith('[x]')) base.slicing = { discriminator: [{ type: 'type', path: '$this' }], rules: 'open' };
    }
    // The new slice goes after the base element, its descendants and every earlier slice.
    let end = bi;
    const prefixes = [`${baseId}.`, `${baseId}:`];
    while (end + 1 < this.elements.length && prefixes.some((p) => this.elements[end + 1].id!.startsWith(p))) end++;
    const sliceId = `${baseId}:${slice}`;
    const copies: ElementDefinition[] = [];
    // An extension slice gets its children from its own extension definition (unfolded on demand), not from
    // the generic Extension children the unsliced element may have.
    const isExtension = last === 'extension' || last === 'modifierExtension';
    for (let i = bi; i <= end; i++) {
      const e = this.elements[i];
      if (i !== bi && (isExtension || !e.id!.startsWith(`${baseId}.`))) continue;
      const c = clone(e);
      c.id = sliceId + e.id!.slice(baseId.length);
      copies.push(c);
    }
    const root = copies[0];
    root.sliceName = slice;
    delete root.slicing;
    root.min = 0;
    if (last.endsWith('[x]')) {
      const t = root.type?.find((t) => last.slice(0, -3) + upperFirst(t.code) === slice);
      if (t) root.type = [t];
    }
    this.elements.splice(end + 1, 0, ...copies);
    this.reindex();
  }

  /** Inserts the children of an element's type (or type profile, or content reference) under it. */
  private unfold(id: string): boolean {
    const idx = this.index.get(id)!;
    const el = this.elements[idx];
    let source: ElementDefinition[] | undefined;
    if (el.contentReference) {
      const refPath = el.contentReference.slice(el.contentReference.indexOf('#') + 1);
      const root = this.elements.find((e) => e.path === refPath && !e.sliceName);
      if (!root) return false;
      const start = this.elements.indexOf(root);
      source = [root];
      for (let i = start + 1; i < this.elements.length && this.elements[i].id!.startsWith(`${root.id}.`); i++) {
        if (!this.elements[i].id!.includes(':')) source.push(this.elements[i]);
      }
    } else {
      const types = el.type ?? [];
      let t = types.length === 1 ? types[0] : undefined;
      if (!t && el.sliceName) t = types.find((x) => el.path.endsWith('[x]') && el.path.slice(el.path.lastIndexOf('.') + 1, -3) + upperFirst(x.code) === el.sliceName);
      if (!t) return false;
      const url = t.profile?.length === 1 ? t.profile[0] : CORE + t.code;
      const sd = this.resolve(stripVersion(url)) ?? this.resolve(CORE + t.code);
      if (!sd?.snapshot) return false;
      source = sd.snapshot.element;
    }
    const rootId = source[0].id ?? source[0].path;
    const rootPath = source[0].path;
    const children = source.slice(1).map((s) => {
      const c = clone(s);
      c.id = id + (s.id ?? s.path).slice(rootId.length);
      c.path = el.path + s.path.slice(rootPath.length);
      return c;
    });
    if (children.length === 0) return false;
    this.elements.splice(idx + 1, 0, ...children);
    this.reindex();
    return true;
  }
}

function idFromPath(d: ElementDefinition): string {
  return d.sliceName ? `${d.path}:${d.sliceName}` : d.path;
}

const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const LIST_UNION = new Set(['mapping', 'alias', 'condition', 'extension']);

function merge(target: ElementDefinition, d: ElementDefinition): void {
  const t = target as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(d)) {
    if (key === 'id' || key === 'path' || key === 'base' || value === undefined) continue;
    if (key === 'constraint') {
      const list = (target.constraint ??= []);
      for (const c of d.constraint ?? []) {
        const at = list.findIndex((x) => x.key === c.key);
        if (at >= 0) list[at] = clone(c);
        else list.push(clone(c));
      }
    } else if (key === 'slicing') {
      target.slicing = { ...(target.slicing ?? {}), ...clone(value as ElementDefinitionSlicing) };
    } else if (LIST_UNION.has(key)) {
      const list = (t[key] as unknown[] | undefined) ?? [];
      const seen = new Set(list.map((x) => JSON.stringify(x)));
      for (const v of value as unknown[]) if (!seen.has(JSON.stringify(v))) list.push(clone(v));
      t[key] = list;
    } else {
      if (key.startsWith('fixed') || key.startsWith('pattern')) {
        // A differential's fixed/pattern replaces whatever the base had.
        for (const k of Object.keys(t)) if (k.startsWith('fixed') || k.startsWith('pattern')) delete t[k];
      }
      t[key] = clone(value);
    }
  }
}
