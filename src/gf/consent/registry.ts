/**
 * The consent registry (national role, Mitz-like). Consents and Subscriptions are FHIR resources in the reserved
 * tenant `national-consent` of the FHIR store (versions, history, search for free); the registry adds
 * - who may write/read what (patient via PGO, provider on the patient's behalf, node, admin),
 * - the in-memory decision index (rebuilt at start, updated before a write returns),
 * - the questions (decide.ts), and change notifications (notify.ts).
 * Lifecycle: `ConsentRegistry.open()` (ensure tenant, load index and subscriptions) → serve → `close()`.
 */
import type { Bundle, Consent, Reference, Resource, Subscription } from 'fhir/r4';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import type { TenantRegistry } from '../../tenants/registry.ts';
import { CatalogueIndex, DEFAULT_CATALOGUE, SYSTEMS, type ConsentCatalogue } from './catalogue.ts';
import { ConsentIndex, PatientKeys, type IndexedConsent } from './consent-index.ts';
import { decide as decideRules, openQuestion as openRules, type Decision, type OpenAnswer, type Party } from './decide.ts';
import { checkBsn, checkUraValue, compileConsent, instantOf } from './model.ts';
import { Notifier, OWNER_EXT, parseCriteria, payloadContentOf, type ActiveSubscription, type ConsentChange, type NotifierOptions } from './notify.ts';

export const CONSENT_TENANT = 'national-consent';

/** The verified caller, from the injected token verifier. */
export interface Principal {
  /** URA of the organisation (for a PGO: its own registration number). */
  ura: string;
  /**
   * 'provider' (default): registers on a patient's behalf, reads what it registered, asks questions as itself.
   * 'pgo': acts for the patient in `patient` only. 'node': asks questions and subscribes for any organisation it
   * hosts. 'admin': everything.
   */
  role?: 'provider' | 'pgo' | 'node' | 'admin' | string;
  /** BSN of the citizen (role 'pgo'). */
  patient?: string;
}

export type PatientRef = { bsn: string } | { key: string } | { pseudonym: string };

export interface PartyInput {
  ura?: string;
  /** Provider category (RPZAC code). */
  category?: string;
  /** organization-type code; mapped to its category when `category` is absent. */
  organizationType?: string;
}

export interface DecideRequest {
  patient: PatientRef;
  holder: PartyInput;
  consulter: PartyInput;
  /** Mitz GGC code or nl-gf data-category code. */
  dataCategory: string;
  /** v3-ActReason code; default TREAT. */
  purpose?: string;
  at?: Date | number | string;
}

export interface OpenRequest {
  patient: PatientRef;
  consulter: PartyInput;
  dataCategory: string;
  purpose?: string;
  at?: Date | number | string;
  holders?: PartyInput[];
}

export interface ConsentRegistryOptions {
  dispatch: (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;
  tenants: TenantRegistry;
  catalogue?: ConsentCatalogue;
  tenant?: string;
  /** Secret for patient keys; random per process by default. */
  indexSecret?: Uint8Array;
  /** Resolves a pseudonym (e.g. from the PRS, recipient national-consent) to a BSN. */
  resolvePseudonym?: (pseudonym: string) => Promise<string | undefined>;
  /** Public base of the registry (…/national/consent) for internal writes and notifications. */
  baseUrl?: string;
  notifier?: NotifierOptions;
  /** Poll the store for changes made by other processes (ms); 0/undefined = off. */
  pollMs?: number;
  now?: () => number;
}

const PAGE = 1000;

export class ConsentRegistry {
  readonly cat: CatalogueIndex;
  readonly index: ConsentIndex;
  readonly notifier: Notifier;
  readonly tenant: string;
  baseUrl: string;
  private lastSync?: string;
  private poller?: NodeJS.Timeout;
  private readonly now: () => number;

  private constructor(private readonly opts: ConsentRegistryOptions) {
    this.cat = new CatalogueIndex(opts.catalogue ?? DEFAULT_CATALOGUE);
    this.index = new ConsentIndex(new PatientKeys(opts.indexSecret));
    this.tenant = opts.tenant ?? CONSENT_TENANT;
    this.baseUrl = opts.baseUrl ?? 'http://localhost/national/consent';
    this.now = opts.now ?? Date.now;
    this.notifier = new Notifier(this.cat, () => this.baseUrl, {
      ...opts.notifier,
      onGiveUp: (id, error) => {
        opts.notifier?.onGiveUp?.(id, error);
        void this.markSubscriptionError(id, error);
      },
    });
  }

