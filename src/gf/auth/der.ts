/**
 * The little DER this module needs: building and reading a subjectAltName extension value with an
 * `otherName` (UZI-style), DNS names and IP addresses. @peculiar/x509 only knows the otherName kinds GUID and UPN,
 * so the extension value is built here and handed to it as raw bytes; reading uses the same walker.
 */

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>>= 8;
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const len = encodeLength(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function encodeOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new Error(`'${oid}' is not an OID`);
    return BigInt(a);
  });
  if (arcs.length < 2) throw new Error(`'${oid}' is not an OID`);
  const body: number[] = [];
  const push = (v: bigint) => {
    const chunk: number[] = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      chunk.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    body.push(...chunk);
  };
  push(arcs[0] * 40n + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Uint8Array.from(body));
}

export function decodeOid(content: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of content) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs.shift() ?? 0n;
  const a0 = first < 40n ? 0n : first < 80n ? 1n : 2n;
  return [a0, first - a0 * 40n, ...arcs].join('.');
}

export interface Tlv {
  tag: number;
  content: Uint8Array;
}

/** Splits a run of DER TLVs (definite lengths only, which DER requires). */
export function readTlvs(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < bytes.length) {
    const tag = bytes[i++];
    let len = bytes[i++];
    if (len === undefined) throw new Error('truncated DER');
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new Error('unsupported DER length');
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[i++];
    }
    if (i + len > bytes.length) throw new Error('truncated DER');
    out.push({ tag, content: bytes.subarray(i, i + len) });
    i += len;
  }
  return out;
}

export type SanName = { type: 'dns'; value: string } | { type: 'ip'; value: string } | { type: 'otherName'; oid: string; value: string };

function ipBytes(ip: string): Uint8Array {
  const v4 = ip.split('.');
  if (v4.length === 4 && v4.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return Uint8Array.from(v4.map(Number));
  if (ip === '::1') return Uint8Array.from([...new Array(15).fill(0), 1]);
  throw new Error(`IP address '${ip}' is not supported (IPv4 or ::1)`);
}

/** The DER value of a subjectAltName extension (GeneralNames). otherName values are encoded as IA5String. */
export function encodeSubjectAltName(names: SanName[]): Uint8Array {
  const te = new TextEncoder();
  return tlv(
    0x30,
    concat(
      names.map((n) => {
        if (n.type === 'dns') return tlv(0x82, te.encode(n.value));
        if (n.type === 'ip') return tlv(0x87, ipBytes(n.value));
        // otherName [0] IMPLICIT SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
        return tlv(0xa0, concat([encodeOid(n.oid), tlv(0xa0, tlv(0x16, te.encode(n.value)))]));
      }),
    ),
  );
}

/** Reads DNS, IP and otherName entries of a subjectAltName extension value; other kinds are skipped. */
export function decodeSubjectAltName(value: Uint8Array): SanName[] {
  const [seq] = readTlvs(value);
  if (!seq || seq.tag !== 0x30) throw new Error('subjectAltName is not a SEQUENCE');
  const td = new TextDecoder();
  const out: SanName[] = [];
  for (const gn of readTlvs(seq.content)) {
    if (gn.tag === 0x82) out.push({ type: 'dns', value: td.decode(gn.content) });
    else if (gn.tag === 0x87) out.push({ type: 'ip', value: gn.content.length === 4 ? [...gn.content].join('.') : Buffer.from(gn.content).toString('hex') });
    else if (gn.tag === 0xa0) {
      const [oid, explicit] = readTlvs(gn.content);
      if (!oid || oid.tag !== 0x06 || !explicit) continue;
      const [inner] = readTlvs(explicit.content);
      // IA5String, UTF8String, PrintableString: all text
      if (inner && (inner.tag === 0x16 || inner.tag === 0x0c || inner.tag === 0x13)) out.push({ type: 'otherName', oid: decodeOid(oid.content), value: td.decode(inner.content) });
    }
  }
  return out;
}

/**
 * The extnValue (inner bytes) of a certificate extension, walking the DER directly: Certificate → tbsCertificate →
 * [3] extensions → Extension { extnID, critical?, extnValue OCTET STRING }. Undefined when absent.
 */
export function certificateExtension(certDer: Uint8Array, oid: string): Uint8Array | undefined {
  const [cert] = readTlvs(certDer);
  if (!cert || cert.tag !== 0x30) throw new Error('not a certificate');
  const [tbs] = readTlvs(cert.content);
  if (!tbs || tbs.tag !== 0x30) throw new Error('not a certificate');
  const exts = readTlvs(tbs.content).find((t) => t.tag === 0xa3);
  if (!exts) return undefined;
  const [seq] = readTlvs(exts.content);
  if (!seq) return undefined;
  const want = encodeOid(oid).subarray(2);
  for (const ext of readTlvs(seq.content)) {
    const parts = readTlvs(ext.content);
    const id = parts[0];
    if (!id || id.tag !== 0x06 || Buffer.compare(Buffer.from(id.content), Buffer.from(want)) !== 0) continue;
    const value = parts.find((p) => p.tag === 0x04);
    return value?.content;
  }
  return undefined;
}
