/**
 * Patient-facing (MedMij) answers never carry the BSN: the patient context comes from the token, and the
 * BSN identifier is removed from every resource in the response (MedMij qualification requirement).
 */
import type { Resource } from 'fhir/r4';

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

function strip(node: unknown): unknown {
  if (Array.isArray(node)) {
    return node
      .filter((n) => !(typeof n === 'object' && n !== null && (n as { system?: string }).system === BSN_SYSTEM && 'value' in n))
      .map(strip);
  }
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'identifier' && typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { system?: string }).system === BSN_SYSTEM) continue;
    const s = strip(v);
    if (Array.isArray(s) && s.length === 0) continue;
    out[k] = s;
  }
  return out;
}

export function stripBsn<T extends Resource>(resource: T): T {
  return strip(resource) as T;
}
