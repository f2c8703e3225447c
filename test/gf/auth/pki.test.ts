import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOid, decodeSubjectAltName, encodeOid, encodeSubjectAltName } from '../../../src/gf/auth/der.ts';
import { certificateIdentity, certificateIssuedBy, certificateValidAt, createCa, issueCertificate, parseUziOtherName, publicJwk, uziOtherName, x5tS256 } from '../../../src/gf/auth/pki.ts';
import { testPki } from './helpers.ts';

describe('test PKI', () => {
  it('encodes and decodes OIDs and subjectAltNames', () => {
    for (const oid of ['2.5.5.5', '2.16.528.1.1007.99.2110', '1.3.6.1.5.5.7.3.2', '2.999.1']) assert.equal(decodeOid(encodeOid(oid).subarray(2)), oid);
    const names = [
      { type: 'otherName' as const, oid: '2.5.5.5', value: uziOtherName({ uziSys: '900012345', ura: '12345678', agb: '01234567' }) },
      { type: 'dns' as const, value: 'node.example' },
      { type: 'ip' as const, value: '127.0.0.1' },
    ];
    assert.deepEqual(decodeSubjectAltName(encodeSubjectAltName(names)), names);
    assert.throws(() => encodeOid('2.x'));
  });

  it('parses the UZI otherName', () => {
    assert.deepEqual(parseUziOtherName('2.16.528.1.1007.99.2110-1-900012345-S-12345678-00.000-01234567'), {
      caOid: '2.16.528.1.1007.99.2110',
      version: '1',
      uziNr: '900012345',
      cardType: 'S',
      ura: '12345678',
      role: '00.000',
      agb: '01234567',
    });
    assert.equal(parseUziOtherName('not-a-uzi-string'), undefined);
  });

  it('issues certificates that chain to their CA only, with the URA readable and the JWK matching', async () => {
    const pki = await testPki();
    const other = await createCa({ name: 'Another CA' });
    assert.equal(certificateIssuedBy(pki.a1.certPem, [pki.ca.certPem]), true);
    assert.equal(certificateIssuedBy(pki.a1.certPem, [other.certPem]), false);
    assert.deepEqual(certificateValidAt(pki.a1.certPem, [other.certPem], new Date()), { ok: false, reason: 'certificate not issued by a trusted CA' });
    assert.deepEqual(certificateValidAt(pki.a1.certPem, [pki.ca.certPem], new Date(Date.now() + 400 * 86_400_000)), { ok: false, reason: 'certificate expired' });
    assert.equal(certificateIdentity(pki.a1.certPem).ura, '11111111');
    const jwk = publicJwk(pki.a1.certPem);
    assert.equal(jwk.kid, pki.a1.kid);
    assert.equal(jwk['x5t#S256'], x5tS256(pki.a1.certPem));
    assert.equal((jwk as { d?: string }).d, undefined);
    await assert.rejects(issueCertificate(pki.ca, { ura: '123', name: 'x', uziSys: '1', agb: '1' }), /URA/);
  });
});
