/**
 * Node side of localisation: keeps the NVI in step with what each provider tenant holds.
 *
 * The write path (a storage write hook, see node-registration.ts) only records "(tenant, patient, category)
 * needs a sync" in a durable outbox table in the node database, in the same transaction as the resource. A
 * worker drains the outbox in the background: it decides from the tenant's current data whether the patient
 * still has data of the category, pseudonymises the patient's BSN for the NVI through the PRS (the NVI is the
 * PRS recipient) and registers or deregisters over HTTP, several entries per transaction Bundle. Both are idempotent at the
 * NVI (one entry per pseudonym × category × custodian), so retries — with exponential backoff — and
 * restarts are harmless. The BSN is read from the tenant's own Patient at send time and never stored,
 * logged or counted here.
 */
import type { Bundle, Patient, Reference, Resource } from 'fhir/r4';
import type { Logger } from 'pino';
import { BSN_SYSTEM, bsnIdentifier, type Recipient } from '../pseudonym/identifier.ts';
import type { PseudonymClient } from '../pseudonym/client.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import { FhirError } from '../../fhir/outcome.ts';
import { ZORGCONTEXT_CODES, categoriesOf, paramsOf } from './categories.ts';
import { NVI_IDENTIFIER_SYSTEM, OAUTH_CLIENT_ID_SYSTEM, buildList, transactionOf } from './list.ts';
import { registrarMetrics, type Counters } from './metrics.ts';
import type { AnyKysely } from './store.ts';

/** The data names a patient the tenant does not hold (yet): the sync is retried with backoff. */
export class PatientNotKnown extends Error {
  constructor() {
    super('patient not (yet) known in the tenant');
  }
}

/** What the registrar needs to know about a tenant's data. */
export interface PatientDataSource {
  /**
   * The patient's BSN (also for a deleted patient, from its last version), or undefined when it has none.
   * Throws PatientNotKnown when the tenant has no such patient (yet).
   */
  patientBsn(tenant: string, patientId: string): Promise<string | undefined>;
  /** Whether the tenant still holds data of the category for the patient. */
  hasData(tenant: string, patientId: string, category: string): Promise<boolean>;
}

