/**
 * Test PKI: a CA standing in for the UZI-register server-certificate CA, and per-organisation key pairs with
 * X.509 certificates usable as TLS server and client certificates and as the keys behind `private_key_jwt`.
 *
 * Certificate profile (modelled on UZI server certificates; see README.md in this folder):
 *   subject  CN=<first DNS name>, O=<organisation name>, serialNumber=<UZI system number>, C=NL
 *   SAN      dNSName…, iPAddress…, otherName type-id 2.5.5.5, IA5String
 *            `2.16.528.1.1007.99.2110-1-<UZI-sys>-S-<URA>-00.000-<AGB>`
 *            (CA OID - version - UZI number - card type S (server) - subscriber URA - role 00.000 - AGB code)
 *   EKU      serverAuth + clientAuth; keys ECDSA P-256 (ES256).
 * The otherName layout and type-id are taken from public UZI tooling (nuts-foundation), not from the CIBG profile
 * itself, which we could not consult; the URA is read back from the otherName by `certificateIdentity`.
 *
 * Files: `<data>/keys/ca/{ca.key.pem,ca.cert.pem}`, `<data>/keys/orgs/<URA>/{org.json,<kid>.key.pem,<kid>.cert.pem}`;
 * private keys 0600, directories 0700. `kid` = RFC 7638 JWK thumbprint of the public key.
 * Rotation adds a key + certificate; older ones stay valid (and in the JWKS) until their certificate expires.
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill before it loads
import { X509Certificate as NodeX509, createHash, createPrivateKey, createPublicKey, randomBytes, randomInt, type KeyObject, type webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { certificateExtension, decodeSubjectAltName, encodeSubjectAltName, type SanName } from './der.ts';

x509.cryptoProvider.set(globalThis.crypto);

/** OID of the CIBG CA as used in the UZI otherName string. */
export const UZI_CA_OID = '2.16.528.1.1007.99.2110';
/** type-id of the otherName carrying the UZI string (as seen in public UZI tooling). */
export const UZI_OTHERNAME_TYPE = '2.5.5.5';
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface CertifiedKey {
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** PKCS#8 PEM. Never log it. */
  keyPem: string;
  certPem: string;
  /** base64url SHA-256 of the certificate DER (RFC 8705 `x5t#S256`). */
  x5tS256: string;
  notBefore: Date;
  notAfter: Date;
}

export interface OrgSubject {
  ura: string;
  name: string;
  /** UZI system number (UZI-nr of the server certificate). */
  uziSys: string;
  agb: string;
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface CertificateIdentity {
  subject: string;
  ura?: string;
  uziSys?: string;
  agb?: string;
  otherName?: string;
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  x5tS256: string;
}

export function uziOtherName(s: { uziSys: string; ura: string; agb: string }): string {
  return `${UZI_CA_OID}-1-${s.uziSys}-S-${s.ura}-00.000-${s.agb}`;
}

/** Parses `<CA OID>-<version>-<UZI nr>-<card type>-<subscriber (URA)>-<role>-<AGB>`. */
export function parseUziOtherName(value: string): { caOid: string; version: string; uziNr: string; cardType: string; ura: string; role: string; agb: string } | undefined {
  const m = /^(\d+(?:\.\d+)+)-(\d+)-(\d+)-([A-Z])-(\d+)-(\d{2}\.\d{3})-(\d+)$/.exec(value);
  if (!m) return undefined;
  return { caOid: m[1], version: m[2], uziNr: m[3], cardType: m[4], ura: m[5], role: m[6], agb: m[7] };
}

export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN [^-]+-----([\s\S]+?)-----END [^-]+-----/.exec(pem);
  if (!m) throw new Error('not a PEM block');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** RFC 8705 certificate thumbprint: base64url(SHA-256(DER)). Accepts DER or PEM. */
export function x5tS256(cert: Uint8Array | string): string {
  const der = typeof cert === 'string' ? pemToDer(cert) : cert;
  return createHash('sha256').update(der).digest('base64url');
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  b[0] |= 0x01; // no leading zero byte
  return b.toString('hex');
}

async function generateEcKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function privatePem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem(await globalThis.crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importSigningKey(pem: string): Promise<webcrypto.CryptoKey> {
  return globalThis.crypto.subtle.importKey('pkcs8', pemToDer(pem), EC, false, ['sign']);
}

export interface CaMaterial {
  keyPem: string;
  certPem: string;
}

export async function createCa(opts: { name?: string; validityDays?: number; now?: Date } = {}): Promise<CaMaterial> {
  const now = opts.now ?? new Date();
  const keys = await generateEcKeys();
  const name = `CN=${opts.name ?? 'Schakel TEST UZI-register Server CA'}, O=Schakel test PKI (not for production), C=NL`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (opts.validityDays ?? 3650) * DAY),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keyPem: await privatePem(keys.privateKey), certPem: cert.toString('pem') + '\n' };
}

