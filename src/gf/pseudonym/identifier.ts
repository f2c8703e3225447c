/**
 * The person identifier the generic-functions guide pseudonymises, its RFC 8785 (JCS) canonical form and the
 * recipient-scoped HKDF step. The plain value never leaves the caller: only the HKDF output is blinded.
 */
import { hkdfSync } from 'node:crypto';
import canonicalize from 'canonicalize';

export interface PersonIdentifier {
  landCode: string;
  type: string;
  value: string;
}

export interface Recipient {
  /** e.g. `ura:90000901` */
  organization: string;
  /** e.g. `nationale-verwijsindex` */
  scope: string;
}

export const bsnIdentifier = (bsn: string): PersonIdentifier => ({ landCode: 'NL', type: 'BSN', value: bsn });

/** RFC 8785 canonical JSON of the identifier (keys sorted, no whitespace). */
export function canonicalIdentifier(id: PersonIdentifier): string {
  const out = canonicalize({ landCode: id.landCode, type: id.type, value: id.value });
  if (out === undefined) throw new Error('identifier cannot be canonicalised');
  return out;
}

/** HKDF-SHA256, no salt, length 32, info `"{recipient_organization}|{recipient_scope}|v1"`, IKM = UTF-8 JCS JSON. */
export function hkdfInput(id: PersonIdentifier, recipient: Recipient): Uint8Array {
  const info = `${recipient.organization}|${recipient.scope}|v1`;
  return new Uint8Array(hkdfSync('sha256', Buffer.from(canonicalIdentifier(id), 'utf8'), Buffer.alloc(0), Buffer.from(info, 'utf8'), 32));
}

/** BSN eleven-test (elfproef): 9 digits, Σ d_i·w_i with weights 9..2 and −1 for the last digit ≡ 0 (mod 11). */
export function isValidBsn(s: string): boolean {
  if (!/^\d{9}$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(s[i]) * (9 - i);
  sum -= Number(s[8]);
  return sum % 11 === 0 && s !== '000000000';
}

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const URA_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/ura';
