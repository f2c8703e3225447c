/** RFC 9497 test vectors (ristretto255-SHA512, mode OPRF, Appendix A.1.1) and the guide's HKDF/JCS step. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { bsnIdentifier, canonicalIdentifier, hkdfInput, isValidBsn } from '../../../src/gf/pseudonym/identifier.ts';
import { b64u, blind, blindEvaluate, blindWithScalar, decodeElement, deriveSecretKey, directElement, finalize, unblind } from '../../../src/gf/pseudonym/oprf.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// RFC 9497 A.1.1: Seed = a3 × 32, KeyInfo = "test key".
const SEED = new Uint8Array(32).fill(0xa3);
const KEY_INFO = hex('74657374206b6579');
const SK = '5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e';
const BLIND = '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706';

test('RFC 9497 A.1.1: DeriveKeyPair gives skSm', () => {
  assert.equal(toHex(deriveSecretKey(SEED, KEY_INFO)), SK);
});

test('RFC 9497 A.1.1 test vector 1: blind, evaluate, finalize', () => {
  const input = hex('00');
  const blinded = blindWithScalar(input, hex(BLIND));
  assert.equal(toHex(blinded), '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c');
  const evaluated = blindEvaluate(hex(SK), blinded);
  assert.equal(toHex(evaluated), '7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e');
  assert.equal(
    toHex(finalize(input, hex(BLIND), evaluated)),
    '527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6',
  );
});

test('unblind with random blinds equals the direct (unblinded) computation k·H(x)', () => {
  const sk = deriveSecretKey(new Uint8Array(32).fill(7), new TextEncoder().encode('ura:90000901|nationale-verwijsindex'));
  const x = new TextEncoder().encode('some input');
  const a = blind(x);
  const b = blind(x);
  assert.notEqual(toHex(a.blinded), toHex(b.blinded), 'two blindings of one input look unrelated to the server');
  const na = unblind(a.blind, blindEvaluate(sk, a.blinded));
  const nb = unblind(b.blind, blindEvaluate(sk, b.blinded));
  assert.equal(toHex(na), toHex(nb));
  assert.equal(toHex(na), toHex(directElement(sk, x)));
});

test('decodeElement rejects identity, wrong length and non-canonical encodings', () => {
  assert.throws(() => decodeElement(new Uint8Array(32)), /identity/);
  assert.throws(() => decodeElement(new Uint8Array(31)), /32 bytes/);
  assert.throws(() => decodeElement(new Uint8Array(32).fill(0xff)), /not a valid/);
});

test('identifier: RFC 8785 canonical JSON and HKDF-SHA256 with the guide info string', () => {
  const id = { value: '999940003', type: 'BSN', landCode: 'NL' };
  assert.equal(canonicalIdentifier(id), '{"landCode":"NL","type":"BSN","value":"999940003"}');
  // RFC 5869 by hand: PRK = HMAC(salt = 32 zero bytes, IKM); OKM = HMAC(PRK, info || 0x01) (one block).
  const prk = createHmac('sha256', Buffer.alloc(32)).update(canonicalIdentifier(id)).digest();
  const okm = createHmac('sha256', prk).update(Buffer.concat([Buffer.from('ura:90000901|nationale-verwijsindex|v1'), Buffer.from([1])])).digest();
  assert.equal(toHex(hkdfInput(id, { organization: 'ura:90000901', scope: 'nationale-verwijsindex' })), okm.toString('hex'));
  assert.notEqual(toHex(hkdfInput(id, { organization: 'ura:90000901', scope: 'other' })), okm.toString('hex'));
});

test('BSN eleven-test and base64url helpers', () => {
  assert.equal(isValidBsn('999911120'), true);
  assert.equal(isValidBsn('999911121'), false);
  assert.equal(isValidBsn('12345678'), false);
  assert.deepEqual(bsnIdentifier('1'), { landCode: 'NL', type: 'BSN', value: '1' });
  assert.equal(b64u.decode('a+b'), undefined);
  assert.deepEqual(b64u.decode('AQI='), new Uint8Array([1, 2]));
});
