/**
 * Node side of localisation: keeps the NVI in step with what each provider tenant holds.
 *
 * The write path calls `onResourceWritten(tenant, resource | null, previous?)`; that only records
 * "(tenant, patient, category) needs a sync" in a durable outbox table in the node database. A worker
 * drains the outbox in the background: it decides from the tenant's current data whether the patient still
 * has data of the category, pseudonymises the patient's BSN for the NVI through the PRS (the NVI is the PRS
 * recipient) and registers or deregisters over HTTP with a transaction Bundle. Both are idempotent at the
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
import { ZORGCONTEXT_CODES, categoriesOf, paramsOf } from './categories.ts';
import { NVI_IDENTIFIER_SYSTEM, OAUTH_CLIENT_ID_SYSTEM, buildList, transactionOf } from './list.ts';
import { registrarMetrics, type Counters } from './metrics.ts';
import type { AnyKysely } from './store.ts';

/** What the registrar needs to know about a tenant's data. */
export interface PatientDataSource {
  /** The patient's BSN (also for a deleted patient, from its last version), or undefined. */
  patientBsn(tenant: string, patientId: string): Promise<string | undefined>;
  /** Whether the tenant still holds data of the category for the patient. */
  hasData(tenant: string, patientId: string, category: string): Promise<boolean>;
}

