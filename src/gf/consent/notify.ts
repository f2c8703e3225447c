/**
 * Change notifications: nodes register a FHIR R4 Subscription (channel rest-hook, criteria `Consent?…`); on every
 * consent change the registry POSTs a notification to each matching endpoint so the node can drop cached
 * decisions. Delivery is retried with exponential backoff; after the last attempt the Subscription is marked
 * `error` (channel errors are reported on the resource, FHIR subscription.html).
 *
 * Criteria (all optional, AND-ed; at least a patient or a provider is required):
 *   patient:identifier | patient.identifier | patientid   BSN (`system|value` or value)
 *   actor:identifier   | providerid                        URA of the provider the consents affect
 *   providertype       organization-type code (Z3…) or RPZAC code: the provider's category
 *   category           data category (GGC code): consents that cover it
 *   _query=otv, status  accepted and ignored (Mitz compatibility)
 * A consent "affects" a provider when it names it (URA), its category, or no one for that role.
 *
 * Payload (notification Bundle shaped as in the Subscriptions R5 Backport IG for R4, type `history`, first entry a
 * SubscriptionStatus Parameters): channel.payload absent → `empty` (status only); payload present → `full-resource`
 * (the Consent version); the backport extension `backport-payload-content` on channel.payload may say
 * `empty` | `id-only` | `full-resource`.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Consent, Parameters, Subscription } from 'fhir/r4';
import { badRequest } from '../../fhir/outcome.ts';
import { SYSTEMS, type CatalogueIndex } from './catalogue.ts';
import type { IndexedConsent, PatientKeys } from './consent-index.ts';
import type { ActorMatch } from './model.ts';
import { checkBsn, checkUraValue } from './model.ts';

export const PAYLOAD_CONTENT_EXT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';
export const OWNER_EXT = 'http://schakel.dev/fhir/StructureDefinition/subscription-owner';
export const CONSENT_TOPIC = 'http://schakel.dev/fhir/SubscriptionTopic/consent-change';
const STATUS_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4';

export interface Criteria {
  patientKey?: string;
  provider?: { ura?: string; category?: string };
  dataCategory?: string;
}

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';

export interface ActiveSubscription {
  id: string;
  owner?: string;
  criteria: Criteria;
  endpoint: string;
  headers: Record<string, string>;
  content: PayloadContent;
  events: number;
}

/** Parses and checks `Subscription.criteria`; the BSN is turned into the patient key at once. */
export function parseCriteria(criteria: string | undefined, cat: CatalogueIndex, keys: PatientKeys): Criteria {
  const expr = 'Subscription.criteria';
  if (!criteria) throw badRequest('Subscription.criteria is required (Consent?…)', expr);
  const [type, qs = ''] = criteria.split('?', 2);
  if (type !== 'Consent') throw badRequest('The consent registry only notifies about Consent: criteria must start with Consent?', expr);
  const out: Criteria = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    if (k === 'patient:identifier' || k === 'patient.identifier' || k === 'patientid') {
      const bsn = v.includes('|') ? v.split('|')[1] : v;
      if (v.includes('|') && v.split('|')[0] !== SYSTEMS.bsn) throw badRequest(`${k} must use system ${SYSTEMS.bsn}`, expr);
      out.patientKey = keys.of(checkBsn(bsn, expr));
    } else if (k === 'actor:identifier' || k === 'providerid') {
      const ura = v.includes('|') ? v.split('|')[1] : v;
      out.provider = { ...out.provider, ura: checkUraValue(ura, expr) };
    } else if (k === 'providertype') {
      const category = cat.providerCategories.has(v) ? v : cat.categoryOfOrganizationType(v);
      if (!category) throw badRequest(`providertype '${v}' is neither a provider category nor an organisation type in the catalogue`, expr);
      out.provider = { ...out.provider, category };
    } else if (k === 'category') {
      const code = v.includes('|') ? v.split('|')[1] : v;
      if (!cat.dataCategories.has(code)) throw badRequest(`category '${v}' is not a data category`, expr);
      out.dataCategory = code;
    } else if (k === '_query' || k === 'status') {
      // Mitz compatibility (_query=otv); status is irrelevant: revocations are changes too.
    } else throw badRequest(`Criteria parameter '${k}' is not supported`, expr);
  }
  if (!out.patientKey && !out.provider) throw badRequest('Criteria must name a patient (patient:identifier) or a provider (actor:identifier / providerid)', expr);
  return out;
}

const affects = (m: ActorMatch, p: { ura?: string; category?: string }): boolean =>
  m.kind === 'any' || (m.kind === 'ura' ? p.ura !== undefined && m.ura === p.ura : p.category !== undefined && m.code === p.category);

export function criteriaMatch(c: Criteria, consent: IndexedConsent, cat: CatalogueIndex): boolean {
  if (c.patientKey && c.patientKey !== consent.key) return false;
  const provider = c.provider;
  if (provider && !consent.rules.some((r) => affects(r.holder, provider) || affects(r.consulter, provider))) return false;
  const dc = c.dataCategory;
  if (dc && !consent.rules.some((r) => !r.categories || r.categories.some((g) => cat.categoryCovers(g, dc)))) return false;
  return true;
}