type Dispatch = (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;

/** PatientDataSource over the node's FHIR dispatcher (search with `_summary=count`, read, history). */
export function dispatchSource(dispatch: Dispatch): PatientDataSource {
  const call = async (tenant: string, path: string, query: [string, string][] = []) => {
    let res: FhirResponse;
    try {
      res = await dispatch({ tenant, base: `urn:schakel:${tenant}`, strict: false }, { method: 'GET', path, query, headers: {} });
    } catch (e) {
      // The dispatcher throws its 4xx answers (404, 410…); the HTTP layer would turn them into responses.
      if (e instanceof FhirError) return { status: e.status, body: undefined };
      throw e;
    }
    const body = res.body === undefined ? undefined : isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
    return { status: res.status, body };
  };
  return {
    async patientBsn(tenant, patientId) {
      const r = await call(tenant, `Patient/${patientId}`);
      if (r.status === 200) return bsnOf(r.body);
      // Data may arrive before its Patient (an import's file order, separate requests): try again later.
      if (r.status === 404) throw new PatientNotKnown();
      if (r.status !== 410) throw new Error(`read Patient in tenant ${tenant} answered ${r.status}`);
      const h = await call(tenant, `Patient/${patientId}/_history`);
      for (const e of (h.body as Bundle | undefined)?.entry ?? []) {
        const bsn = bsnOf(e.resource);
        if (bsn) return bsn;
      }
      return undefined;
    },
    async hasData(tenant, patientId, category) {
      for (const p of paramsOf(category)) {
        const query: [string, string][] = p.type === 'Patient' ? [['_id', patientId]] : [['patient', `Patient/${patientId}`]];
        if (p.filter) query.push([p.filter.name, `${p.filter.system}|${p.filter.code}`]);
        query.push(['_summary', 'count']);
        const r = await call(tenant, p.type, query);
        if (r.status !== 200) throw new Error(`search ${p.type} in tenant ${tenant} answered ${r.status}`);
        if (((r.body as Bundle | undefined)?.total ?? 0) > 0) return true;
      }
      return false;
    },
  };
}

const bsnOf = (p: Resource | undefined) => (p?.resourceType === 'Patient' ? (p as Patient).identifier?.find((i) => i.system === BSN_SYSTEM)?.value : undefined);

/** Patient ids a resource belongs to (relative `Patient/{id}` references in subject/patient/for, or itself). */
export function patientsOf(resource: Resource): string[] {
  if (resource.resourceType === 'Patient') return resource.id ? [resource.id] : [];
  const r = resource as unknown as Record<string, unknown>;
  const refs: (Reference | undefined)[] = [r.subject as Reference, r.patient as Reference, r.for as Reference];
  if (resource.resourceType === 'AuditEvent') for (const e of (r.entity as { what?: Reference }[] | undefined) ?? []) refs.push(e.what);
  const ids = new Set<string>();
  for (const ref of refs) {
    const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/.exec(ref?.reference ?? '');
    if (m) ids.add(m[1]);
  }
  return [...ids];
}

interface OutboxTable {
  tenant: string;
  patient_id: string;
  category: string;
  generation: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}
interface OutboxTables {
  gf_localisation_outbox: OutboxTable;
}

export async function migrateOutbox(db: AnyKysely): Promise<void> {
  await db.schema
    .createTable('gf_localisation_outbox')
    .ifNotExists()
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addPrimaryKeyConstraint('gf_localisation_outbox_pk', ['tenant', 'patient_id', 'category'])
    .execute();
  await db.schema.createIndex('gf_localisation_outbox_due').ifNotExists().on('gf_localisation_outbox').columns(['next_attempt_at']).execute();
}

/** A change to localise: the resource as stored (null = deleted) and the version it replaced. */
export interface LocalisableWrite {
  resource: Resource | null;
  previous?: Resource | null;
}

export const DEFAULT_EXCLUDE = ['Logging'];

/**
 * The (patient, category) pairs a set of writes touches: both the new and the replaced version count, so a
 * resource that moves to another patient or category queues the old pair too (it may need deregistering).
 */
export function outboxPairs(writes: readonly LocalisableWrite[], exclude: ReadonlySet<string> = new Set(DEFAULT_EXCLUDE)): { patient: string; category: string }[] {
  const pairs = new Map<string, { patient: string; category: string }>();
  for (const w of writes) {
    if (w.resource?.resourceType === 'Patient' && w.previous?.resourceType === 'Patient' && w.resource.id && bsnOf(w.resource) !== bsnOf(w.previous)) {
      // A BSN given (or changed) later: everything the patient has may now be localisable under it.
      for (const category of ZORGCONTEXT_CODES) if (!exclude.has(category)) pairs.set(`${w.resource.id}|${category}`, { patient: w.resource.id, category });
    }
    for (const r of [w.resource, w.previous]) {
      if (!r) continue;
      const categories = categoriesOf(r).filter((c) => !exclude.has(c) && ZORGCONTEXT_CODES.has(c));
      if (categories.length === 0) continue;
      for (const patient of patientsOf(r)) for (const category of categories) pairs.set(`${patient}|${category}`, { patient, category });
    }
  }
  return [...pairs.values()];
}

/**
 * Records "needs a sync" for each pair through `db` — pass the write's own transaction, so the record commits
 * or rolls back with the resources. A pair already waiting gets a new generation (a sync in flight for the
 * old one will not delete it) and is due at once.
 */
export async function enqueue(db: AnyKysely, tenant: string, pairs: readonly { patient: string; category: string }[], now: number): Promise<void> {
  const outbox = db as import('kysely').Kysely<OutboxTables>;
  // One order for every writer: concurrent transactions lock shared rows in the same sequence (no deadlock).
  const sorted = [...pairs].sort((a, b) => (a.patient === b.patient ? (a.category < b.category ? -1 : 1) : a.patient < b.patient ? -1 : 1));
  for (let i = 0; i < sorted.length; i += 200) {
    const rows = sorted.slice(i, i + 200).map(({ patient, category }) => ({ tenant, patient_id: patient, category, generation: 1, attempts: 0, next_attempt_at: now, last_error: null }));
    await outbox
      .insertInto('gf_localisation_outbox')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['tenant', 'patient_id', 'category']).doUpdateSet((eb) => ({ generation: eb('gf_localisation_outbox.generation', '+', 1), attempts: 0, next_attempt_at: now, last_error: null })),
      )
      .execute();
  }
}