  static async open(opts: ConsentRegistryOptions): Promise<ConsentRegistry> {
    const r = new ConsentRegistry(opts);
    await opts.tenants.ensure({ tenant: r.tenant, name: 'National consent registry' });
    await r.rebuild();
    if (opts.pollMs) {
      r.poller = setInterval(() => void r.refresh().catch(() => undefined), opts.pollMs);
      r.poller.unref();
    }
    return r;
  }

  close(): void {
    if (this.poller) clearInterval(this.poller);
    this.notifier.close();
  }

  patientKey(bsn: string): string {
    return this.index.keys.of(bsn);
  }

  // ---------------------------------------------------------------- questions

  /** The closed question. Synchronous for BSN/key; use `resolve()` first for a pseudonym. */
  decide(q: DecideRequest): Decision {
    const key = this.keyOf(q.patient, 'patient');
    return decideRules(this.index.rulesOf(key), {
      holder: this.party(q.holder, 'holder'),
      consulter: this.party(q.consulter, 'consulter'),
      dataCategory: this.dataCategory(q.dataCategory, 'dataCategory'),
      purpose: this.purpose(q.purpose, 'purpose'),
      at: this.at(q.at, 'at'),
    }, this.cat);
  }

  /** The open question: which holders may this consulter consult for this category and purpose? */
  openQuestion(q: OpenRequest): OpenAnswer {
    const key = this.keyOf(q.patient, 'patient');
    return openRules(this.index.rulesOf(key), {
      consulter: this.party(q.consulter, 'consulter'),
      dataCategory: this.dataCategory(q.dataCategory, 'dataCategory'),
      purpose: this.purpose(q.purpose, 'purpose'),
      at: this.at(q.at, 'at'),
      holders: q.holders?.map((h, i) => this.party(h, `holders[${i}]`)),
    }, this.cat);
  }

  /** Turns a pseudonym into a patient key (other forms pass through). */
  async resolve(p: PatientRef): Promise<PatientRef> {
    if (!('pseudonym' in p)) return p;
    if (!this.opts.resolvePseudonym) throw badRequest('This registry does not accept pseudonyms', 'patient.pseudonym');
    const bsn = await this.opts.resolvePseudonym(p.pseudonym);
    if (!bsn) throw badRequest('The pseudonym could not be resolved', 'patient.pseudonym');
    return { key: this.patientKey(bsn) };
  }

  private keyOf(p: PatientRef | undefined, expr: string): string {
    if (!p || typeof p !== 'object') throw badRequest('patient is required: { bsn } or { key }', expr);
    if ('bsn' in p) return this.patientKey(checkBsn(p.bsn, `${expr}.bsn`));
    if ('key' in p && typeof p.key === 'string' && p.key.length > 0) return p.key;
    if ('pseudonym' in p) throw badRequest('Resolve the pseudonym first', `${expr}.pseudonym`);
    throw badRequest('patient must be { bsn } or { key }', expr);
  }

  private party(p: PartyInput | undefined, expr: string): Party {
    if (!p || typeof p !== 'object') throw badRequest(`${expr} is required: { ura, category | organizationType }`, expr);
    const ura = p.ura === undefined ? undefined : checkUraValue(p.ura, `${expr}.ura`);
    let category = p.category;
    if (category !== undefined && !this.cat.providerCategories.has(category)) throw badRequest(`Unknown provider category '${category}'`, `${expr}.category`);
    if (category === undefined && p.organizationType !== undefined) {
      category = this.cat.categoryOfOrganizationType(String(p.organizationType));
      if (!category) throw badRequest(`Organisation type '${p.organizationType}' is not in the catalogue`, `${expr}.organizationType`);
    }
    if (ura === undefined && category === undefined) throw badRequest(`${expr} needs a ura or a category`, expr);
    return { ura, category };
  }