/** Issues a new key pair and certificate for an organisation, signed by the CA. */
export async function issueCertificate(ca: CaMaterial, subject: OrgSubject, opts: { validityDays?: number; now?: Date } = {}): Promise<CertifiedKey> {
  checkDigits('URA', subject.ura, 8, 8);
  checkDigits('UZI system number', subject.uziSys, 1, 12);
  checkDigits('AGB code', subject.agb, 1, 12);
  const now = opts.now ?? new Date();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const keys = await generateEcKeys();
  const dnsNames = subject.dnsNames ?? ['localhost'];
  const san: SanName[] = [
    { type: 'otherName', oid: UZI_OTHERNAME_TYPE, value: uziOtherName(subject) },
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...(subject.ipAddresses ?? ['127.0.0.1']).map((value) => ({ type: 'ip' as const, value })),
  ];
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (opts.validityDays ?? 365) * DAY);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x509.Name([
      { '2.5.4.3': [{ utf8String: dnsNames[0] ?? subject.ura }] },
      { '2.5.4.10': [{ utf8String: subject.name }] },
      { '2.5.4.5': [{ printableString: subject.uziSys }] },
      { '2.5.4.6': [{ printableString: 'NL' }] },
    ]),
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.Extension('2.5.29.17', false, encodeSubjectAltName(san)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  const jwk = await exportJWK(keys.publicKey);
  return {
    kid: await calculateJwkThumbprint(jwk, 'sha256'),
    keyPem: await privatePem(keys.privateKey),
    certPem,
    x5tS256: x5tS256(certPem),
    notBefore,
    notAfter,
  };
}

function checkDigits(what: string, v: string, min: number, max: number): void {
  if (!new RegExp(`^\\d{${min},${max}}$`).test(v)) throw new Error(`${what} '${v}' must be ${min === max ? min : `${min}-${max}`} digits`);
}

/** Reads the UZI identity (URA, UZI system number, AGB) and validity of a certificate. Accepts DER or PEM. */
export function certificateIdentity(cert: Uint8Array | string): CertificateIdentity {
  const der = typeof cert === 'string' ? pemToDer(cert) : cert;
  const c = new NodeX509(der);
  const ext = certificateExtension(der, '2.5.29.17');
  const names = ext ? decodeSubjectAltName(ext) : [];
  const other = names.find((n): n is Extract<SanName, { type: 'otherName' }> => n.type === 'otherName' && parseUziOtherName(n.value) !== undefined);
  const uzi = other ? parseUziOtherName(other.value) : undefined;
  return {
    subject: c.subject.split('\n').join(', '),
    ura: uzi?.ura,
    uziSys: uzi?.uziNr,
    agb: uzi?.agb,
    otherName: other?.value,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    x5tS256: x5tS256(der),
  };
}

/** The public JWK of a certified key: `kid`, `alg` ES256, `use` sig, `x5c` and `x5t#S256`. */
export function publicJwk(certPem: string): JWK {
  const der = pemToDer(certPem);
  const pub = new NodeX509(der).publicKey;
  const jwk = pub.export({ format: 'jwk' }) as JWK;
  return { ...jwk, kid: thumbprintSync(jwk), alg: 'ES256', use: 'sig', x5c: [der.toString('base64')], 'x5t#S256': x5tS256(der) };
}