export interface RegistrarOptions {
  /** Node database (the outbox table lives here). */
  db: AnyKysely;
  source: PatientDataSource;
  /** The PRS client, or one per tenant (each tenant calls the PRS as its own organisation). */
  pseudonyms: PseudonymClient | ((tenant: string) => PseudonymClient);
  /** The NVI as PRS recipient, e.g. { organization: 'ura:90000901', scope: 'nationale-verwijsindex' }. */
  nviRecipient: Recipient;
  /** NVI FHIR base, e.g. http://127.0.0.1:8080/national/nvi/fhir (a function when known only once listening). */
  nviBase: string | (() => string);
  /** Bearer token for the NVI as the tenant's organisation (sent as `Bearer <token>`). */
  nviToken?: (tenant: string) => string | Promise<string>;
  /** The whole Authorization header value for the NVI instead; wins over nviToken. */
  nviAuthorization?: (tenant: string) => string | Promise<string>;
  /** URA of the tenant (custodian); undefined = the tenant does not take part. */
  custodianUra: (tenant: string) => string | undefined | Promise<string | undefined>;
  /**
   * OAuth client id the NVI sees for the tenant's calls (List.source; the NVI requires it to be the caller's):
   * one id for the installation, or per tenant when each organisation authenticates as itself.
   */
  clientId: string | ((tenant: string) => string);
  /** Categories never registered (default: Logging — audit events are not care data). */
  exclude?: string[];
  backoff?: { baseMs: number; maxMs: number };
  pollMs?: number;
  /** Outbox rows taken per drain (default 200). */
  batch?: number;
  /** Entries per NVI transaction Bundle (default 50; the NVI takes at most 1000). */
  postBatch?: number;
  /** Rows prepared (data check + PRS evaluation) at once (default 4). */
  concurrency?: number;
  now?: () => number;
  logger?: Logger;
  metrics?: Counters;
  fetch?: typeof fetch;
  /** The HTTP client for a tenant's NVI calls, when each organisation calls with its own TLS client certificate. */
  fetchFor?: (tenant: string) => typeof fetch;
}

type Action = 'register' | 'deregister';
interface Prepared {
  row: OutboxTable;
  action: Action;
  entry: NonNullable<Bundle['entry']>[number];
}

/** An NVI answer other than success; 4xx on a Bundle of several entries is retried entry by entry. */
class NviRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class LocalisationRegistrar {
  readonly metrics: Counters;
  readonly #db: import('kysely').Kysely<OutboxTables>;
  readonly #exclude: ReadonlySet<string>;
  #timer?: NodeJS.Timeout;
  #running?: Promise<boolean>;
  #again = false;
  #started = false;
  /** Drains run one at a time (worker and explicit calls alike): no row is sent twice concurrently. */
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(private readonly opts: RegistrarOptions) {
    this.#db = opts.db as import('kysely').Kysely<OutboxTables>;
    this.metrics = opts.metrics ?? registrarMetrics();
    this.#exclude = new Set(opts.exclude ?? DEFAULT_EXCLUDE);
  }

  static async open(opts: RegistrarOptions): Promise<LocalisationRegistrar> {
    await migrateOutbox(opts.db);
    return new LocalisationRegistrar(opts);
  }

