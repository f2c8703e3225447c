/**
 * RFC 9497 OPRF, mode OPRF (0x00), suite ristretto255-SHA512 — thin wrappers over @noble/curves.
 * Blind / BlindEvaluate / Finalize follow the RFC; `unblind` is the step the generic-functions guide uses
 * at the recipient: it holds the blind factor and the evaluated element but not the input, so its stable
 * pseudonym is the unblinded element N = skS · HashToGroup(input) (the reference NVI does the same).
 * Scalars are 32 bytes little-endian (SerializeScalar), elements 32-byte ristretto255 encodings.
 */
import { ristretto255, ristretto255_hasher, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';

const { Point } = ristretto255;
const Fn = Point.Fn;
const enc = new TextEncoder();
/** contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier */
const CONTEXT = new Uint8Array([...enc.encode('OPRFV1-'), 0x00, ...enc.encode('-ristretto255-SHA512')]);
const HASH_TO_GROUP_DST = new Uint8Array([...enc.encode('HashToGroup-'), ...CONTEXT]);

export const OPRF_SUITE = 'ristretto255-SHA512';

export class OprfInputError extends Error {}

/** A random non-zero scalar (RFC 9497 §2.1 RandomScalar), serialized little-endian. */
export function randomScalar(): Uint8Array {
  for (;;) {
    // 64 uniform bytes reduced mod the group order: bias below 2^-250.
    const wide = randomBytes(64);
    let x = 0n;
    for (let i = wide.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(wide[i]);
    const s = Fn.create(x);
    if (s !== 0n) return Fn.toBytes(s);
  }
}

/** Client: Blind(input) with a given blind scalar (tests use the RFC's fixed blind). */
export function blindWithScalar(input: Uint8Array, blind: Uint8Array): Uint8Array {
  const r = Fn.fromBytes(blind);
  if (r === 0n) throw new OprfInputError('blind scalar is zero');
  const p = ristretto255_hasher.hashToCurve(input, { DST: HASH_TO_GROUP_DST }) as InstanceType<typeof Point>;
  if (p.equals(Point.ZERO)) throw new OprfInputError('input hashes to the identity element');
  return p.multiply(r).toBytes();
}

/** Client: Blind(input) → { blind (kept), blinded (sent) }. */
export function blind(input: Uint8Array): { blind: Uint8Array; blinded: Uint8Array } {
  const b = randomScalar();
  return { blind: b, blinded: blindWithScalar(input, b) };
}

/** Decodes a wire element; rejects non-canonical encodings and the identity (RFC 9497 §3.3.1 DeserializeElement). */
export function decodeElement(bytes: Uint8Array): InstanceType<typeof Point> {
  if (bytes.length !== 32) throw new OprfInputError(`an element is 32 bytes, got ${bytes.length}`);
  let p: InstanceType<typeof Point>;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new OprfInputError('not a valid ristretto255 element');
  }
  if (p.equals(Point.ZERO)) throw new OprfInputError('the identity element is not allowed');
  return p;
}

/** Server: BlindEvaluate(skS, blindedElement). */
export function blindEvaluate(secretKey: Uint8Array, blinded: Uint8Array): Uint8Array {
  decodeElement(blinded);
  return ristretto255_oprf.oprf.blindEvaluate(secretKey, blinded);
}

/** Client (full RFC): Finalize(input, blind, evaluatedElement) → 64-byte output. */
export function finalize(input: Uint8Array, blindScalar: Uint8Array, evaluated: Uint8Array): Uint8Array {
  decodeElement(evaluated);
  return ristretto255_oprf.oprf.finalize(input, blindScalar, evaluated);
}

/** Recipient: N = blind⁻¹ · evaluatedElement (the unblinded element, without the input-bound hash). */
export function unblind(blindScalar: Uint8Array, evaluated: Uint8Array): Uint8Array {
  if (blindScalar.length !== 32) throw new OprfInputError(`a blind factor is 32 bytes, got ${blindScalar.length}`);
  const r = Fn.fromBytes(blindScalar);
  if (r === 0n) throw new OprfInputError('blind factor is zero');
  return decodeElement(evaluated).multiply(Fn.inv(r)).toBytes();
}

/** Server: DeriveKeyPair(seed, info) (RFC 9497 §3.2.1); the secret key as a serialized scalar. */
export function deriveSecretKey(seed: Uint8Array, info: Uint8Array): Uint8Array {
  return ristretto255_oprf.oprf.deriveKeyPair(seed, info).secretKey;
}

/** Non-interactive evaluation with the key: N = skS · HashToGroup(input) (what `unblind` yields). */
export function directElement(secretKey: Uint8Array, input: Uint8Array): Uint8Array {
  const p = ristretto255_hasher.hashToCurve(input, { DST: HASH_TO_GROUP_DST }) as InstanceType<typeof Point>;
  return p.multiply(Fn.fromBytes(secretKey)).toBytes();
}

export const b64u = {
  encode: (b: Uint8Array): string => Buffer.from(b).toString('base64url'),
  /** Strict base64url (padding tolerated, as Python's urlsafe_b64encode emits it). */
  decode: (s: string): Uint8Array | undefined => {
    const t = s.replace(/=+$/, '');
    if (!/^[A-Za-z0-9_-]*$/.test(t)) return undefined;
    return new Uint8Array(Buffer.from(t, 'base64url'));
  },
};