  private dataCategory(code: string | undefined, expr: string): string {
    if (typeof code === 'string') {
      if (this.cat.dataCategories.has(code)) return code;
      const g = this.cat.dataCategoryOfNlGf(code);
      if (g) return g;
    }
    throw badRequest(`dataCategory must be one of ${[...this.cat.dataCategories.keys()].join(', ')} or a mapped nl-gf data category`, expr);
  }

  private purpose(code: string | undefined, expr: string): string {
    if (code === undefined) return this.cat.catalogue.defaultPermitPurpose;
    if (typeof code === 'string' && this.cat.purposes.has(code)) return code;
    throw badRequest(`purpose must be one of ${[...this.cat.purposes.keys()].join(', ')}`, expr);
  }

  private at(v: Date | number | string | undefined, expr: string): number {
    if (v === undefined) return this.now();
    if (v instanceof Date) return v.getTime();
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string') return instantOf(v, false, expr);
    throw badRequest('at must be a dateTime', expr);
  }

  // ---------------------------------------------------------------- Consent interactions

  private scope(base?: string): RequestScope {
    return { tenant: this.tenant, base: base ?? this.baseUrl, strict: false };
  }

  /** Creates a Consent (POST). The performer is set from the caller. */
  async create(body: unknown, who: Principal, base?: string): Promise<FhirResponse> {
    const consent = this.prepare(body, who, undefined);
    return this.write(who, { method: 'POST', path: 'Consent', query: [], headers: {}, body: consent, bodyKind: 'resource' }, base);
  }

  /** Updates a Consent (PUT), e.g. status inactive to revoke. Only an existing Consent the caller may manage. */
  async update(id: string, body: unknown, who: Principal, ifMatch?: string, base?: string): Promise<FhirResponse> {
    const existing = await this.readResource(id);
    if (!existing) throw FhirError.of(404, 'not-found', `Consent/${id} is not known`);
    this.mayManage(existing, who);
    if ((body as Resource | undefined)?.id !== undefined && (body as Resource).id !== id) throw badRequest('The id in the body differs from the id in the URL', 'Consent.id');
    const consent = this.prepare({ ...(body as object), id }, who, existing);
    return this.write(who, { method: 'PUT', path: `Consent/${id}`, query: [], headers: { ifMatch }, body: consent, bodyKind: 'resource' }, base);
  }

  async delete(id: string, who: Principal, base?: string): Promise<FhirResponse> {
    const existing = await this.readResource(id);
    if (!existing) throw FhirError.of(404, 'not-found', `Consent/${id} is not known`);
    this.mayManage(existing, who);
    const res = await this.opts.dispatch(this.scope(base), { method: 'DELETE', path: `Consent/${id}`, query: [], headers: {} });
    const version = Number(/"(\d+)"/.exec(res.headers.ETag ?? res.headers.etag ?? '')?.[1] ?? (Number(existing.meta?.versionId ?? 0) + 1));
    const prev = this.index.remove(id, version);
    if (prev) this.notifier.changed({ consent: { ...prev, versionId: version, active: false }, previous: prev, method: 'DELETE' });
    return res;
  }

  async read(id: string, who: Principal, base?: string, versionId?: string): Promise<FhirResponse> {
    const res = await this.opts.dispatch(this.scope(base), { method: 'GET', path: versionId ? `Consent/${id}/_history/${versionId}` : `Consent/${id}`, query: [], headers: {} });
    const c = bodyOf(res) as Consent | undefined;
    if (c?.resourceType === 'Consent' && !this.mayRead(c, who)) throw FhirError.of(404, 'not-found', `Consent/${id} is not known`);
    return res;
  }

  async history(id: string, who: Principal, base?: string): Promise<FhirResponse> {
    await this.read(id, who, base);
    return this.opts.dispatch(this.scope(base), { method: 'GET', path: `Consent/${id}/_history`, query: [], headers: {} });
  }

