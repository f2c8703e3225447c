/**
 * _summary and _elements (FHIR search.html#summary, #elements): subsets of a resource, marked with the
 * SUBSETTED tag so nobody mistakes them for the whole resource. Summary flags come from the R4 model.
 */
import type { Resource } from 'fhir/r4';
import { context } from './definitions/model.ts';

export type SummaryMode = 'true' | 'text' | 'data' | 'false' | 'count';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

function markSubsetted(r: Record<string, unknown>): void {
  const meta = (r.meta ?? {}) as { tag?: unknown[] };
  meta.tag = [...(meta.tag ?? []), SUBSETTED];
  r.meta = meta;
}

/** Keeps only summary elements, recursing into complex types and backbone elements. */
function summaryOf(value: unknown, ctxKey: string): unknown {
  const ctx = context(ctxKey);
  if (!ctx || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => summaryOf(v, ctxKey));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'resourceType') {
      out[k] = v;
      continue;
    }
    const name = k.startsWith('_') ? k.slice(1) : k;
    const prop = ctx.properties.get(name);
    if (!prop || !(prop.element.isSummary || prop.element.min > 0 || prop.element.isModifier)) continue;
    if (prop.kind === 'complex' && prop.context) out[k] = summaryOf(v, prop.context);
    else out[k] = v;
  }
  return out;
}

export function applySummary(resource: Resource, mode: SummaryMode): Resource {
  if (mode === 'false' || mode === 'count') return resource;
  const r = resource as unknown as Record<string, unknown>;
  let out: Record<string, unknown>;
  if (mode === 'true') out = summaryOf(r, resource.resourceType) as Record<string, unknown>;
  else if (mode === 'data') {
    out = { ...r };
    delete out.text;
  } else {
    const ctx = context(resource.resourceType);
    out = { resourceType: r.resourceType };
    for (const [k, v] of Object.entries(r)) {
      const prop = ctx?.properties.get(k.replace(/^_/, ''));
      if (k === 'id' || k === 'meta' || k === 'text' || (prop && prop.element.min > 0)) out[k] = v;
    }
  }
  out.meta = structuredClone(r.meta ?? {});
  markSubsetted(out);
  return out as unknown as Resource;
}

export function applyElements(resource: Resource, elements: string[]): Resource {
  const r = resource as unknown as Record<string, unknown>;
  const ctx = context(resource.resourceType);
  const wanted = new Set(elements.map((e) => e.replace(new RegExp(`^${resource.resourceType}\\.`), '').split('.')[0]));
  const out: Record<string, unknown> = { resourceType: r.resourceType };
  for (const [k, v] of Object.entries(r)) {
    const name = k.replace(/^_/, '');
    const prop = ctx?.properties.get(name);
    if (k === 'id' || k === 'meta' || wanted.has(name) || (prop && (prop.element.min > 0 || prop.element.isModifier))) out[k] = v;
  }
  out.meta = structuredClone(r.meta ?? {});
  markSubsetted(out);
  return out as unknown as Resource;
}
