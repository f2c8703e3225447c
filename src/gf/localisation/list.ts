/**
 * The nl-gf-localization-list profile as code: validation of incoming Lists (every failure names its
 * element), the plain-BSN guard, and the List the NVI hands out (built from the stored columns, so nothing
 * else a client sent is ever kept or echoed — in particular no subject identifier value).
 */
import type { Bundle, List } from 'fhir/r4';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import { BSN_SYSTEM, URA_SYSTEM, isValidBsn } from '../pseudonym/identifier.ts';
import { CATEGORY_BY_CODE, DATA_CATEGORY_SYSTEM, ZORGCONTEXT_CODES } from './categories.ts';

const GF = 'http://minvws.github.io/generiekefuncties-docs';
export const LOCALIZATION_LIST_PROFILE = `${GF}/StructureDefinition/nl-gf-localization-list`;
export const CUSTODIAN_EXTENSION = `${GF}/StructureDefinition/nl-gf-localization-custodian`;
export const NVI_IDENTIFIER_SYSTEM = `${GF}/NamingSystem/nvi-identifier`;
export const OAUTH_CLIENT_ID_SYSTEM = `${GF}/NamingSystem/oauth-client-id`;
export const LIST_EMPTY_REASON = 'http://terminology.hl7.org/CodeSystem/list-empty-reason';

/** What a valid registration carries before the subject identifier is opened. */
export interface ListRegistration {
  nviIdentifier: string;
  category: string;
  custodian: string;
  source: string;
}

export interface StoredEntry {
  id: string;
  category: string;
  custodian: string;
  source: string;
  lastUpdated: string;
}

/**
 * Throws 400 with the path of anything that looks like a plain BSN: an identifier with the BSN system, or a
 * 9-digit run passing the eleven-test in any string (the opaque NVI identifier value excepted — it is decoded
 * and checked separately).
 */
export function rejectPlainBsn(value: unknown, path: string, skip?: (path: string) => boolean): void {
  if (skip?.(path)) return;
  if (typeof value === 'string') {
    if (value === BSN_SYSTEM) throw badRequest('A plain BSN identifier (system http://fhir.nl/fhir/NamingSystem/bsn) is not allowed in the localisation index; use the NVI pseudonym', path);
    for (const m of value.matchAll(/(?<!\d)\d{9}(?!\d)/g)) {
      if (isValidBsn(m[0])) throw badRequest('A value that looks like a plain BSN (9 digits passing the eleven-test) is not allowed in the localisation index', path);
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => rejectPlainBsn(v, `${path}[${i}]`, skip));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) rejectPlainBsn(v, `${path}.${k}`, skip);
}

