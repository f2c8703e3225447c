/**
 * Search (type and system level) → searchset Bundle. Matches and includes come back from the search
 * module as stored JSON text and are spliced into the Bundle without a parse, unless a subset
 * (_summary/_elements) or a filter (patient context) needs the parsed resource.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { operationOutcome } from '../../fhir/outcome.ts';
import { applyElements, applySummary } from '../../fhir/summary.ts';
import { executeSearch } from '../../search/execute.ts';
import { parseSearchRequest, type SearchRequest } from '../../search/parse.ts';
import type { ServerDeps } from '../context.ts';
import type { FhirResponse, RequestScope } from '../types.ts';
import { stripBsn } from '../privacy.ts';

export async function search(deps: ServerDeps, scope: RequestScope, type: string | undefined, query: [string, string][]): Promise<FhirResponse> {
  const cursorParam = query.find(([k]) => k === '_cursor')?.[1];
  const req = parseSearchRequest(
    type,
    query.filter(([k]) => k !== '_cursor' && k !== '_format'),
    { strict: scope.strict, baseUrl: scope.base },
  );
  const result = await executeSearch(
    { db: deps.engine.db, dialect: deps.engine.dialect, tenant: scope.tenant, compartment: scope.compartment },
    type,
    req,
    { cursor: cursorParam },
  );
  return { status: 200, headers: {}, body: { raw: searchBundle(scope, type, req, result) } };
}

export interface SearchRows {
  matches: { type: string; id: string; content: string }[];
  includes: { type: string; id: string; content: string }[];
  total?: number;
  nextCursor?: string;
}

export function searchBundle(scope: RequestScope, type: string | undefined, req: SearchRequest, result: SearchRows, path?: string): string {
  const basePath = `${scope.base}/${path ?? type ?? ''}`.replace(/\/$/, '');
  const self = selfUrl(basePath, req.applied);
  const links = [{ relation: 'self', url: self }];
  if (result.nextCursor) links.push({ relation: 'next', url: selfUrl(basePath, [...req.applied, ['_cursor', result.nextCursor]]) });
  const parts: string[] = [];
  const transform = needsParse(scope, req) ? (content: string) => render(scope, req, content) : (content: string) => content;
  if (req.summary !== 'count') {
    for (const m of result.matches) parts.push(entry(scope, m, transform(m.content), 'match'));
    for (const m of result.includes) parts.push(entry(scope, m, transform(m.content), 'include'));
  }
  if (req.ignored.length > 0) {
    // Lenient handling: say which parameters were not applied (FHIR search.html#errors).
    const outcome = operationOutcome(
      req.ignored.map((i) => ({ severity: 'warning' as const, code: 'not-supported' as const, diagnostics: `Search parameter '${i.name}' was ignored: ${i.reason}`, expression: [i.name] })),
    );
    parts.push(`{"resource":${JSON.stringify(outcome)},"search":{"mode":"outcome"}}`);
  }
  const total = result.total !== undefined ? `,"total":${result.total}` : '';
  return `{"resourceType":"Bundle","id":"${randomUUID()}","meta":{"lastUpdated":"${new Date().toISOString()}"},"type":"searchset"${total},"link":${JSON.stringify(links)},"entry":[${parts.join(',')}]}`;
}

function entry(scope: RequestScope, m: { type: string; id: string }, content: string, mode: 'match' | 'include'): string {
  return `{"fullUrl":${JSON.stringify(`${scope.base}/${m.type}/${m.id}`)},"resource":${content},"search":{"mode":"${mode}"}}`;
}

function needsParse(scope: RequestScope, req: SearchRequest): boolean {
  return Boolean(scope.compartment) || (req.summary !== undefined && req.summary !== 'false') || (req.elements !== undefined && req.elements.length > 0);
}

function render(scope: RequestScope, req: SearchRequest, content: string): string {
  let r = JSON.parse(content) as Resource;
  if (scope.compartment) r = stripBsn(r);
  if (req.summary && req.summary !== 'false' && req.summary !== 'count') r = applySummary(r, req.summary);
  else if (req.elements && req.elements.length > 0) r = applyElements(r, req.elements);
  return JSON.stringify(r);
}

function selfUrl(basePath: string, params: [string, string][]): string {
  if (params.length === 0) return basePath;
  // Keep ':' ',' '|' '/' readable in links: clients (and Touchstone rules) compare them verbatim.
  const qs = params.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&');
  return `${basePath}?${qs}`;
}

function encodeComponent(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%7C/gi, '|').replace(/%2F/gi, '/').replace(/%24/g, '$');
}
