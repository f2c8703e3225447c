/**
 * Endpoint choice: which of an organisation's endpoints to call for a need (a payload type such as a GF data
 * category, over FHIR REST, in FHIR 4.0.x). Pure: the directory content comes in, a decision with its
 * reasons comes out, so every rule is unit-tested and every refusal can be explained to the user.
 *
 * Rules, in order:
 *  1. The organisation is found by URA (either URA system) or by id; an inactive organisation has no usable endpoint.
 *  2. Candidates: the Endpoints the Organization refers to (`Organization.endpoint`, what it *uses*), then
 *     Endpoints it manages (`Endpoint.managingOrganization`) that it does not list.
 *  3. Usable = status `active`; `period` current at `at` (partial dates cover their whole day/month/year, UTC);
 *     connectionType `hl7-fhir-rest`; an `address`; payloadType matching the need (same code, and same system
 *     when the need names one) or the wildcard `endpoint-payload-type#any`; FHIR version: when the endpoint
 *     declares one (extension `endpoint-fhir-version`, a `fhirVersion` header, or a `fhirVersion=` MIME
 *     parameter) its major.minor must equal the need's; an endpoint that declares none is assumed compatible.
 *  4. Ranking among usable endpoints: exact payloadType before `any`; declared version before undeclared;
 *     later period.start first; then id (deterministic).
 *  5. Nothing usable: the same for the parent organisation (`partOf`), up the chain (cycle-safe, 5 levels).
 */
import type { Coding, Endpoint, Organization, Reference } from 'fhir/r4';
import { CONNECTION_TYPE_SYSTEM, DATA_CATEGORY_SYSTEM, ENDPOINT_FHIR_VERSION_EXT, HL7_FHIR_REST, PAYLOAD_TYPE_SYSTEM, URA_SYSTEMS } from './constants.ts';

export interface EndpointNeed {
  /** A GF data category code ('MedicationUse'), or a full coding. */
  payloadType: string | Coding;
  /** Default 4.0.1. */
  fhirVersion?: string;
  /** Default hl7-fhir-rest. */
  connectionType?: string;
  /** Moment the endpoint must be valid at; default now. */
  at?: Date;
}

/** The part of the directory the choice looks at (e.g. from the local replica). */
export interface DirectoryView {
  organizations: Organization[];
  endpoints: Endpoint[];
}

export interface ConsideredEndpoint {
  endpoint: string;
  organization: string;
  problems: string[];
}

export interface EndpointChoice {
  endpoint?: Endpoint;
  /** The organisation whose endpoint was chosen: the one asked for, or an ancestor. */
  organization?: Organization;
  via?: 'organization' | 'parent';
  /** Every candidate looked at, with why it was not usable (empty problems = usable). */
  considered: ConsideredEndpoint[];
  /** Why nothing was chosen, when nothing was. */
  reason?: string;
}

const MAX_LEVELS = 5;