type Dispatch = (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;

/** PatientDataSource over the node's FHIR dispatcher (search with `_summary=count`, read, history). */
export function dispatchSource(dispatch: Dispatch): PatientDataSource {
  const call = async (tenant: string, path: string, query: [string, string][] = []) => {
    const res = await dispatch({ tenant, base: `urn:schakel:${tenant}`, strict: false }, { method: 'GET', path, query, headers: {} });
    const body = res.body === undefined ? undefined : isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
    return { status: res.status, body };
  };
  const bsnOf = (p: Resource | undefined) => (p?.resourceType === 'Patient' ? (p as Patient).identifier?.find((i) => i.system === BSN_SYSTEM)?.value : undefined);
  return {
    async patientBsn(tenant, patientId) {
      const r = await call(tenant, `Patient/${patientId}`);
      if (r.status === 200) return bsnOf(r.body);
      if (r.status !== 410) return undefined;
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

export interface RegistrarOptions {
  /** Node database (the outbox table lives here). */
  db: AnyKysely;
  source: PatientDataSource;
  pseudonyms: PseudonymClient;
  /** The NVI as PRS recipient, e.g. { organization: 'ura:90000901', scope: 'nationale-verwijsindex' }. */
  nviRecipient: Recipient;
  /** NVI FHIR base, e.g. http://127.0.0.1:8080/national/nvi/fhir */
  nviBase: string;
  nviToken: (tenant: string) => string | Promise<string>;
  /** URA of the tenant (custodian); undefined = the tenant does not take part. */
  custodianUra: (tenant: string) => string | undefined | Promise<string | undefined>;
  /** OAuth client id of this installation (List.source). */
  clientId: string;
  /** Categories never registered (default: Logging — audit events are not care data). */
  exclude?: string[];
  backoff?: { baseMs: number; maxMs: number };
  pollMs?: number;
  batch?: number;
  now?: () => number;
  logger?: Logger;
  metrics?: Counters;
  fetch?: typeof fetch;
}

export class LocalisationRegistrar {
  readonly metrics: Counters;
  readonly #db: import('kysely').Kysely<OutboxTables>;
  #timer?: NodeJS.Timeout;
  #running?: Promise<unknown>;
  #stopped = false;

  private constructor(private readonly opts: RegistrarOptions) {
    this.#db = opts.db as import('kysely').Kysely<OutboxTables>;
    this.metrics = opts.metrics ?? registrarMetrics();
  }

  static async open(opts: RegistrarOptions): Promise<LocalisationRegistrar> {
    await migrateOutbox(opts.db);
    return new LocalisationRegistrar(opts);
  }

  #now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * Write-path hook: the resource as stored (null when deleted) and the previous version, if any.
   * Records a sync for every (patient, category) either version touches. Cheap: one upsert per pair.
   */
  async onResourceWritten(tenant: string, resource: Resource | null, previous?: Resource | null): Promise<void> {
    const exclude = new Set(this.opts.exclude ?? ['Logging']);
    const pairs = new Map<string, { patient: string; category: string }>();
    for (const r of [resource, previous]) {
      if (!r) continue;
      for (const category of categoriesOf(r)) {
        if (exclude.has(category) || !ZORGCONTEXT_CODES.has(category)) continue;
        for (const patient of patientsOf(r)) pairs.set(`${patient}|${category}`, { patient, category });
      }
    }
    if (pairs.size === 0) return;
    const now = this.#now();
    for (const { patient, category } of pairs.values()) {
      await this.#db
        .insertInto('gf_localisation_outbox')
        .values({ tenant, patient_id: patient, category, generation: 1, attempts: 0, next_attempt_at: now, last_error: null })
        .onConflict((oc) =>
          oc.columns(['tenant', 'patient_id', 'category']).doUpdateSet((eb) => ({ generation: eb('gf_localisation_outbox.generation', '+', 1), attempts: 0, next_attempt_at: now, last_error: null })),
        )
        .execute();
      this.metrics.inc('schakel_localisation_outbox_queued_total', { category });
    }
    this.#kick();
  }

  /** Rows still waiting (tests, health). */
  async pending(): Promise<{ tenant: string; category: string; attempts: number; last_error: string | null }[]> {
    return this.#db.selectFrom('gf_localisation_outbox').select(['tenant', 'category', 'attempts', 'last_error']).execute();
  }

  /** Processes every due row once; returns how many succeeded and how many will be retried. */
  async drain(): Promise<{ done: number; retry: number }> {
    const due = await this.#db
      .selectFrom('gf_localisation_outbox')
      .selectAll()
      .where('next_attempt_at', '<=', this.#now())
      .orderBy('next_attempt_at')
      .limit(this.opts.batch ?? 100)
      .execute();
    let done = 0;
    let retry = 0;
    for (const row of due) {
      try {
        const action = await this.#sync(row);
        await this.#db
          .deleteFrom('gf_localisation_outbox')
          .where('tenant', '=', row.tenant)
          .where('patient_id', '=', row.patient_id)
          .where('category', '=', row.category)
          .where('generation', '=', row.generation)
          .execute();
        this.metrics.inc('schakel_localisation_sync_total', { action, outcome: 'ok' });
        done++;
      } catch (e) {
        const attempts = Number(row.attempts) + 1;
        const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };
        const delay = Math.min(maxMs, baseMs * 2 ** (attempts - 1));
        const reason = (e as Error).message.slice(0, 200);
        await this.#db
          .updateTable('gf_localisation_outbox')
          .set({ attempts, next_attempt_at: this.#now() + delay, last_error: reason })
          .where('tenant', '=', row.tenant)
          .where('patient_id', '=', row.patient_id)
          .where('category', '=', row.category)
          .where('generation', '=', row.generation)
          .execute();
        this.metrics.inc('schakel_localisation_sync_total', { action: 'sync', outcome: 'retry' });
        this.opts.logger?.warn({ event: 'localisation.retry', tenant: row.tenant, category: row.category, attempts, delayMs: delay, reason }, 'localisation sync failed; will retry');
        retry++;
      }
    }
    return { done, retry };
  }

  async #sync(row: OutboxTable): Promise<'register' | 'deregister' | 'skip'> {
    const custodian = await this.opts.custodianUra(row.tenant);
    if (!custodian) return 'skip';
    const bsn = await this.opts.source.patientBsn(row.tenant, row.patient_id);
    if (!bsn) return 'skip'; // no BSN ⇒ nothing to localise by
    const present = await this.opts.source.hasData(row.tenant, row.patient_id, row.category);
    const nviIdentifier = await this.opts.pseudonyms.nviIdentifier(bsnIdentifier(bsn), this.opts.nviRecipient);
    const entry = present
      ? { request: { method: 'POST' as const, url: 'List' }, resource: buildList({ nviIdentifier, category: row.category, custodian, source: this.opts.clientId }) }
      : {
          request: {
            method: 'DELETE' as const,
            url: `List?${new URLSearchParams({
              'subject:identifier': `${NVI_IDENTIFIER_SYSTEM}|${nviIdentifier}`,
              code: row.category,
              'source:identifier': `${OAUTH_CLIENT_ID_SYSTEM}|${this.opts.clientId}`,
            }).toString()}`,
          },
        };
    const f = this.opts.fetch ?? fetch;
    const res = await f(this.opts.nviBase.replace(/\/+$/, ''), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', authorization: `Bearer ${await this.opts.nviToken(row.tenant)}` },
      body: JSON.stringify(transactionOf([entry])),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      const text = await res.text();
      throw new Error(`NVI answered ${res.status}: ${text.slice(0, 160)}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    this.opts.logger?.info({ event: 'localisation.sync', tenant: row.tenant, category: row.category, action: present ? 'register' : 'deregister' }, 'localisation synced');
    return present ? 'register' : 'deregister';
  }

  /** Starts the background worker (polls every pollMs, and right after each hook). */
  start(): void {
    this.#stopped = false;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.drain()
        .catch((e: Error) => this.opts.logger?.error({ event: 'localisation.drain', reason: e.message }, 'outbox drain failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.opts.pollMs ?? 1000).unref();
        });
    };
    tick();
  }

  #kick(): void {
    if (this.#stopped || !this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.start(), 0).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