export function validateList(input: unknown, at = 'List'): ListRegistration {
  if (!input || typeof input !== 'object' || (input as { resourceType?: unknown }).resourceType !== 'List') throw badRequest('The body must be a List resource', at);
  const list = input as List & Record<string, unknown>;
  rejectPlainBsn(list, at, (p) => p === `${at}.subject.identifier.value`);
  if (list.status !== 'current') throw badRequest("List.status must be 'current'", `${at}.status`);
  if (list.mode !== 'working') throw badRequest("List.mode must be 'working'", `${at}.mode`);
  for (const forbidden of ['entry', 'identifier', 'title', 'note'] as const) {
    if (list[forbidden] !== undefined) throw badRequest(`List.${forbidden} is not allowed in a localisation record (0..0)`, `${at}.${forbidden}`);
  }
  const codings = (list.code?.coding ?? []).filter((c) => c.system === DATA_CATEGORY_SYSTEM);
  if (codings.length !== 1 || !codings[0].code) throw badRequest(`List.code must carry exactly one code from ${DATA_CATEGORY_SYSTEM}`, `${at}.code`);
  const category = codings[0].code;
  if (!ZORGCONTEXT_CODES.has(category)) throw badRequest(`List.code '${category}' is not in the nl-gf-zorgcontext-vs ValueSet`, `${at}.code`);
  if (list.subject?.reference !== undefined) throw badRequest('List.subject.reference is not allowed; use subject.identifier with the NVI identifier', `${at}.subject.reference`);
  const sid = list.subject?.identifier;
  if (sid?.system !== NVI_IDENTIFIER_SYSTEM) throw badRequest(`List.subject.identifier.system must be ${NVI_IDENTIFIER_SYSTEM}`, `${at}.subject.identifier.system`);
  if (typeof sid.value !== 'string' || sid.value.length === 0 || sid.value.length > 16384) throw badRequest('List.subject.identifier.value must carry the NVI identifier', `${at}.subject.identifier.value`);
  const custodians = (list.extension ?? []).map((e, i) => ({ e, i })).filter(({ e }) => e.url === CUSTODIAN_EXTENSION);
  if (custodians.length !== 1) throw badRequest(`List needs exactly one ${CUSTODIAN_EXTENSION} extension`, `${at}.extension`);
  const { e: cust, i: ci } = custodians[0];
  const cpath = `${at}.extension[${ci}].valueReference`;
  if (cust.valueReference?.reference !== undefined) throw badRequest('The custodian is identified by URA only (valueReference.reference 0..0)', `${cpath}.reference`);
  if (cust.valueReference?.identifier?.system !== URA_SYSTEM) throw badRequest(`The custodian identifier system must be ${URA_SYSTEM}`, `${cpath}.identifier.system`);
  const custodian = cust.valueReference.identifier.value;
  if (typeof custodian !== 'string' || !/^\d{8}$/.test(custodian)) throw badRequest('The custodian URA must be 8 digits', `${cpath}.identifier.value`);
  if (list.source?.identifier?.system !== OAUTH_CLIENT_ID_SYSTEM) throw badRequest(`List.source.identifier.system must be ${OAUTH_CLIENT_ID_SYSTEM}`, `${at}.source.identifier.system`);
  const source = list.source.identifier.value;
  if (typeof source !== 'string' || source.length === 0 || source.length > 200) throw badRequest('List.source.identifier.value must be the OAuth client id of the registering installation', `${at}.source.identifier.value`);
  const er = list.emptyReason?.coding ?? [];
  if (!er.some((c) => c.system === LIST_EMPTY_REASON && c.code === 'withheld')) throw badRequest(`List.emptyReason must be ${LIST_EMPTY_REASON}#withheld`, `${at}.emptyReason`);
  return { nviIdentifier: sid.value, category, custodian, source };
}

/** The List as the NVI shows it: no subject identifier value (guide: responses do not carry the pseudonym). */
export function toList(e: StoredEntry): List {
  return {
    resourceType: 'List',
    id: e.id,
    meta: { versionId: '1', lastUpdated: e.lastUpdated, profile: [LOCALIZATION_LIST_PROFILE] },
    extension: [{ url: CUSTODIAN_EXTENSION, valueReference: { identifier: { system: URA_SYSTEM, value: e.custodian } } }],
    status: 'current',
    mode: 'working',
    code: { coding: [{ system: DATA_CATEGORY_SYSTEM, code: e.category, display: CATEGORY_BY_CODE.get(e.category)?.display }] },
    subject: { identifier: { system: NVI_IDENTIFIER_SYSTEM } },
    source: { identifier: { system: OAUTH_CLIENT_ID_SYSTEM, value: e.source }, type: 'Device' },
    emptyReason: { coding: [{ system: LIST_EMPTY_REASON, code: 'withheld' }] },
  };
}

/** A registration List as a localisation client builds it. */
export function buildList(r: ListRegistration): List {
  return {
    resourceType: 'List',
    extension: [{ url: CUSTODIAN_EXTENSION, valueReference: { identifier: { system: URA_SYSTEM, value: r.custodian } } }],
    status: 'current',
    mode: 'working',
    code: { coding: [{ system: DATA_CATEGORY_SYSTEM, code: r.category, display: CATEGORY_BY_CODE.get(r.category)?.display }] },
    subject: { identifier: { system: NVI_IDENTIFIER_SYSTEM, value: r.nviIdentifier } },
    source: { identifier: { system: OAUTH_CLIENT_ID_SYSTEM, value: r.source }, type: 'Device' },
    emptyReason: { coding: [{ system: LIST_EMPTY_REASON, code: 'withheld' }] },
  };
}

export function transactionOf(entries: Bundle['entry']): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

export const methodNotAllowed = (what: string) => FhirError.of(405, 'not-supported', `${what} is not supported by the localisation index: records are created and deleted, never updated`);