const idOf = (ref: Reference | undefined, type: string): string | undefined => {
  const m = ref?.reference ? new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`).exec(ref.reference) : null;
  return m?.[1];
};

export const majorMinor = (v: string): string => {
  const t = v.trim().toUpperCase();
  if (t === 'R4') return '4.0';
  if (t === 'R4B') return '4.3';
  if (t === 'R5') return '5.0';
  return t.split('.').slice(0, 2).join('.');
};

/** FHIR versions an endpoint declares, from the extension, its headers and its MIME types. */
export function declaredFhirVersions(e: Endpoint): string[] {
  const out: string[] = [];
  for (const x of e.extension ?? []) if (x.url === ENDPOINT_FHIR_VERSION_EXT && x.valueCode) out.push(x.valueCode);
  for (const h of e.header ?? []) {
    const m = /^\s*fhir-?version\s*[:=]\s*([^\s;,]+)/i.exec(h);
    if (m) out.push(m[1]);
  }
  for (const mt of e.payloadMimeType ?? []) {
    const m = /;\s*fhirVersion\s*=\s*"?([^\s;"]+)/i.exec(mt);
    if (m) out.push(m[1]);
  }
  return out;
}

const UNIT_END: Record<number, (d: Date) => Date> = {
  4: (d) => new Date(Date.UTC(d.getUTCFullYear() + 1, 0, 1)),
  7: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)),
  10: (d) => new Date(d.getTime() + 86_400_000),
};

/** Bounds of a (possibly partial) FHIR dateTime: [start of its precision, start of the next unit). */
export function instantBounds(value: string): { from: Date; until: Date } | undefined {
  const v = value.trim();
  const partial = /^\d{4}(-\d{2}(-\d{2})?)?$/.test(v);
  const from = new Date(partial ? (v.length === 4 ? `${v}-01-01T00:00:00Z` : v.length === 7 ? `${v}-01T00:00:00Z` : `${v}T00:00:00Z`) : v);
  if (Number.isNaN(from.getTime())) return undefined;
  return { from, until: partial ? UNIT_END[v.length](from) : from };
}

function periodProblem(e: Endpoint, at: Date): string | undefined {
  if (e.period?.start) {
    const b = instantBounds(e.period.start);
    if (!b) return `period.start '${e.period.start}' is not a date`;
    if (at < b.from) return `not yet valid (period.start ${e.period.start})`;
  }
  if (e.period?.end) {
    const b = instantBounds(e.period.end);
    if (!b) return `period.end '${e.period.end}' is not a date`;
    // An end given as a date includes that whole day; a full dateTime is the last valid instant.
    const ended = b.until.getTime() === b.from.getTime() ? at > b.from : at >= b.until;
    if (ended) return `no longer valid (period.end ${e.period.end})`;
  }
  return undefined;
}

function payloadRank(e: Endpoint, need: Coding): number {
  let rank = 0;
  for (const cc of e.payloadType ?? []) {
    for (const c of cc.coding ?? []) {
      if (c.code === need.code && (!need.system || c.system === need.system)) return 2;
      if (c.system === PAYLOAD_TYPE_SYSTEM && c.code === 'any') rank = 1;
    }
  }
  return rank;
}

interface Assessed {
  endpoint: Endpoint;
  problems: string[];
  payload: number;
  versionDeclared: boolean;
}

function assess(e: Endpoint, need: Required<Omit<EndpointNeed, 'payloadType'>> & { payloadType: Coding }): Assessed {
  const problems: string[] = [];
  if (e.status !== 'active') problems.push(`status is '${e.status}'`);
  const p = periodProblem(e, need.at);
  if (p) problems.push(p);
  const ct = e.connectionType;
  if (ct?.code !== need.connectionType || (ct.system && ct.system !== CONNECTION_TYPE_SYSTEM)) problems.push(`connectionType is '${ct?.code}', not '${need.connectionType}'`);
  if (!e.address) problems.push('no address');
  const payload = payloadRank(e, need.payloadType);
  if (payload === 0) problems.push(`payloadType does not offer '${need.payloadType.code}'`);
  const versions = declaredFhirVersions(e);
  if (versions.length > 0 && !versions.some((v) => majorMinor(v) === majorMinor(need.fhirVersion))) {
    problems.push(`speaks FHIR ${versions.join('/')}, not ${need.fhirVersion}`);
  }
  return { endpoint: e, problems, payload, versionDeclared: versions.length > 0 };
}

export function findOrganization(view: DirectoryView, who: { ura: string } | { id: string }): Organization | undefined {
  if ('id' in who) return view.organizations.find((o) => o.id === who.id);
  const matches = view.organizations.filter((o) => (o.identifier ?? []).some((i) => i.system && URA_SYSTEMS.includes(i.system) && i.value === who.ura));
  return matches.find((o) => o.active !== false) ?? matches[0];
}

function candidates(view: DirectoryView, org: Organization): Endpoint[] {
  const byId = new Map(view.endpoints.filter((e) => e.id).map((e) => [e.id!, e]));
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  for (const ref of org.endpoint ?? []) {
    const id = idOf(ref, 'Endpoint');
    const e = id ? byId.get(id) : undefined;
    if (e && !seen.has(e.id!)) {
      seen.add(e.id!);
      out.push(e);
    }
  }
  for (const e of view.endpoints) {
    if (!seen.has(e.id!) && org.id && idOf(e.managingOrganization, 'Organization') === org.id) {
      seen.add(e.id!);
      out.push(e);
    }
  }
  return out;
}

export function chooseEndpoint(view: DirectoryView, who: { ura: string } | { id: string }, needIn: EndpointNeed): EndpointChoice {
  const need = {
    payloadType: typeof needIn.payloadType === 'string' ? { system: DATA_CATEGORY_SYSTEM, code: needIn.payloadType } : needIn.payloadType,
    fhirVersion: needIn.fhirVersion ?? '4.0.1',
    connectionType: needIn.connectionType ?? HL7_FHIR_REST,
    at: needIn.at ?? new Date(),
  };
  const considered: ConsideredEndpoint[] = [];
  let org = findOrganization(view, who);
  if (!org) return { considered, reason: `No organisation ${'ura' in who ? `with URA ${who.ura}` : `Organization/${who.id}`} in the directory` };
  if (org.active === false) return { considered, organization: org, reason: `Organization/${org.id} is inactive` };
  const visited = new Set<string>();
  for (let level = 0; org && level <= MAX_LEVELS; level++) {
    if (org.id) {
      if (visited.has(org.id)) break;
      visited.add(org.id);
    }
    const assessed = candidates(view, org).map((e) => assess(e, need));
    for (const a of assessed) considered.push({ endpoint: `Endpoint/${a.endpoint.id}`, organization: `Organization/${org.id}`, problems: a.problems });
    const usable = assessed.filter((a) => a.problems.length === 0);
    if (usable.length > 0) {
      usable.sort(
        (a, b) =>
          b.payload - a.payload ||
          Number(b.versionDeclared) - Number(a.versionDeclared) ||
          (b.endpoint.period?.start ?? '').localeCompare(a.endpoint.period?.start ?? '') ||
          (a.endpoint.id ?? '').localeCompare(b.endpoint.id ?? ''),
      );
      return { endpoint: usable[0].endpoint, organization: org, via: level === 0 ? 'organization' : 'parent', considered };
    }
    const parentId = idOf(org.partOf, 'Organization');
    const parent: Organization | undefined = parentId ? view.organizations.find((o) => o.id === parentId) : undefined;
    if (parent?.active === false) break;
    org = parent;
  }
  return {
    considered,
    reason: considered.length === 0 ? 'The organisation (and its parents) publish no endpoints' : `No usable endpoint for '${need.payloadType.code}' (FHIR ${need.fhirVersion})`,
  };
}