  #now(): number {
    return (this.opts.now ?? Date.now)();
  }

  #clientId(tenant: string): string {
    return typeof this.opts.clientId === 'function' ? this.opts.clientId(tenant) : this.opts.clientId;
  }

  /**
   * The write-path part: records a sync for every (patient, category) the writes touch, through `db` (the
   * write's transaction). Returns how many pairs were queued; the caller wakes the worker once committed.
   */
  async queue(db: AnyKysely, tenant: string, writes: readonly LocalisableWrite[]): Promise<number> {
    const pairs = outboxPairs(writes, this.#exclude);
    if (pairs.length === 0) return 0;
    await enqueue(db, tenant, pairs, this.#now());
    for (const { category } of pairs) this.metrics.inc('schakel_localisation_outbox_queued_total', { category });
    return pairs.length;
  }

  /**
   * Records a change outside a resource transaction (tools, tests). The write path uses the storage hook
   * (node-registration.ts) instead, which queues in the same transaction as the resource.
   */
  async onResourceWritten(tenant: string, resource: Resource | null, previous?: Resource | null): Promise<void> {
    if ((await this.queue(this.opts.db, tenant, [{ resource, previous }])) > 0) this.kick();
  }

  /**
   * Moves one patient's waiting syncs to the front of the queue (e.g. the patient a professional is about to look
   * up while a large import is still being registered) and wakes the worker.
   */
  async prioritise(tenant: string, patientId: string): Promise<number> {
    const r = await this.#db.updateTable('gf_localisation_outbox').set({ next_attempt_at: 0 }).where('tenant', '=', tenant).where('patient_id', '=', patientId).executeTakeFirst();
    this.kick();
    return Number(r.numUpdatedRows);
  }

  /** How many syncs are waiting (progress, health); of one patient of one tenant when given. */
  async backlog(of?: { tenant: string; patientId: string }): Promise<number> {
    let q = this.#db.selectFrom('gf_localisation_outbox').select((eb) => eb.fn.countAll<number>().as('n'));
    if (of) q = q.where('tenant', '=', of.tenant).where('patient_id', '=', of.patientId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** Rows still waiting (tests, health). */
  async pending(): Promise<{ tenant: string; patient_id: string; category: string; attempts: number; next_attempt_at: number; last_error: string | null }[]> {
    const rows = await this.#db.selectFrom('gf_localisation_outbox').select(['tenant', 'patient_id', 'category', 'attempts', 'next_attempt_at', 'last_error']).execute();
    return rows.map((r) => ({ ...r, attempts: Number(r.attempts), next_attempt_at: Number(r.next_attempt_at) }));
  }

  /** Processes every due row (up to `batch`) once; returns how many succeeded and how many will be retried. */
  drain(): Promise<{ done: number; retry: number }> {
    const run = this.#lock.then(() => this.#drainOnce());
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #drainOnce(): Promise<{ done: number; retry: number }> {
    const due = await this.#db
      .selectFrom('gf_localisation_outbox')
      .selectAll()
      .where('next_attempt_at', '<=', this.#now())
      .orderBy('next_attempt_at')
      .limit(this.opts.batch ?? 200)
      .execute();
    const tally = { done: 0, retry: 0 };
    const byTenant = new Map<string, OutboxTable[]>();
    for (const row of due) byTenant.set(row.tenant, [...(byTenant.get(row.tenant) ?? []), row]);
    for (const [tenant, rows] of byTenant) {
      const custodian = await this.opts.custodianUra(tenant);
      if (!custodian) {
        await this.#settle(rows.map((row) => ({ row, action: 'skip' as const })), tally);
        continue;
      }
      // The BSN is looked up once per patient per drain and kept in memory only for this drain.
      const bsns = new Map<string, Promise<string | undefined>>();
      const prepared: Prepared[] = [];
      const skipped: OutboxTable[] = [];
      const failed: { row: OutboxTable; error: Error }[] = [];
      await eachLimited(rows, this.opts.concurrency ?? 4, async (row) => {
        try {
          const p = await this.#prepare(row, custodian, bsns);
          if (p) prepared.push(p);
          else skipped.push(row);
        } catch (e) {
          failed.push({ row, error: e as Error });
        }
      });
      await this.#settle(skipped.map((row) => ({ row, action: 'skip' as const })), tally);
      for (const f of failed) await this.#fail(f.row, f.error, tally);
      const size = Math.max(1, Math.min(this.opts.postBatch ?? 50, 1000));
      for (let i = 0; i < prepared.length; i += size) await this.#send(tenant, custodian, prepared.slice(i, i + size), tally);
    }
    return tally;
  }

  /** Decides register or deregister from the tenant's data and builds the NVI entry; undefined = nothing to do. */
  async #prepare(row: OutboxTable, custodian: string, bsns: Map<string, Promise<string | undefined>>): Promise<Prepared | undefined> {
    let bsnLookup = bsns.get(row.patient_id);
    if (!bsnLookup) {
      bsnLookup = this.opts.source.patientBsn(row.tenant, row.patient_id);
      bsns.set(row.patient_id, bsnLookup);
    }
    const bsn = await bsnLookup;
    if (!bsn) return undefined; // no BSN ⇒ nothing to localise by
    const present = await this.opts.source.hasData(row.tenant, row.patient_id, row.category);
    const client = typeof this.opts.pseudonyms === 'function' ? this.opts.pseudonyms(row.tenant) : this.opts.pseudonyms;
    // One evaluation per entry: an NVI identifier is single use, also within one Bundle.
    const nviIdentifier = await client.nviIdentifier(bsnIdentifier(bsn), this.opts.nviRecipient);
    if (present) {
      return { row, action: 'register', entry: { request: { method: 'POST', url: 'List' }, resource: buildList({ nviIdentifier, category: row.category, custodian, source: this.#clientId(row.tenant) }) } };
    }
    const query = new URLSearchParams({
      'subject:identifier': `${NVI_IDENTIFIER_SYSTEM}|${nviIdentifier}`,
      code: row.category,
      'source:identifier': `${OAUTH_CLIENT_ID_SYSTEM}|${this.#clientId(row.tenant)}`,
    });
    return { row, action: 'deregister', entry: { request: { method: 'DELETE', url: `List?${query.toString()}` } } };
  }

  /** Posts one transaction Bundle; when the NVI refuses a Bundle of several, each entry is tried on its own. */
  async #send(tenant: string, custodian: string, batch: Prepared[], tally: { done: number; retry: number }): Promise<void> {
    try {
      await this.#post(tenant, batch);
      await this.#settle(batch, tally);
    } catch (e) {
      const refused = e instanceof NviRefused && e.status >= 400 && e.status < 500 && ![401, 403, 429].includes(e.status);
      if (!refused || batch.length === 1) {
        for (const p of batch) await this.#fail(p.row, e as Error, tally);
        return;
      }
      // One bad entry must not hold back the others. The identifiers may have been opened (single use), so
      // each row is prepared afresh.
      this.opts.logger?.warn({ event: 'localisation.split', tenant, entries: batch.length, status: (e as NviRefused).status }, 'NVI refused a Bundle; sending its entries one by one');
      for (const p of batch) {
        try {
          const again = await this.#prepare(p.row, custodian, new Map());
          if (again) await this.#post(tenant, [again]);
          await this.#settle([again ?? { row: p.row, action: 'skip' }], tally);
        } catch (e2) {
          await this.#fail(p.row, e2 as Error, tally);
        }
      }
    }
  }

  async #post(tenant: string, batch: Prepared[]): Promise<void> {
    const base = typeof this.opts.nviBase === 'function' ? this.opts.nviBase() : this.opts.nviBase;
    const authorization = this.opts.nviAuthorization ? await this.opts.nviAuthorization(tenant) : `Bearer ${await this.opts.nviToken?.(tenant)}`;
    const f = this.opts.fetchFor?.(tenant) ?? this.opts.fetch ?? fetch;
    const res = await f(base.replace(/\/+$/, ''), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', authorization },
      body: JSON.stringify(transactionOf(batch.map((p) => p.entry))),
      signal: AbortSignal.timeout(10_000 + 100 * batch.length),
    });
    if (!res.ok) {
      const text = await res.text();
      throw new NviRefused(res.status, `NVI answered ${res.status}: ${text.slice(0, 160)}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    const registered = batch.filter((p) => p.action === 'register').length;
    this.opts.logger?.info({ event: 'localisation.sync', tenant, registered, deregistered: batch.length - registered }, 'localisation synced');
  }

  /** Removes synced rows — unless a write queued them again meanwhile (generation moved on). */
  async #settle(done: { row: OutboxTable; action: Action | 'skip' }[], tally: { done: number }): Promise<void> {
    if (done.length === 0) return;
    await this.#db.transaction().execute(async (trx) => {
      for (const { row } of done) {
        await trx
          .deleteFrom('gf_localisation_outbox')
          .where('tenant', '=', row.tenant)
          .where('patient_id', '=', row.patient_id)
          .where('category', '=', row.category)
          .where('generation', '=', row.generation)
          .execute();
      }
    });
    for (const { action } of done) this.metrics.inc('schakel_localisation_sync_total', { action, outcome: 'ok' });
    tally.done += done.length;
  }

  async #fail(row: OutboxTable, e: Error, tally: { retry: number }): Promise<void> {
    const attempts = Number(row.attempts) + 1;
    const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };
    const delay = Math.min(maxMs, baseMs * 2 ** (attempts - 1));
    const reason = e.message.slice(0, 200);
    await this.#db
      .updateTable('gf_localisation_outbox')
      .set({ attempts, next_attempt_at: this.#now() + delay, last_error: reason })
      .where('tenant', '=', row.tenant)
      .where('patient_id', '=', row.patient_id)
      .where('category', '=', row.category)
      .where('generation', '=', row.generation)
      .execute();
    this.metrics.inc('schakel_localisation_sync_total', { action: 'sync', outcome: 'retry' });
    // Data ahead of its Patient is routine during an import: not worth a warning per row.
    this.opts.logger?.[e instanceof PatientNotKnown ? 'debug' : 'warn']({ event: 'localisation.retry', tenant: row.tenant, category: row.category, attempts, delayMs: delay, reason }, 'localisation sync failed; will retry');
    tally.retry++;
  }

  /** Starts the background worker: drains every pollMs, at once after a write (kick), back to back while rows keep coming. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Wakes the worker (after a committed write); a no-op when it is not started. */
  kick(): void {
    if (!this.#started) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms).unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    if (!this.#started || this.#running) return;
    const batch = this.opts.batch ?? 200;
    this.#running = this.drain().then(
      (r) => r.done + r.retry >= batch,
      (e: Error) => {
        this.opts.logger?.error({ event: 'localisation.drain', reason: e.message }, 'outbox drain failed');
        return false;
      },
    );
    const full = await this.#running;
    this.#running = undefined;
    if (!this.#started) return;
    const again = full || this.#again;
    this.#again = false;
    this.#schedule(again ? 0 : (this.opts.pollMs ?? 1000));
  }

  /** Stops the worker and waits for a drain in progress. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#lock;
  }
}

/** Runs fn over items with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