  /** Search, narrowed to what the caller may see (patient for a PGO, own registrations for a provider). */
  async search(query: [string, string][], who: Principal, base?: string): Promise<FhirResponse> {
    const role = who.role ?? 'provider';
    if (role !== 'admin') {
      const bad = query.find(([k]) => k.startsWith('_include') || k.startsWith('_revinclude') || k.startsWith('_has') || k === '_contained');
      if (bad) throw badRequest(`Search parameter ${bad[0]} is not available here`, bad[0]);
    }
    const q: [string, string][] = [...query];
    if (role === 'pgo') {
      if (!who.patient) throw FhirError.of(403, 'forbidden', 'A PGO token must carry the patient');
      q.push(['patient:identifier', `${SYSTEMS.bsn}|${who.patient}`]);
    } else if (role === 'provider') q.push(['consentor:identifier', `${SYSTEMS.ura}|${who.ura}`]);
    else if (role !== 'admin') throw FhirError.of(403, 'forbidden', `Role '${role}' may not search consents`);
    return this.opts.dispatch(this.scope(base), { method: 'GET', path: 'Consent', query: q, headers: {} });
  }

  private async readResource(id: string): Promise<Consent | undefined> {
    const res = await this.opts.dispatch(this.scope(), { method: 'GET', path: `Consent/${id}`, query: [], headers: {} }).catch((e: unknown) => {
      if (e instanceof FhirError && (e.status === 404 || e.status === 410)) return undefined;
      throw e;
    });
    return res ? (bodyOf(res) as Consent) : undefined;
  }

  /** Checks the body, fixes the parts the registry owns (performer, defaults) and checks the caller's rights. */
  private prepare(body: unknown, who: Principal, existing: Consent | undefined): Consent {
    if (!body || typeof body !== 'object' || (body as Resource).resourceType !== 'Consent') throw badRequest('The body must be a Consent resource', 'resourceType');
    const role = who.role ?? 'provider';
    const c = structuredClone(body) as Consent;
    c.category ??= [{ coding: [this.cat.catalogue.consentCategories[0]] }];
    if (!c.policy && !c.policyRule) {
      c.policyRule = { coding: [{ system: SYSTEMS.actCode, code: c.provision?.type === 'deny' ? 'OPTOUT' : 'OPTIN' }] };
    }
    c.dateTime ??= new Date(this.now()).toISOString();
    const compiled = compileConsent(c, this.cat);
    if (existing && existing.patient?.identifier?.value !== compiled.bsn) throw badRequest('The patient of a Consent cannot change', 'Consent.patient');
    if (role === 'pgo') {
      if (!who.patient || who.patient !== compiled.bsn) throw FhirError.of(403, 'forbidden', 'A PGO may only register choices for its own user');
      c.performer = [{ type: 'Patient', identifier: { system: SYSTEMS.bsn, value: compiled.bsn } }];
    } else if (role === 'provider') {
      c.performer = [{ type: 'Organization', identifier: { system: SYSTEMS.ura, value: who.ura }, display: 'Registered on behalf of the patient' }];
    } else if (role !== 'admin') throw FhirError.of(403, 'forbidden', `Role '${role}' may not register consents`);
    return c;
  }

  private mayRead(c: Consent, who: Principal): boolean {
    const role = who.role ?? 'provider';
    if (role === 'admin') return true;
    if (role === 'pgo') return who.patient !== undefined && c.patient?.identifier?.value === who.patient;
    if (role === 'provider') return (c.performer ?? []).some((p: Reference) => p.identifier?.system === SYSTEMS.ura && p.identifier.value === who.ura);
    return false;
  }

  private mayManage(c: Consent, who: Principal): void {
    if (!this.mayRead(c, who)) throw FhirError.of(404, 'not-found', `Consent/${c.id} is not known`);
  }

  /** Stores, then updates the index before returning (revocation effective at once), then notifies. */
  private async write(_who: Principal, req: FhirRequest, base?: string): Promise<FhirResponse> {
    const res = await this.opts.dispatch(this.scope(base), req);
    const stored = bodyOf(res) as Consent | undefined;
    if (stored?.resourceType === 'Consent') this.applyStored(stored, req.method === 'POST' ? 'POST' : 'PUT');
    return res;
  }

