/**
 * The in-memory decision index: patient key → that patient's rules in force. Rebuilt from the store at start,
 * updated on every write before the write's response returns (so a revocation is effective at once in this
 * process). Keys are HMAC-SHA256(secret, BSN): the index never holds a plain BSN, so a heap dump, log line or
 * metric label built from it cannot leak one. The secret is per process by default (the index is rebuilt on
 * start anyway); give a fixed one to share keys between processes.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { CompiledConsent, ConsentRule } from './model.ts';

/** A consent as the index keeps it: the patient by key only. */
export interface IndexedConsent {
  id: string;
  versionId: number;
  key: string;
  active: boolean;
  rules: ConsentRule[];
}

export class PatientKeys {
  private readonly secret: Buffer;
  constructor(secret?: Uint8Array) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }
  of(bsn: string): string {
    return createHmac('sha256', this.secret).update(bsn).digest('base64url');
  }
}

const NO_RULES: readonly ConsentRule[] = Object.freeze([]);

export class ConsentIndex {
  /** patient key → rules of the consents in force (rebuilt per patient on change: the arrays are never mutated). */
  private readonly byPatient = new Map<string, readonly ConsentRule[]>();
  /** patient key → ids of that patient's consents in force. */
  private readonly idsByPatient = new Map<string, Set<string>>();
  /** consent id → last applied version (active or not), to ignore out-of-order applies. */
  private readonly byId = new Map<string, IndexedConsent>();

  constructor(readonly keys: PatientKeys) {}

  rulesOf(key: string): readonly ConsentRule[] {
    return this.byPatient.get(key) ?? NO_RULES;
  }

  /** The version last applied for a consent (active or not). */
  get(id: string): IndexedConsent | undefined {
    return this.byId.get(id);
  }

  /**
   * Applies a stored version. Returns the previous version when it changed the index, or undefined when it
   * was stale (an older or equal version arriving late) and nothing changed.
   */
  apply(c: CompiledConsent): { changed: boolean; current: IndexedConsent; previous?: IndexedConsent } {
    const key = this.keys.of(c.bsn);
    const current: IndexedConsent = { id: c.id, versionId: c.versionId, key, active: c.active, rules: c.rules };
    const prev = this.byId.get(c.id);
    if (prev && prev.versionId >= c.versionId) return { changed: false, current };
    this.byId.set(c.id, current);
    if (prev && prev.key !== key) this.unlink(prev.key, c.id);
    if (c.active) {
      let ids = this.idsByPatient.get(key);
      if (!ids) this.idsByPatient.set(key, (ids = new Set()));
      ids.add(c.id);
    } else this.idsByPatient.get(key)?.delete(c.id);
    this.rebuild(key);
    return { changed: true, current, previous: prev };
  }

  /** A deleted consent: no rules any more. */
  remove(id: string, versionId: number): IndexedConsent | undefined {
    const prev = this.byId.get(id);
    if (!prev || prev.versionId >= versionId) return undefined;
    this.byId.set(id, { ...prev, versionId, active: false });
    this.unlink(prev.key, id);
    return prev;
  }

  get patients(): number {
    return this.byPatient.size;
  }

  get consents(): number {
    return this.byId.size;
  }

  private unlink(key: string, id: string): void {
    this.idsByPatient.get(key)?.delete(id);
    this.rebuild(key);
  }

  private rebuild(key: string): void {
    const ids = this.idsByPatient.get(key);
    if (!ids || ids.size === 0) {
      this.idsByPatient.delete(key);
      this.byPatient.delete(key);
      return;
    }
    const rules: ConsentRule[] = [];
    for (const id of ids) {
      const e = this.byId.get(id);
      if (e?.active) rules.push(...e.rules);
    }
    this.byPatient.set(key, Object.freeze(rules));
  }
}
