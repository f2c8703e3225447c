/**
 * The directory's access policy (ITI-90/91 read, ITI-130 feed), decided before anything reaches the FHIR core.
 *
 * - Reads (search, read, vread, _history) are open to every authenticated node.
 * - Writes (create, update, conditional update, transaction/batch) only by an organisation on its own entries:
 *   an Organization must carry the writer's URA, or be `partOf` an Organization of the writer (departments);
 *   every other type must point at such an Organization through its owner element (Endpoint/Location
 *   `managingOrganization`, HealthcareService `providedBy`, OrganizationAffiliation/PractitionerRole
 *   `organization`). On update the entry as stored must belong to the writer too, so nobody takes over
 *   another organisation's entry by rewriting its owner.
 * - DELETE is refused (405): the guide's "No deletes" rule — entries are ended by a status change
 *   (`active=false`, Endpoint `status=off`, …). PATCH is refused (405): ownership is checked on whole resources.
 * - Conditional updates are resolved here to an update by id (a fresh id when nothing matches), so a
 *   transaction's `urn:uuid` fullUrls of conditional updates map to real ids and references between the
 *   entries of one published bundle resolve.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Organization, Reference, Resource } from 'fhir/r4';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import type { FhirRequest } from '../../server/types.ts';
import { OWNER_ELEMENT, URA_SYSTEMS, isDirectoryType, type DirectoryType } from './constants.ts';

/** Read access to the directory's current content (through the FHIR core). */
export interface DirectoryReader {
  read(type: string, id: string): Promise<Resource | undefined>;
  search(type: string, query: [string, string][]): Promise<Resource[]>;
}

export interface PolicyContext {
  /** URA of the authenticated organisation. */
  writer: string;
  reader: DirectoryReader;
  /** Absolute base of the directory, to recognise absolute references to its own entries. */
  base: string;
}

/** Resources of the bundle being written, by fullUrl and by `Type/id`, for references between its entries. */
interface BundleIndex {
  byFullUrl: Map<string, Resource>;
  byKey: Map<string, Resource>;
}

const MAX_DEPTH = 5;

export const forbidden = (msg: string, expression?: string) => FhirError.of(403, 'forbidden', msg, expression);
const notAllowed = (msg: string) => FhirError.of(405, 'not-supported', msg);

const NO_DELETE =
  'The directory never deletes entries (GF addressing: "No deletes"); end an entry with an update instead: ' +
  'Organization/HealthcareService/OrganizationAffiliation active=false, Location status=inactive, Endpoint status=off';

export function urasOf(r: { identifier?: { system?: string; value?: string }[] }): string[] {
  return (r.identifier ?? []).filter((i) => i.system && URA_SYSTEMS.includes(i.system) && i.value).map((i) => i.value!);
}

function requireDirectoryType(type: string): asserts type is DirectoryType {
  if (!isDirectoryType(type)) throw FhirError.of(404, 'not-supported', `'${type}' is not a directory resource type (mCSD: Organization, Endpoint, HealthcareService, Location, OrganizationAffiliation; and PractitionerRole)`);
}

/**
 * Checks a request against the policy. Returns the request to dispatch — the same one, or with conditional
 * updates resolved to updates by id. Throws FhirError (401/403/404/405/412) when refused.
 */
export async function authorizeRequest(req: FhirRequest, ctx: PolicyContext): Promise<FhirRequest> {
  const parts = req.path.split('/').filter(Boolean);
  if (parts.some((p) => p.startsWith('$'))) throw FhirError.of(400, 'not-supported', 'Operations are not offered by the directory');
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  if (m === 'DELETE') throw notAllowed(NO_DELETE);
  if (m === 'PATCH') throw notAllowed('PATCH is not offered by the directory; send the whole resource with PUT (ITI-130 update)');
  if (m === 'GET') {
    if (parts.length === 0) throw FhirError.of(400, 'not-supported', 'Search the directory per resource type (ITI-90), e.g. GET Organization?identifier=…');
    if (parts[0] !== '_history') requireDirectoryType(parts[0]);
    return req;
  }
  if (m === 'POST' && parts.length === 0) return authorizeBundle(req, ctx);
  if (m === 'POST' && parts.length === 2 && parts[1] === '_search') {
    requireDirectoryType(parts[0]);
    return req;
  }
  const index: BundleIndex = { byFullUrl: new Map(), byKey: new Map() };
  if (m === 'POST' && parts.length === 1) {
    requireDirectoryType(parts[0]);
    await checkOwnership(bodyOf(req, parts[0]), ctx, index, parts[0]);
    return req;
  }
  if (m === 'PUT' && (parts.length === 2 || (parts.length === 1 && req.query.length > 0))) {
    const resolved = await resolveUpdate(req, ctx);
    const type = resolved.path.split('/')[0];
    const body = bodyOf(resolved, type);
    index.byKey.set(resolved.path, body);
    await checkOwnership(body, ctx, index, type);
    return resolved;
  }
  throw notAllowed(`${req.method} is not allowed on '${req.path || '/'}'`);
}

