/**
 * Recipients the PRS may encrypt evaluations for: per organisation (`ura:<8 digits>`) the scopes it serves
 * and its RSA public key (JWK). Configured at start-up and maintained through the admin API; persisted as a
 * JSON file when a path is given.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { importJWK, type CryptoKey, type JWK } from 'jose';

export type RecipientAlg = 'RSA-OAEP-256' | 'RSA-OAEP';

export interface RecipientEntry {
  /** `ura:<8 digits>` */
  organization: string;
  scopes: string[];
  /** RSA public key (kty RSA, n, e); `kid` optional. */
  publicJwk: JWK;
  alg?: RecipientAlg;
}

export const RECIPIENT_ORG = /^ura:\d{8}$/;

export class RecipientRegistry {
  #entries = new Map<string, RecipientEntry>();
  #keys = new Map<string, Promise<CryptoKey | Uint8Array>>();
  readonly #file?: string;

  constructor(opts: { file?: string; entries?: RecipientEntry[] } = {}) {
    this.#file = opts.file;
    if (this.#file && existsSync(this.#file)) {
      for (const e of JSON.parse(readFileSync(this.#file, 'utf8')) as RecipientEntry[]) this.#entries.set(e.organization, e);
    }
    for (const e of opts.entries ?? []) this.#put(e);
  }

  /** Returns a problem description, or undefined when the entry is acceptable. */
  static check(e: Partial<RecipientEntry>): { field: string; message: string } | undefined {
    if (typeof e.organization !== 'string' || !RECIPIENT_ORG.test(e.organization)) return { field: 'organization', message: "organization must be 'ura:' followed by 8 digits" };
    if (!Array.isArray(e.scopes) || e.scopes.length === 0 || !e.scopes.every((s) => typeof s === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(s))) return { field: 'scopes', message: 'scopes must be a non-empty list of scope names ([A-Za-z0-9._-])' };
    const k = e.publicJwk;
    if (!k || typeof k !== 'object' || k.kty !== 'RSA' || typeof k.n !== 'string' || typeof k.e !== 'string') return { field: 'publicJwk', message: 'publicJwk must be an RSA public key (kty RSA, n, e)' };
    if ('d' in k || 'p' in k || 'q' in k) return { field: 'publicJwk', message: 'publicJwk must not contain private key material' };
    if (Buffer.from(k.n, 'base64url').length < 256) return { field: 'publicJwk.n', message: 'RSA keys must be at least 2048 bits' };
    if (e.alg !== undefined && e.alg !== 'RSA-OAEP-256' && e.alg !== 'RSA-OAEP') return { field: 'alg', message: "alg must be 'RSA-OAEP-256' or 'RSA-OAEP'" };
    return undefined;
  }

  register(e: RecipientEntry): void {
    this.#put(e);
    this.#save();
  }

  remove(organization: string): boolean {
    const had = this.#entries.delete(organization);
    this.#keys.delete(organization);
    if (had) this.#save();
    return had;
  }

  get(organization: string): RecipientEntry | undefined {
    return this.#entries.get(organization);
  }

  list(): RecipientEntry[] {
    return [...this.#entries.values()];
  }

  async encryptionKey(organization: string): Promise<CryptoKey | Uint8Array> {
    const e = this.#entries.get(organization);
    if (!e) throw new Error(`unknown recipient ${organization}`);
    let k = this.#keys.get(organization);
    if (!k) {
      k = importJWK(e.publicJwk, e.alg ?? 'RSA-OAEP-256');
      this.#keys.set(organization, k);
    }
    return k;
  }

  #put(e: RecipientEntry): void {
    const problem = RecipientRegistry.check(e);
    if (problem) throw new Error(`recipient ${e.organization}: ${problem.message}`);
    const { kty, n, e: exp, kid } = e.publicJwk;
    this.#entries.set(e.organization, { organization: e.organization, scopes: [...e.scopes], publicJwk: { kty, n, e: exp, ...(kid ? { kid } : {}) }, alg: e.alg ?? 'RSA-OAEP-256' });
    this.#keys.delete(e.organization);
  }

  #save(): void {
    if (!this.#file) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.list(), null, 1), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }
}