export function payloadContentOf(s: Subscription): PayloadContent {
  const ext = s.channel._payload?.extension?.find((e) => e.url === PAYLOAD_CONTENT_EXT)?.valueCode;
  if (ext === 'empty' || ext === 'id-only' || ext === 'full-resource') return ext;
  if (ext !== undefined) throw badRequest(`${PAYLOAD_CONTENT_EXT} must be empty, id-only or full-resource`, 'Subscription.channel.payload.extension');
  return s.channel.payload ? 'full-resource' : 'empty';
}

export interface NotifierOptions {
  /** Attempts per notification (first included). Default 6. */
  attempts?: number;
  /** First retry delay; doubles each time (capped at 60 s). Default 500 ms. */
  backoffMs?: number;
  /** Per-attempt timeout. Default 5 s. */
  timeoutMs?: number;
  /** Called when a subscription's deliveries finally failed (the registry marks it `error`). */
  onGiveUp?: (subscriptionId: string, error: string) => void;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface ConsentChange {
  consent: IndexedConsent;
  previous?: IndexedConsent;
  /** The stored version as returned by the store (for full-resource payloads); undefined after a delete. */
  resource?: Consent;
  method: 'POST' | 'PUT' | 'DELETE';
}

export class Notifier {
  private readonly subs = new Map<string, ActiveSubscription>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  readonly stats = { delivered: 0, failedAttempts: 0, gaveUp: 0 };

  constructor(
    private readonly cat: CatalogueIndex,
    private readonly base: () => string,
    private readonly opts: NotifierOptions = {},
  ) {}

  set(s: ActiveSubscription): void {
    this.subs.set(s.id, s);
  }

  delete(id: string): void {
    this.subs.delete(id);
  }

  get(id: string): ActiveSubscription | undefined {
    return this.subs.get(id);
  }

  list(): ActiveSubscription[] {
    return [...this.subs.values()];
  }

  /** Queues a notification to every subscription the change (old or new version) matches. */
  changed(ch: ConsentChange): number {
    let n = 0;
    for (const s of this.subs.values()) {
      if (!criteriaMatch(s.criteria, ch.consent, this.cat) && !(ch.previous && criteriaMatch(s.criteria, ch.previous, this.cat))) continue;
      s.events += 1;
      const body = this.bundle(s, ch);
      this.deliver(s, body, 1);
      n++;
    }
    return n;
  }

  /** Resolves when no delivery is pending (tests, shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight = 0;
    this.flushIdle();
  }

  private bundle(s: ActiveSubscription, ch: ConsentChange): Bundle {
    const base = this.base();
    const now = new Date().toISOString();
    const ref = `Consent/${ch.consent.id}`;
    const status: Parameters = {
      resourceType: 'Parameters',
      id: randomUUID(),
      meta: { profile: [STATUS_PROFILE] },
      parameter: [
        { name: 'subscription', valueReference: { reference: `${base}/Subscription/${s.id}` } },
        { name: 'topic', valueCanonical: CONSENT_TOPIC },
        { name: 'status', valueCode: 'active' },
        { name: 'type', valueCode: 'event-notification' },
        { name: 'events-since-subscription-start', valueString: String(s.events) },
        {
          name: 'notification-event',
          part: [
            { name: 'event-number', valueString: String(s.events) },
            { name: 'timestamp', valueInstant: now },
            ...(s.content === 'empty' ? [] : [{ name: 'focus', valueReference: { reference: `${ref}/_history/${ch.consent.versionId}` } }]),
          ],
        },
      ],
    };
    const entry: BundleEntry[] = [{ fullUrl: `urn:uuid:${status.id}`, resource: status, request: { method: 'GET', url: `Subscription/${s.id}/$status` }, response: { status: '200' } }];
    if (s.content !== 'empty') {
      const e: BundleEntry = {
        fullUrl: `${base}/${ref}`,
        request: { method: ch.method, url: ch.method === 'POST' ? 'Consent' : ref },
        response: { status: ch.method === 'POST' ? '201' : '200', etag: `W/"${ch.consent.versionId}"` },
      };
      if (s.content === 'full-resource' && ch.resource) e.resource = ch.resource;
      entry.push(e);
    }
    return { resourceType: 'Bundle', id: randomUUID(), type: 'history', timestamp: now, entry };
  }

  private deliver(s: ActiveSubscription, body: Bundle, attempt: number): void {
    if (this.closed) return;
    this.inFlight++;
    const attempts = this.opts.attempts ?? 6;
    const text = JSON.stringify(body);
    void fetch(s.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...s.headers },
      body: text,
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
    })
      .then(async (res) => {
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.stats.delivered++;
      })
      .catch((err: unknown) => {
        if (this.closed) return;
        this.stats.failedAttempts++;
        const error = err instanceof Error ? err.message : String(err);
        this.opts.log?.('consent notification attempt failed', { subscription: s.id, attempt, error });
        if (attempt >= attempts || !this.subs.has(s.id)) {
          this.stats.gaveUp++;
          this.opts.onGiveUp?.(s.id, error);
          return;
        }
        const delay = Math.min(60_000, (this.opts.backoffMs ?? 500) * 2 ** (attempt - 1));
        this.inFlight++;
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.inFlight--;
          this.deliver(s, body, attempt + 1);
        }, delay);
        t.unref();
        this.timers.add(t);
      })
      .finally(() => {
        if (this.closed) return;
        this.inFlight--;
        this.flushIdle();
      });
  }

  private flushIdle(): void {
    if (this.inFlight > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}