function bodyOf(req: FhirRequest, type: string): Resource {
  const r = req.body as Resource | undefined;
  if (!r || typeof r !== 'object' || Array.isArray(r) || typeof r.resourceType !== 'string') throw badRequest('The request body must be a FHIR resource');
  if (r.resourceType !== type) throw badRequest(`The body is a ${r.resourceType} but the URL names ${type}`, 'resourceType');
  return r;
}

/**
 * PUT Type/id: the stored entry (if any) must belong to the writer. PUT Type?query (conditional update):
 * resolved to PUT Type/id of the one match (checked the same way), or of a fresh id when nothing matches.
 */
async function resolveUpdate(req: FhirRequest, ctx: PolicyContext): Promise<FhirRequest> {
  const parts = req.path.split('/').filter(Boolean);
  const type = parts[0];
  requireDirectoryType(type);
  const body = bodyOf(req, type);
  let id: string;
  let existing: Resource | undefined;
  if (parts.length === 2) {
    id = parts[1];
    existing = await ctx.reader.read(type, id);
  } else {
    const query = req.query.filter(([k]) => k !== '_format');
    const matches = await ctx.reader.search(type, [...query, ['_count', '2']]);
    if (matches.length > 1) throw FhirError.of(412, 'conflict', `Conditional update ${type}?${new URLSearchParams(query)} matched ${matches.length} entries; it must match at most one`);
    existing = matches[0];
    id = existing?.id ?? randomUUID();
    if (body.id !== undefined && body.id !== id) throw badRequest(`The body's id '${body.id}' differs from the entry the condition matched (${type}/${id})`, `${type}.id`);
  }
  if (existing) {
    const problem = await ownerProblem(existing, ctx, { byFullUrl: new Map(), byKey: new Map() }, 0);
    if (problem) throw forbidden(`${type}/${id} in the directory belongs to another organisation (${problem}); you are URA ${ctx.writer}`);
  }
  return { ...req, path: `${type}/${id}`, query: req.query.filter(([k]) => k === '_format'), body: { ...body, id } };
}

async function checkOwnership(resource: Resource, ctx: PolicyContext, index: BundleIndex, type: string, where = type): Promise<void> {
  const problem = await ownerProblem(resource, ctx, index, 0);
  if (problem) throw forbidden(`URA ${ctx.writer} may only write its own directory entries: ${problem}`, where);
  // One Organization per URA: a second one would make "the organisation with URA X" ambiguous for every client.
  if (resource.resourceType === 'Organization') {
    for (const ura of urasOf(resource as Organization)) {
      for (const system of URA_SYSTEMS) {
        const other = (await ctx.reader.search('Organization', [['identifier', `${system}|${ura}`], ['_count', '2']])).find((o) => o.id !== resource.id);
        if (other) throw FhirError.of(409, 'duplicate', `URA ${ura} is already registered as Organization/${other.id}; update that entry (e.g. PUT Organization?identifier=${URA_SYSTEMS[0]}|${ura})`, where);
      }
    }
  }
}

/** Why `r` does not belong to the writer, or undefined when it does. */
async function ownerProblem(r: Resource, ctx: PolicyContext, index: BundleIndex, depth: number): Promise<string | undefined> {
  if (depth > MAX_DEPTH) return 'the partOf chain is too deep';
  if (r.resourceType === 'Organization') {
    const org = r as Organization;
    const uras = urasOf(org);
    if (uras.length > 0) {
      const other = uras.find((u) => u !== ctx.writer);
      return other ? `Organization${org.id ? `/${org.id}` : ''} carries URA ${other}` : undefined;
    }
    if (!org.partOf) return 'an Organization needs a URA identifier or partOf an Organization';
    return orgRefProblem(org.partOf, ctx, index, depth + 1, 'Organization.partOf');
  }
  if (!isDirectoryType(r.resourceType)) return `${r.resourceType} is not a directory type`;
  const element = OWNER_ELEMENT[r.resourceType as Exclude<DirectoryType, 'Organization'>];
  const ref = (r as unknown as Record<string, Reference | undefined>)[element];
  if (!ref) return `${r.resourceType}.${element} is required: it names the owning Organization`;
  return orgRefProblem(ref, ctx, index, depth + 1, `${r.resourceType}.${element}`);
}

async function orgRefProblem(ref: Reference, ctx: PolicyContext, index: BundleIndex, depth: number, path: string): Promise<string | undefined> {
  if (!ref.reference && ref.identifier?.system && URA_SYSTEMS.includes(ref.identifier.system)) {
    return ref.identifier.value === ctx.writer ? undefined : `${path} names URA ${ref.identifier.value}`;
  }
  if (!ref.reference) return `${path} has no reference`;
  const target = await resolveReference(ref.reference, ctx, index);
  if (!target) return `${path} '${ref.reference}' is not an entry of the directory`;
  if (target.resourceType !== 'Organization') return `${path} '${ref.reference}' is a ${target.resourceType}, not an Organization`;
  const problem = await ownerProblem(target, ctx, index, depth);
  return problem ? `${path} → ${problem}` : undefined;
}

