/**
 * Publisher (ITI-130 Data Source): builds an organisation's own directory entries — Organization (URA, AGB,
 * organisation type), departments, Endpoint(s), Location(s), HealthcareService(s), each with its nl-gf profile
 * in meta.profile — and publishes them to the directory as ONE transaction.
 *
 * Idempotent: every entry is a conditional update by identifier (the Organization by its URA, the others by
 * their custodian-assigned identifier `{identifierBase}/{Type}|{key}`), so publishing again updates the
 * same entries instead of creating new ones. Entries refer to each other through the bundle's urn:uuid
 * fullUrls; the directory resolves them. Retiring an entry = publishing it with a status change
 * (Endpoint `status: 'off'`, `active: false`), never a delete.
 */
import { randomUUID } from 'node:crypto';
import type {
  Address,
  Bundle,
  BundleEntry,
  CodeableConcept,
  Coding,
  ContactPoint,
  Endpoint,
  HealthcareService,
  Identifier,
  Location,
  Organization,
  Period,
  Resource,
} from 'fhir/r4';
import {
  AGB_SYSTEM,
  CONNECTION_TYPE_SYSTEM,
  DATA_CATEGORY_SYSTEM,
  ENDPOINT_FHIR_VERSION_EXT,
  GF_PROFILE,
  HL7_FHIR_REST,
  ORGANIZATION_TYPE_SYSTEM,
  PROVENANCE_PARTICIPANT_TYPE,
  URA_SYSTEM,
} from './constants.ts';
import { fhirOk, type HttpOptions } from './http.ts';

export interface EndpointSpec {
  /** Stable local key: the custodian-assigned identifier value. */
  key: string;
  name?: string;
  /** Default: the organisation's FHIR base. */
  address?: string;
  /** Data categories (GF codes, e.g. 'MedicationUse') or full codings (e.g. endpoint-payload-type#any). */
  payloadTypes: (string | Coding)[];
  status?: Endpoint['status'];
  period?: Period;
  /** Declared with the endpoint-fhir-version extension; default 4.0.1. */
  fhirVersion?: string;
  mimeTypes?: string[];
}

export interface LocationSpec {
  key: string;
  name: string;
  status?: Location['status'];
  type?: CodeableConcept[];
  address?: Address;
  telecom?: ContactPoint[];
}

export interface DepartmentSpec {
  key: string;
  name: string;
  type?: CodeableConcept[];
  active?: boolean;
}

export interface ServiceSpec {
  key: string;
  name: string;
  type: CodeableConcept[];
  specialty?: CodeableConcept[];
  active?: boolean;
  /** Department key that provides the service; default the organisation itself. */
  department?: string;
  locations?: string[];
  endpoints?: string[];
}

export interface OrganisationEntries {
  ura: string;
  agb?: string;
  name: string;
  /** Code from RoleCodeNL zorgaanbiedertype (`organization-type`), e.g. Z3 (huisartspraktijk). */
  organizationType?: { code: string; display?: string };
  active?: boolean;
  /** The node's FHIR base for this organisation: default Endpoint.address. */
  fhirBase: string;
  /** Namespace of the custodian-assigned identifiers; default fhirBase. Keep it stable across moves. */
  identifierBase?: string;
  telecom?: ContactPoint[];
  address?: Address[];
  /** Default: one active FHIR endpoint at fhirBase with payloadType endpoint-payload-type#any. */
  endpoints?: EndpointSpec[];
  locations?: LocationSpec[];
  departments?: DepartmentSpec[];
  services?: ServiceSpec[];
}

const profile = (p: string) => ({ profile: [p] });

function assigned(ura: string, system: string, value: string): Identifier {
  return {
    use: 'official',
    system,
    value,
    assigner: {
      identifier: {
        type: { coding: [{ system: PROVENANCE_PARTICIPANT_TYPE, code: 'custodian' }] },
        system: URA_SYSTEM,
        value: ura,
      },
    },
  };
}

const q = (system: string, value: string) => `identifier=${encodeURIComponent(system)}|${encodeURIComponent(value)}`;

export function payloadCoding(p: string | Coding): Coding {
  return typeof p === 'string' ? { system: DATA_CATEGORY_SYSTEM, code: p } : p;
}