function thumbprintSync(jwk: JWK): string {
  // RFC 7638 for EC keys: members crv, kty, x, y in lexicographic order
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** A private key for signing (jose / node:crypto) from PKCS#8 PEM. */
export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

const caCache = new Map<string, NodeX509>();

/** Was the certificate issued (and signed) by one of the CAs? */
export function certificateIssuedBy(cert: Uint8Array | string, caCertPems: string[]): boolean {
  const c = new NodeX509(typeof cert === 'string' ? pemToDer(cert) : Buffer.from(cert));
  for (const pem of caCertPems) {
    let ca = caCache.get(pem);
    if (!ca) {
      ca = new NodeX509(pem);
      if (caCache.size > 100) caCache.clear();
      caCache.set(pem, ca);
    }
    if (c.checkIssued(ca) && c.verify(ca.publicKey)) return true;
  }
  return false;
}

/** Checks that the certificate is within its validity at `now` and (when CAs are given) issued by one of them. */
export function certificateValidAt(cert: Uint8Array | string, caCertPems: string[], now: Date): { ok: true } | { ok: false; reason: string } {
  const c = new NodeX509(typeof cert === 'string' ? pemToDer(cert) : Buffer.from(cert));
  if (now < new Date(c.validFrom)) return { ok: false, reason: 'certificate not yet valid' };
  if (now > new Date(c.validTo)) return { ok: false, reason: 'certificate expired' };
  if (caCertPems.length > 0 && !certificateIssuedBy(cert, caCertPems)) return { ok: false, reason: 'certificate not issued by a trusted CA' };
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------------------
// On-disk key store: <data>/keys/

export interface OrgKeyRecord {
  kid: string;
  x5tS256: string;
  created: string;
  notBefore: string;
  notAfter: string;
}

export interface OrgRecord {
  ura: string;
  name: string;
  uziSys: string;
  agb: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** Oldest first; the newest valid key is the current one. */
  keys: OrgKeyRecord[];
}

export interface OrgCredential extends OrgKeyRecord {
  ura: string;
  keyPem: string;
  certPem: string;
  caCertPem: string;
}

const writePrivate = (file: string, text: string) => {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode option does not apply when the file existed
};

export class KeyStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'keys');
  }

  private caDir(): string {
    return join(this.dir, 'ca');
  }

  private orgDir(ura: string): string {
    checkDigits('URA', ura, 8, 8);
    return join(this.dir, 'orgs', ura);
  }

  hasCa(): boolean {
    return existsSync(join(this.caDir(), 'ca.cert.pem'));
  }

  /** Creates the test CA; refuses when one exists (issued certificates would no longer verify). */
  async initCa(opts: { name?: string; validityDays?: number } = {}): Promise<{ certPem: string; created: boolean }> {
    if (this.hasCa()) return { certPem: this.caCertPem(), created: false };
    mkdirSync(this.caDir(), { recursive: true, mode: 0o700 });
    const ca = await createCa(opts);
    writePrivate(join(this.caDir(), 'ca.key.pem'), ca.keyPem);
    writeFileSync(join(this.caDir(), 'ca.cert.pem'), ca.certPem);
    return { certPem: ca.certPem, created: true };
  }

  caCertPem(): string {
    if (!this.hasCa()) throw new Error(`No test CA in ${this.dir}: run 'schakel keys init' first`);
    return readFileSync(join(this.caDir(), 'ca.cert.pem'), 'utf8');
  }

  private ca(): CaMaterial {
    return { certPem: this.caCertPem(), keyPem: readFileSync(join(this.caDir(), 'ca.key.pem'), 'utf8') };
  }

  org(ura: string): OrgRecord | undefined {
    const file = join(this.orgDir(ura), 'org.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as OrgRecord) : undefined;
  }

  private saveOrg(rec: OrgRecord): void {
    writeFileSync(join(this.orgDir(rec.ura), 'org.json'), JSON.stringify(rec, null, 2) + '\n');
  }

  /** Registers an organisation and issues its first key + certificate. */
  async issue(
    subject: { ura: string; name: string; uziSys?: string; agb?: string; dnsNames?: string[]; ipAddresses?: string[] },
    opts: { validityDays?: number; now?: Date } = {},
  ): Promise<OrgCredential> {
    if (this.org(subject.ura)) throw new Error(`Organisation ${subject.ura} has keys already: use 'schakel keys rotate --org ${subject.ura}'`);
    const rec: OrgRecord = {
      ura: subject.ura,
      name: subject.name,
      uziSys: subject.uziSys ?? String(randomInt(100_000_000, 999_999_999)),
      agb: subject.agb ?? '00000000',
      dnsNames: subject.dnsNames ?? ['localhost'],
      ipAddresses: subject.ipAddresses ?? ['127.0.0.1'],
      keys: [],
    };
    mkdirSync(this.orgDir(rec.ura), { recursive: true, mode: 0o700 });
    return this.addKey(rec, opts);
  }

  /** Adds a new key + certificate; earlier ones remain valid until their certificates expire. */
  async rotate(ura: string, opts: { validityDays?: number; now?: Date } = {}): Promise<OrgCredential> {
    const rec = this.org(ura);
    if (!rec) throw new Error(`Organisation ${ura} has no keys: use 'schakel keys issue --org ${ura} --name NAME'`);
    return this.addKey(rec, opts);
  }

  private async addKey(rec: OrgRecord, opts: { validityDays?: number; now?: Date }): Promise<OrgCredential> {
    const ca = this.ca();
    const k = await issueCertificate(ca, rec, opts);
    const dir = this.orgDir(rec.ura);
    writePrivate(join(dir, `${k.kid}.key.pem`), k.keyPem);
    writeFileSync(join(dir, `${k.kid}.cert.pem`), k.certPem);
    const keyRec: OrgKeyRecord = { kid: k.kid, x5tS256: k.x5tS256, created: (opts.now ?? new Date()).toISOString(), notBefore: k.notBefore.toISOString(), notAfter: k.notAfter.toISOString() };
    rec.keys.push(keyRec);
    this.saveOrg(rec);
    return { ...keyRec, ura: rec.ura, keyPem: k.keyPem, certPem: k.certPem, caCertPem: ca.certPem };
  }

  list(): OrgRecord[] {
    const orgs = join(this.dir, 'orgs');
    if (!existsSync(orgs)) return [];
    return readdirSync(orgs)
      .filter((d) => /^\d{8}$/.test(d))
      .sort()
      .map((d) => this.org(d))
      .filter((r): r is OrgRecord => r !== undefined);
  }

  /** Keys whose certificate is valid at `now`, newest first. */
  validKeys(ura: string, now = new Date()): OrgKeyRecord[] {
    const rec = this.org(ura);
    if (!rec) return [];
    return rec.keys.filter((k) => new Date(k.notBefore) <= now && now <= new Date(k.notAfter)).reverse();
  }

  /** The organisation's current (newest valid) key with certificate, for TLS and for signing client assertions. */
  credential(ura: string, opts: { kid?: string; now?: Date } = {}): OrgCredential {
    const rec = this.org(ura);
    if (!rec) throw new Error(`Organisation ${ura} has no keys`);
    const k = opts.kid ? rec.keys.find((x) => x.kid === opts.kid) : this.validKeys(ura, opts.now)[0];
    if (!k) throw new Error(opts.kid ? `Organisation ${ura} has no key ${opts.kid}` : `Organisation ${ura} has no valid key: rotate`);
    const dir = this.orgDir(ura);
    return {
      ...k,
      ura,
      keyPem: readFileSync(join(dir, `${k.kid}.key.pem`), 'utf8'),
      certPem: readFileSync(join(dir, `${k.kid}.cert.pem`), 'utf8'),
      caCertPem: this.caCertPem(),
    };
  }

  /** Public JWKS of the organisation: every key whose certificate is valid at `now`. */
  jwks(ura: string, now = new Date()): { keys: JWK[] } {
    const dir = this.orgDir(ura);
    return { keys: this.validKeys(ura, now).map((k) => publicJwk(readFileSync(join(dir, `${k.kid}.cert.pem`), 'utf8'))) };
  }
}

/** Public key check used by tests: does the JWK belong to the certificate? */
export function jwkMatchesCertificate(jwk: JWK, certPem: string): boolean {
  const a = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ format: 'der', type: 'spki' });
  const b = new NodeX509(pemToDer(certPem)).publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.compare(a, b) === 0;
}
