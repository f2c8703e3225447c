/**
 * PRS key material: numbered key versions, each holding two 32-byte seeds — one for OPRF keys, one for
 * secondary-use keys. Every working key is derived, never stored: the OPRF key for a recipient is
 * DeriveKeyPair(oprfSeed, "{recipient_organization}|{recipient_scope}") (RFC 9497 §3.2.1), so each recipient
 * and scope gets its own key, as the guide demands. Rotation adds a version and makes it the default; old
 * versions keep evaluating when asked for explicitly.
 *
 * Persistence: one JSON file, mode 0600, written atomically. With a key-encryption key (32 bytes, e.g. from
 * the environment or a KMS) the whole key set is sealed with AES-256-GCM. Nothing here is ever logged:
 * inspection and JSON serialisation of the store show version numbers only.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { deriveSecretKey } from './oprf.ts';
import type { Recipient } from './identifier.ts';

interface KeyVersion {
  version: number;
  created: string;
  oprfSeed: Buffer;
  secondarySeed: Buffer;
}

interface KeyFile {
  format: 'schakel-prs-keys/1';
  current: number;
  versions: { version: number; created: string; oprfSeed: string; secondarySeed: string }[];
}

interface SealedFile {
  format: 'schakel-prs-keys/1+sealed';
  iv: string;
  tag: string;
  data: string;
}

export interface KeyStoreOptions {
  /** Key file; absent = in memory only (tests). */
  file?: string;
  /** 32-byte key-encryption key: seals the file with AES-256-GCM. */
  kek?: Uint8Array;
}

export class PrsKeyStore {
  #versions = new Map<number, KeyVersion>();
  #current = 0;
  #derived = new Map<string, Uint8Array>();
  readonly #file?: string;
  readonly #kek?: Buffer;

  private constructor(opts: KeyStoreOptions) {
    this.#file = opts.file;
    if (opts.kek) {
      if (opts.kek.length !== 32) throw new Error('the PRS key-encryption key must be 32 bytes');
      this.#kek = Buffer.from(opts.kek);
    }
  }

  /** Opens (or creates with version 1) the key store. */
  static open(opts: KeyStoreOptions = {}): PrsKeyStore {
    const ks = new PrsKeyStore(opts);
    if (opts.file && existsSync(opts.file)) ks.#load(readFileSync(opts.file, 'utf8'));
    else ks.rotate();
    return ks;
  }

  get currentVersion(): number {
    return this.#current;
  }

  versions(): { version: number; created: string; current: boolean }[] {
    return [...this.#versions.values()].map((v) => ({ version: v.version, created: v.created, current: v.version === this.#current }));
  }

  has(version: number): boolean {
    return this.#versions.has(version);
  }

  /** Adds a new key version and makes it the default; returns its number. */
  rotate(): number {
    const version = this.#current + 1;
    this.#versions.set(version, { version, created: new Date().toISOString(), oprfSeed: randomBytes(32), secondarySeed: randomBytes(32) });
    this.#current = version;
    this.#save();
    return version;
  }

  /** The OPRF secret key for one recipient organisation + scope under a key version. */
  oprfKey(version: number, recipient: Recipient): Uint8Array {
    const cacheKey = `o|${version}|${recipient.organization}|${recipient.scope}`;
    let k = this.#derived.get(cacheKey);
    if (!k) {
      k = deriveSecretKey(this.#get(version).oprfSeed, new TextEncoder().encode(`${recipient.organization}|${recipient.scope}`));
      this.#derived.set(cacheKey, k);
    }
    return k;
  }

  /** A 32-byte secondary-use key for a project and purpose under a key version (HKDF-SHA256). */
  secondaryKey(version: number, project: string, purpose: 'reversible-enc' | 'reversible-siv' | 'irreversible'): Buffer {
    const cacheKey = `s|${version}|${project}|${purpose}`;
    let k = this.#derived.get(cacheKey);
    if (!k) {
      k = new Uint8Array(hkdfSync('sha256', this.#get(version).secondarySeed, Buffer.alloc(0), Buffer.from(`schakel-prs|secondary|${purpose}|${project}`), 32));
      this.#derived.set(cacheKey, k);
    }
    return Buffer.from(k);
  }

  #get(version: number): KeyVersion {
    const v = this.#versions.get(version);
    if (!v) throw new Error(`unknown PRS key version ${version}`);
    return v;
  }

  #serialise(): string {
    const body: KeyFile = {
      format: 'schakel-prs-keys/1',
      current: this.#current,
      versions: [...this.#versions.values()].map((v) => ({ version: v.version, created: v.created, oprfSeed: v.oprfSeed.toString('base64'), secondarySeed: v.secondarySeed.toString('base64') })),
    };
    const text = JSON.stringify(body);
    if (!this.#kek) return text;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#kek, iv);
    c.setAAD(Buffer.from('schakel-prs-keys/1'));
    const data = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    const sealed: SealedFile = { format: 'schakel-prs-keys/1+sealed', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
    return JSON.stringify(sealed);
  }

  #load(text: string): void {
    let parsed = JSON.parse(text) as KeyFile | SealedFile;
    if (parsed.format === 'schakel-prs-keys/1+sealed') {
      if (!this.#kek) throw new Error('the PRS key file is sealed; a key-encryption key is needed');
      const d = createDecipheriv('aes-256-gcm', this.#kek, Buffer.from(parsed.iv, 'base64'));
      d.setAAD(Buffer.from('schakel-prs-keys/1'));
      d.setAuthTag(Buffer.from(parsed.tag, 'base64'));
      parsed = JSON.parse(Buffer.concat([d.update(Buffer.from(parsed.data, 'base64')), d.final()]).toString('utf8')) as KeyFile;
    } else if (this.#kek) {
      // A plain file opened with a KEK: read it, then seal it on the next save.
    }
    if (parsed.format !== 'schakel-prs-keys/1') throw new Error('not a PRS key file');
    for (const v of parsed.versions) {
      this.#versions.set(v.version, { version: v.version, created: v.created, oprfSeed: Buffer.from(v.oprfSeed, 'base64'), secondarySeed: Buffer.from(v.secondarySeed, 'base64') });
    }
    this.#current = parsed.current;
    if (this.#kek && !text.includes('+sealed')) this.#save();
  }

  #save(): void {
    if (!this.#file) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp-${process.pid}`;
    writeFileSync(tmp, this.#serialise(), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.#file);
  }

  toJSON(): unknown {
    return { versions: [...this.#versions.keys()], current: this.#current };
  }

  [inspect.custom](): string {
    return `PrsKeyStore { current: ${this.#current}, versions: [${[...this.#versions.keys()].join(', ')}] }`;
  }
}
