/**
 * Touchstone rule `assert-response-queryParamsInSelfLink`, re-implemented natively (the Groovy is not
 * shipped): a server signals which search parameters it handled by echoing them in the Bundle self link,
 * so every `name=value` of the request must appear there — verbatim, or for a reference value with or
 * without its type prefix (`patient=Patient/1` ≙ `patient=1`).
 */
import type { Bundle, Resource } from 'fhir/r4';

export interface SelfLinkResult {
  ok: boolean;
  message: string;
  missing: string[];
}

const REFERENCE = /^(?:https?:\/\/\S*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

function queryPairs(url: string): [string, string][] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  // Fragments are not sent to a server and never part of a self link.
  const query = url.slice(q + 1).split('#')[0];
  return [...new URLSearchParams(query)];
}

/** Equivalent forms of a value: itself, and for a reference also `Type/id` and bare `id`. */
function variants(value: string): string[] {
  const m = REFERENCE.exec(value);
  return m ? [value, `${m[1]}/${m[2]}`, m[2]] : [value];
}

function sameValue(requested: string, echoed: string): boolean {
  if (requested === echoed) return true;
  const a = variants(requested);
  const b = variants(echoed);
  return a.some((x) => b.includes(x));
}

export function selfLinkOf(resource: Resource | undefined): string | undefined {
  if (resource?.resourceType !== 'Bundle') return undefined;
  return (resource as Bundle).link?.find((l) => l.relation === 'self')?.url;
}

export function checkQueryParamsInSelfLink(requestUrl: string, response: Resource | undefined): SelfLinkResult {
  const requested = queryPairs(requestUrl).filter(([name]) => name !== '');
  if (requested.length === 0) return { ok: true, message: 'request has no parameters', missing: [] };
  const self = selfLinkOf(response);
  if (!self) return { ok: false, message: 'response is not a Bundle with a self link', missing: requested.map(([n, v]) => `${n}=${v}`) };
  const echoed = queryPairs(self);
  // Each echoed pair may account for one requested pair only: repeated parameters must all be echoed.
  const used = new Set<number>();
  const missing: string[] = [];
  for (const [name, value] of requested) {
    const i = echoed.findIndex(([n, v], idx) => !used.has(idx) && n === name && sameValue(value, v));
    if (i < 0) missing.push(`${name}=${value}`);
    else used.add(i);
  }
  return missing.length
    ? { ok: false, message: `self link ${self} lacks ${missing.join(', ')}`, missing }
    : { ok: true, message: 'all request parameters are in the self link', missing };
}
