/**
 * The FHIR core is independent of HTTP: a FhirRequest goes in, a FhirResponse comes out. The HTTP layer
 * and batch/transaction bundles (whose entries are requests too) both go through the same dispatcher.
 */
import type { Resource } from 'fhir/r4';
import type { StoredVersion } from '../storage/resource-store.ts';

export interface FhirRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the tenant's FHIR base, without leading slash: '', 'Patient', 'Patient/1/_history/2'. */
  path: string;
  query: [string, string][];
  headers: {
    ifMatch?: string;
    ifNoneMatch?: string;
    ifNoneExist?: string;
    ifModifiedSince?: string;
    prefer?: string;
  };
  /** Parsed body: a resource, or a JSON Patch array. */
  body?: unknown;
  bodyKind?: 'resource' | 'json-patch';
}

/** Stored JSON text passed through without a parse/serialise round trip. */
export interface RawJson {
  raw: string;
}

export interface FhirResponse {
  status: number;
  headers: Record<string, string>;
  body?: Resource | RawJson;
}

/** Who is asking and within which boundaries; built by the HTTP layer before dispatch. */
export interface RequestScope {
  tenant: string;
  /** Absolute FHIR base of the tenant, e.g. http://127.0.0.1:8080/fhir/gp1 */
  base: string;
  /** Patient context (MedMij-style token): every result is restricted to this patient's compartment. */
  compartment?: { type: 'Patient'; id: string };
  /** Prefer: handling=strict (unknown search parameters are an error). */
  strict: boolean;
  /**
   * Current versions already read in this request, by `Type/id`, handed to the next read of the same resource
   * once (then dropped). The enforcement point reads the Patient for its BSN before dispatching; a
   * `GET Patient/{id}` then answers the very version that was authorised instead of reading it again. Every
   * check of the read (compartment, conditional headers) still runs. Absent = every read goes to the store.
   */
  readAhead?: Map<string, StoredVersion>;
}

export const isRaw = (b: FhirResponse['body']): b is RawJson => typeof b === 'object' && b !== null && 'raw' in b;