  /** Applies a stored version to the index; the process that wrote it notifies (refresh() does not, to avoid duplicates). */
  private applyStored(stored: Consent, method: ConsentChange['method'], notify = true): void {
    const compiled = compileConsent(stored, this.cat, Number(stored.meta?.versionId ?? 1));
    const { changed, current, previous } = this.index.apply(compiled);
    if (changed && notify) this.notifier.changed({ consent: current, previous, resource: stored, method });
  }

  // ---------------------------------------------------------------- index load / refresh

  /** Loads every Consent in force and every active Subscription from the store. */
  async rebuild(): Promise<void> {
    const started = new Date(this.now() - 1000).toISOString();
    for await (const c of this.pages('Consent', [['status', 'active']])) {
      try {
        this.index.apply(compileConsent(c as Consent, this.cat, Number(c.meta?.versionId ?? 1)));
      } catch {
        // A stored Consent the current catalogue cannot read: skipped, never decided on.
      }
    }
    for await (const s of this.pages('Subscription', [['status', 'active,requested']])) {
      try {
        this.notifier.set(this.activeSubscription(s as Subscription));
      } catch {
        // unreadable subscription: ignored
      }
    }
    this.lastSync = started;
  }

  /**
   * Applies changes other processes wrote since the last sync (history `_since`, with a 1 s overlap; idempotent
   * per version): Consents into the index, Subscriptions into the notifier. The writing process notifies.
   */
  async refresh(): Promise<number> {
    const since = this.lastSync;
    this.lastSync = new Date(this.now() - 1000).toISOString();
    let n = 0;
    const seenSubs = new Set<string>();
    for (const type of ['Consent', 'Subscription'] as const) {
      let query: [string, string][] = [['_count', String(PAGE)], ...(since ? [['_since', since] as [string, string]] : [])];
      for (;;) {
        const res = await this.opts.dispatch(this.scope(), { method: 'GET', path: `${type}/_history`, query, headers: {} });
        const b = bodyOf(res) as Bundle;
        for (const e of b.entry ?? []) {
          const id = e.fullUrl?.split('/').pop() ?? '';
          if (type === 'Subscription') {
            // newest version first: only the first entry per id counts
            if (seenSubs.has(id)) continue;
            seenSubs.add(id);
            const sub = e.resource as Subscription | undefined;
            if (sub?.status === 'active') {
              try {
                if (!this.notifier.get(id)) this.notifier.set(this.activeSubscription(sub));
              } catch {
                // unreadable subscription: ignored
              }
            } else this.notifier.delete(id);
            continue;
          }
          if (e.resource?.resourceType === 'Consent') {
            try {
              this.applyStored(e.resource as Consent, 'PUT', false);
              n++;
            } catch {
              // unreadable version: skipped
            }
          } else if (e.request?.method === 'DELETE') {
            this.index.remove(id, Number(/"(\d+)"/.exec(e.response?.etag ?? '')?.[1] ?? 0));
          }
        }
        const next = b.link?.find((l) => l.relation === 'next')?.url;
        if (!next) break;
        query = [...new URL(next).searchParams.entries()];
      }
    }
    return n;
  }

  private async *pages(type: string, filter: [string, string][]): AsyncGenerator<Resource> {
    let query: [string, string][] = [...filter, ['_count', String(PAGE)]];
    for (;;) {
      const res = await this.opts.dispatch(this.scope(), { method: 'GET', path: type, query, headers: {} });
      const b = bodyOf(res) as Bundle;
      for (const e of b.entry ?? []) if (e.resource?.resourceType === type) yield e.resource;
      const next = b.link?.find((l) => l.relation === 'next')?.url;
      if (!next) return;
      query = [...new URL(next).searchParams.entries()];
    }
  }

  // ---------------------------------------------------------------- Subscriptions

  private activeSubscription(s: Subscription): ActiveSubscription {
    if (s.channel?.type !== 'rest-hook') throw badRequest('Only channel.type rest-hook is supported', 'Subscription.channel.type');
    const endpoint = s.channel.endpoint;
    if (!endpoint || !/^https?:\/\//.test(endpoint)) throw badRequest('Subscription.channel.endpoint must be an http(s) URL', 'Subscription.channel.endpoint');
    const headers: Record<string, string> = {};
    for (const [i, h] of (s.channel.header ?? []).entries()) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(h);
      if (!m) throw badRequest("A channel header is 'Name: value'", `Subscription.channel.header[${i}]`);
      headers[m[1].toLowerCase()] = m[2];
    }
    const owner = s.extension?.find((e) => e.url === OWNER_EXT)?.valueIdentifier?.value;
    return { id: s.id ?? '', owner, criteria: parseCriteria(s.criteria, this.cat, this.index.keys), endpoint, headers, content: payloadContentOf(s), events: 0 };
  }

