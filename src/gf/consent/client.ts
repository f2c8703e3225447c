/**
 * Node-side client of the consent registry: asks the closed question over HTTP (roles talk over HTTP only,
 * ADR 0003), fails closed, and keeps a short-lived decision cache that a change notification clears.
 *
 * - Unreachable registry, timeout or a non-2xx answer ⇒ `Deny` with basis `registry-unavailable` and the reason.
 * - Cache: per (patient, holder, consulter, category, purpose), `ttlMs` (default 60 s; 0 = off); questions with an
 *   explicit `at` are not cached. `onNotification(bundle)` (the body POSTed to the node's rest-hook endpoint)
 *   drops the entries of the patient in a full-resource notification, and everything otherwise.
 * - Transport: node:http(s) over kept-alive connections, not fetch: the question is asked on every request to a
 *   patient's data, and fetch costs several times the CPU of the whole question (measured in bench/gf-authz.ts).
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  /** Mutual TLS: the asking organisation's certificate and key, and the CAs trusted for the registry. */
  tls?: { certPem: string; keyPem: string; caPems: string[] };
}

export class ConsentClient {
  private readonly cache = new Map<string, { at: number; patient: string; d: Decision }>();
  private readonly url: URL;
  // Idle kept-alive sockets are unref'd by the agent: they never hold a process open.
  private readonly agent: HttpAgent;
  constructor(private readonly opts: ConsentClientOptions) {
    this.url = new URL(`${opts.base.replace(/\/$/, '')}/$check`);
    const tls = opts.tls ? { cert: opts.tls.certPem, key: opts.tls.keyPem, ca: opts.tls.caPems } : {};
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
  }

  async check(q: DecideRequest): Promise<Decision> {
    const ttl = this.opts.ttlMs ?? 60_000;
    // The patient's tag (a hash) only when the answer may be cached: without a cache it is work for nothing.
    const patient = ttl > 0 && q.at === undefined ? patientTag(q.patient) : undefined;
    const key = patient === undefined ? undefined : cacheKey(patient, q);
    if (key) {
      const hit = this.cache.get(key);
      if (hit && Date.now() - hit.at < ttl) return hit.d;
    }
    let d: Decision;
    try {
      const res = await this.post(JSON.stringify(q), await this.opts.authorization());
      if (res.status < 200 || res.status > 299) return closed(`consent registry answered HTTP ${res.status}`);
      d = JSON.parse(res.text) as Decision;
      if (d.decision !== 'Permit' && d.decision !== 'Deny' && d.decision !== 'NotApplicable') return closed('consent registry gave no decision');
    } catch (e) {
      return closed(`consent registry unreachable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).name}`);
    }
    if (key && patient) {
      if (this.cache.size >= (this.opts.maxEntries ?? 100_000)) this.cache.clear();
      this.cache.set(key, { at: Date.now(), patient, d });
    }
    return d;
  }

  /** POSTs the question; the whole exchange (connect, answer) must end within timeoutMs. */
  private post(body: string, authorization: string): Promise<{ status: number; text: string }> {
    const timeoutMs = this.opts.timeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization, 'content-length': Buffer.byteLength(body) },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
          // Cut off mid-answer (timeout, registry gone): no 'end' comes.
          res.on('close', () => {
            clearTimeout(timer);
            if (!res.complete) reject(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' }));
          });
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TimeoutError' })), timeoutMs).unref();
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });
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