async function resolveReference(reference: string, ctx: PolicyContext, index: BundleIndex): Promise<Resource | undefined> {
  const inBundle = index.byFullUrl.get(reference);
  if (inBundle) return inBundle;
  let ref = reference;
  if (ref.startsWith(`${ctx.base}/`)) ref = ref.slice(ctx.base.length + 1);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return undefined; // urn: not in this bundle, or another server
  const [path, qs] = ref.split('?', 2);
  if (qs !== undefined) {
    if (!isDirectoryType(path)) return undefined;
    const matches = await ctx.reader.search(path, [...new URLSearchParams(qs).entries(), ['_count', '2']]);
    return matches.length === 1 ? matches[0] : undefined;
  }
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(path);
  if (!m || !isDirectoryType(m[1])) return undefined;
  return index.byKey.get(`${m[1]}/${m[2]}`) ?? ctx.reader.read(m[1], m[2]);
}

/**
 * transaction / batch: every entry is checked as if it came alone, with references between entries
 * resolved inside the bundle. One refused entry refuses the whole bundle (also a batch: a directory feed
 * is published as one piece, and a partial write of a foreign entry must never happen).
 */
async function authorizeBundle(req: FhirRequest, ctx: PolicyContext): Promise<FhirRequest> {
  const bundle = req.body as Bundle | undefined;
  if (!bundle || bundle.resourceType !== 'Bundle') throw badRequest('POST to the directory base needs a Bundle (transaction or batch)');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') throw badRequest(`Bundle.type must be transaction or batch, not '${bundle.type}'`, 'Bundle.type');
  const entries: BundleEntry[] = (bundle.entry ?? []).map((e) => ({ ...e, request: e.request ? { ...e.request } : e.request }));
  const index: BundleIndex = { byFullUrl: new Map(), byKey: new Map() };
  const writes: { i: number; type: string }[] = [];

  // 1. Method/type checks; conditional updates resolved to ids (so fullUrls map to real entries).
  for (const [i, e] of entries.entries()) {
    const where = `Bundle.entry[${i}]`;
    const method = e.request?.method?.toUpperCase();
    const url = e.request?.url?.replace(/^\//, '');
    if (!method || !url) throw badRequest('Every entry needs request.method and request.url', `${where}.request`);
    const [path, qs] = url.split('?', 2);
    const sub: FhirRequest = { method: method as FhirRequest['method'], path, query: qs ? [...new URLSearchParams(qs).entries()] : [], headers: { ifMatch: e.request?.ifMatch }, body: e.resource };
    const parts = path.split('/').filter(Boolean);
    try {
      if (parts.length === 0) throw badRequest('Nested bundles are not accepted');
      if (method === 'GET' || method === 'HEAD') {
        await authorizeRequest(sub, ctx);
        continue;
      }
      if (method === 'DELETE') throw notAllowed(NO_DELETE);
      if (method === 'PATCH') throw notAllowed('PATCH is not offered by the directory; send the whole resource with PUT');
      if (method === 'POST' && parts.length === 1) {
        requireDirectoryType(parts[0]);
        const body = bodyOf(sub, parts[0]);
        if (e.fullUrl) index.byFullUrl.set(e.fullUrl, body);
        writes.push({ i, type: parts[0] });
        continue;
      }
      if (method === 'PUT' && (parts.length === 2 || (parts.length === 1 && sub.query.length > 0))) {
        const resolved = await resolveUpdate(sub, ctx);
        e.request!.url = resolved.path;
        e.resource = resolved.body as Resource;
        index.byKey.set(resolved.path, e.resource);
        if (e.fullUrl) index.byFullUrl.set(e.fullUrl, e.resource);
        index.byFullUrl.set(`${ctx.base}/${resolved.path}`, e.resource);
        writes.push({ i, type: parts[0] });
        continue;
      }
      throw notAllowed(`${method} is not allowed on '${path}'`);
    } catch (err) {
      throw inEntry(err, i);
    }
  }
  // 2. Ownership of every written entry, with references inside the bundle resolved.
  for (const { i, type } of writes) {
    try {
      await checkOwnership(entries[i].resource!, ctx, index, type, `Bundle.entry[${i}].resource`);
    } catch (err) {
      throw inEntry(err, i);
    }
  }
  return { ...req, body: { ...bundle, entry: entries } };
}

function inEntry(err: unknown, i: number): unknown {
  if (!(err instanceof FhirError)) return err;
  return new FhirError(
    err.status,
    err.issues.map((x) => ({ ...x, diagnostics: `Bundle.entry[${i}]: ${x.diagnostics}`, expression: x.expression ?? [`Bundle.entry[${i}]`] })),
  );
}