  /** Registers a Subscription for the caller (its URA recorded as owner); the same owner+criteria+endpoint returns the existing one. */
  async subscribe(body: unknown, who: Principal, base?: string): Promise<FhirResponse> {
    const role = who.role ?? 'provider';
    if (role === 'pgo') throw FhirError.of(403, 'forbidden', 'A PGO may not subscribe to consent changes');
    if (!body || typeof body !== 'object' || (body as Resource).resourceType !== 'Subscription') throw badRequest('The body must be a Subscription resource', 'resourceType');
    const s = structuredClone(body) as Subscription;
    delete s.id;
    s.status = 'active';
    s.reason ??= 'Consent changes (cached decisions)';
    s.extension = [...(s.extension ?? []).filter((e) => e.url !== OWNER_EXT), { url: OWNER_EXT, valueIdentifier: { system: SYSTEMS.ura, value: who.ura } }];
    const active = this.activeSubscription(s);
    if (role === 'provider' && active.criteria.provider?.ura !== undefined && active.criteria.provider.ura !== who.ura) {
      throw FhirError.of(403, 'forbidden', 'A provider may only subscribe for its own URA', 'Subscription.criteria');
    }
    const same = this.notifier.list().find((x) => x.owner === who.ura && x.endpoint === active.endpoint && sameCriteria(x, active));
    if (same) {
      const res = await this.opts.dispatch(this.scope(base), { method: 'GET', path: `Subscription/${same.id}`, query: [], headers: {} });
      return { ...res, status: 200 };
    }
    const res = await this.opts.dispatch(this.scope(base), { method: 'POST', path: 'Subscription', query: [], headers: {}, body: s, bodyKind: 'resource' });
    const stored = bodyOf(res) as Subscription;
    this.notifier.set({ ...active, id: stored.id ?? '' });
    return res;
  }

  async readSubscription(id: string, who: Principal, base?: string): Promise<FhirResponse> {
    const res = await this.opts.dispatch(this.scope(base), { method: 'GET', path: `Subscription/${id}`, query: [], headers: {} });
    const s = bodyOf(res) as Subscription;
    const owner = s.extension?.find((e) => e.url === OWNER_EXT)?.valueIdentifier?.value;
    if ((who.role ?? 'provider') !== 'admin' && owner !== who.ura) throw FhirError.of(404, 'not-found', `Subscription/${id} is not known`);
    return res;
  }

  async unsubscribe(id: string, who: Principal, base?: string): Promise<FhirResponse> {
    await this.readSubscription(id, who, base);
    const res = await this.opts.dispatch(this.scope(base), { method: 'DELETE', path: `Subscription/${id}`, query: [], headers: {} });
    this.notifier.delete(id);
    return res;
  }

  private async markSubscriptionError(id: string, error: string): Promise<void> {
    this.notifier.delete(id);
    try {
      const res = await this.opts.dispatch(this.scope(), { method: 'GET', path: `Subscription/${id}`, query: [], headers: {} });
      const s = bodyOf(res) as Subscription;
      s.status = 'error';
      s.error = `Notification delivery failed: ${error}`;
      await this.opts.dispatch(this.scope(), { method: 'PUT', path: `Subscription/${id}`, query: [], headers: {}, body: s, bodyKind: 'resource' });
    } catch {
      // deleted meanwhile, or the store is closing
    }
  }
}

function sameCriteria(a: ActiveSubscription, b: ActiveSubscription): boolean {
  return JSON.stringify(a.criteria) === JSON.stringify(b.criteria) && a.content === b.content;
}

export function bodyOf(res: FhirResponse): Resource | undefined {
  if (res.body === undefined) return undefined;
  return isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
}

export type { IndexedConsent };