/** The transaction that (re)publishes the organisation's entries. Pure: same input, same entries. */
export function buildDirectoryBundle(o: OrganisationEntries): Bundle {
  if (!/^\d{8}$/.test(o.ura)) throw new Error(`URA '${o.ura}' is invalid: a URA is 8 digits`);
  const idBase = (o.identifierBase ?? o.fhirBase).replace(/\/+$/, '');
  const sys = (type: string) => `${idBase}/${type}`;
  const entries: BundleEntry[] = [];
  const urn = new Map<string, string>();
  const fullUrl = (type: string, key: string) => {
    const k = `${type}/${key}`;
    if (!urn.has(k)) urn.set(k, `urn:uuid:${randomUUID()}`);
    return urn.get(k)!;
  };
  const ref = (type: string, key: string, display?: string) => ({ reference: fullUrl(type, key), type, ...(display ? { display } : {}) });
  const put = (type: string, key: string, url: string, resource: Resource) => entries.push({ fullUrl: fullUrl(type, key), resource, request: { method: 'PUT', url } });

  const endpoints: EndpointSpec[] = o.endpoints ?? [{ key: 'fhir', payloadTypes: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] }];
  const orgKey = 'self';
  const orgRef = ref('Organization', orgKey, o.name);

  const organization: Organization = {
    resourceType: 'Organization',
    meta: profile(GF_PROFILE.Organization),
    identifier: [
      { use: 'official', system: URA_SYSTEM, value: o.ura },
      ...(o.agb ? [{ system: AGB_SYSTEM, value: o.agb }] : []),
      assigned(o.ura, sys('Organization'), o.ura),
    ],
    active: o.active ?? true,
    ...(o.organizationType ? { type: [{ coding: [{ system: ORGANIZATION_TYPE_SYSTEM, ...o.organizationType }] }] } : {}),
    name: o.name,
    ...(o.telecom ? { telecom: o.telecom } : {}),
    ...(o.address ? { address: o.address } : {}),
    endpoint: endpoints.map((e) => ref('Endpoint', e.key)),
  };
  put('Organization', orgKey, `Organization?${q(URA_SYSTEM, o.ura)}`, organization);

  for (const d of o.departments ?? []) {
    const dept: Organization = {
      resourceType: 'Organization',
      meta: profile(GF_PROFILE.Organization),
      identifier: [assigned(o.ura, sys('Organization'), d.key)],
      active: d.active ?? true,
      ...(d.type ? { type: d.type } : o.organizationType ? { type: [{ coding: [{ system: ORGANIZATION_TYPE_SYSTEM, ...o.organizationType }] }] } : {}),
      name: d.name,
      partOf: orgRef,
    };
    put('Organization', `dept:${d.key}`, `Organization?${q(sys('Organization'), d.key)}`, dept);
  }

  for (const e of endpoints) {
    const endpoint: Endpoint = {
      resourceType: 'Endpoint',
      meta: profile(GF_PROFILE.Endpoint),
      extension: [{ url: ENDPOINT_FHIR_VERSION_EXT, valueCode: e.fhirVersion ?? '4.0.1' }],
      identifier: [assigned(o.ura, sys('Endpoint'), e.key)],
      status: e.status ?? 'active',
      connectionType: { system: CONNECTION_TYPE_SYSTEM, code: HL7_FHIR_REST },
      name: e.name ?? `FHIR endpoint ${o.name}`,
      managingOrganization: orgRef,
      ...(e.period ? { period: e.period } : {}),
      payloadType: e.payloadTypes.map((p) => ({ coding: [payloadCoding(p)] })),
      payloadMimeType: e.mimeTypes ?? ['application/fhir+json', 'application/fhir+xml'],
      address: e.address ?? o.fhirBase,
    };
    put('Endpoint', e.key, `Endpoint?${q(sys('Endpoint'), e.key)}`, endpoint);
  }

  for (const l of o.locations ?? []) {
    const location: Location = {
      resourceType: 'Location',
      meta: profile(GF_PROFILE.Location),
      identifier: [assigned(o.ura, sys('Location'), l.key)],
      status: l.status ?? 'active',
      name: l.name,
      ...(l.type ? { type: l.type } : {}),
      ...(l.telecom ? { telecom: l.telecom } : {}),
      ...(l.address ? { address: l.address } : {}),
      managingOrganization: orgRef,
    };
    put('Location', l.key, `Location?${q(sys('Location'), l.key)}`, location);
  }

  const deptKeys = new Set((o.departments ?? []).map((d) => d.key));
  const locKeys = new Set((o.locations ?? []).map((l) => l.key));
  const epKeys = new Set(endpoints.map((e) => e.key));
  for (const s of o.services ?? []) {
    if (s.department && !deptKeys.has(s.department)) throw new Error(`Service '${s.key}' names unknown department '${s.department}'`);
    for (const k of s.locations ?? []) if (!locKeys.has(k)) throw new Error(`Service '${s.key}' names unknown location '${k}'`);
    for (const k of s.endpoints ?? []) if (!epKeys.has(k)) throw new Error(`Service '${s.key}' names unknown endpoint '${k}'`);
    const service: HealthcareService = {
      resourceType: 'HealthcareService',
      meta: profile(GF_PROFILE.HealthcareService),
      identifier: [assigned(o.ura, sys('HealthcareService'), s.key)],
      active: s.active ?? true,
      providedBy: s.department ? ref('Organization', `dept:${s.department}`) : orgRef,
      type: s.type,
      ...(s.specialty ? { specialty: s.specialty } : {}),
      name: s.name,
      ...(s.locations?.length ? { location: s.locations.map((k) => ref('Location', k)) } : {}),
      ...(s.endpoints?.length ? { endpoint: s.endpoints.map((k) => ref('Endpoint', k)) } : {}),
    };
    put('HealthcareService', s.key, `HealthcareService?${q(sys('HealthcareService'), s.key)}`, service);
  }

  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

export interface PublishResult {
  /** `Type/id` in the directory per published entry, in bundle order. */
  locations: string[];
  response: Bundle;
}

/** Publishes the organisation's entries to the directory (POST {directoryBase}, a transaction). */
export async function publish(directoryBase: string, entries: OrganisationEntries | Bundle, http: HttpOptions = {}): Promise<PublishResult> {
  const bundle = 'resourceType' in entries ? entries : buildDirectoryBundle(entries);
  const res = await fhirOk(directoryBase.replace(/\/+$/, ''), { method: 'POST', body: bundle }, http);
  const response = res.json as Bundle;
  const locations = (response.entry ?? []).map((e) => {
    const loc = e.response?.location ?? '';
    const m = /([A-Za-z]+\/[A-Za-z0-9\-.]+)\/_history\/[^/]+$/.exec(loc) ?? /([A-Za-z]+\/[A-Za-z0-9\-.]+)$/.exec(loc);
    return m ? m[1] : loc;
  });
  return { locations, response };
}
