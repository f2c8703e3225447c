/**
 * Node-side client of the consent registry: asks the closed question over HTTP (roles talk over HTTP only,
 * ADR 0003), fails closed, and keeps a short-lived decision cache that a change notification clears.
 *
 * - Unreachable registry, timeout or a non-2xx answer ⇒ `Deny` with basis `registry-unavailable` and the reason.
 * - Cache: per (patient, holder, consulter, category, purpose), `ttlMs` (default 60 s; 0 = off); questions with an
 *   explicit `at` are not cached. `onNotification(bundle)` (the body POSTed to the node's rest-hook endpoint)
 *   drops the entries of the patient in a full-resource notification, and everything otherwise.
 */
import { createHash } from 'node:crypto';
import type { Bundle, Consent } from 'fhir/r4';
import { SYSTEMS } from './catalogue.ts';
import type { Decision } from './decide.ts';
import type { DecideRequest } from './registry.ts';

export interface ConsentClientOptions {
  /** Registry base, e.g. https://national.example/national/consent */
  base: string;
  /** Supplies the Authorization header value (a fresh access token). */
  authorization: () => string | Promise<string>;
  timeoutMs?: number;
  ttlMs?: number;
  maxEntries?: number;
}

export class ConsentClient {
  private readonly cache = new Map<string, { at: number; patient: string; d: Decision }>();
  constructor(private readonly opts: ConsentClientOptions) {}

  async check(q: DecideRequest): Promise<Decision> {
    const ttl = this.opts.ttlMs ?? 60_000;
    const patient = patientTag(q.patient);
    const key = ttl > 0 && q.at === undefined ? cacheKey(patient, q) : undefined;
    if (key) {
      const hit = this.cache.get(key);
      if (hit && Date.now() - hit.at < ttl) return hit.d;
    }
    let d: Decision;
    try {
      const res = await fetch(`${this.opts.base.replace(/\/$/, '')}/$check`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: await this.opts.authorization() },
        body: JSON.stringify(q),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 3000),
      });
      const text = await res.text();
      if (!res.ok) return closed(`consent registry answered HTTP ${res.status}`);
      d = JSON.parse(text) as Decision;
      if (d.decision !== 'Permit' && d.decision !== 'Deny' && d.decision !== 'NotApplicable') return closed('consent registry gave no decision');
    } catch (e) {
      return closed(`consent registry unreachable: ${(e as Error).name}`);
    }
    if (key) {
      if (this.cache.size >= (this.opts.maxEntries ?? 100_000)) this.cache.clear();
      this.cache.set(key, { at: Date.now(), patient, d });
    }
    return d;
  }

  /** Handles a rest-hook notification body: drops cached decisions it may have changed. Returns how many. */
  onNotification(body: unknown): number {
    const b = body as Bundle | undefined;
    const consents = (b?.entry ?? []).map((e) => e.resource).filter((r): r is Consent => r?.resourceType === 'Consent');
    const bsns = consents.map((c) => c.patient?.identifier).filter((i) => i?.system === SYSTEMS.bsn && i.value).map((i) => patientTag({ bsn: i?.value ?? '' }));
    const before = this.cache.size;
    if (bsns.length === 0) this.cache.clear();
    else for (const [k, v] of this.cache) if (bsns.includes(v.patient)) this.cache.delete(k);
    return before - this.cache.size;
  }

  get size(): number {
    return this.cache.size;
  }
}

function closed(reason: string): Decision {
  return { decision: 'Deny', reason: `${reason}; denied (fail closed)`, basis: { code: 'registry-unavailable', system: SYSTEMS.legalBasis, display: 'The consent registry could not be asked' }, consentIds: [] };
}

/** Cache tag of a patient: a hash, so the cache holds no plain BSN. */
function patientTag(p: DecideRequest['patient']): string {
  const raw = 'bsn' in p ? `b:${p.bsn}` : 'key' in p ? `k:${p.key}` : `p:${p.pseudonym}`;
  return createHash('sha256').update(raw).digest('base64url');
}

function cacheKey(patient: string, q: DecideRequest): string {
  const party = (x: DecideRequest['holder']) => `${x.ura ?? ''}/${x.category ?? ''}/${x.organizationType ?? ''}`;
  return `${patient}|${party(q.holder)}|${party(q.consulter)}|${q.dataCategory}|${q.purpose ?? ''}`;
}
