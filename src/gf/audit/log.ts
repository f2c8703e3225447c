/**
 * The NEN 7513 audit log: AuditEvents in a store apart from clinical data (its own tables; on SQLite its own
 * file), hash-chained so that any change, insertion or deletion of a past event is detected by `verify()`.
 *
 * Writes are group-committed: `record()` queues the event and a flusher appends the queue in one transaction
 * shortly after (or at once when the queue is large), so auditing does not put a disk sync on every read.
 * On a crash, events of the last few milliseconds may be missing; they are never corrupted (see ADR 0005).
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4';
import { CompiledQuery, Kysely, sql } from 'kysely';
import type { Dialect } from '../../storage/schema.ts';
import { toAuditEvent, type AccessRecord } from './event.ts';

export interface AuditTables {
  audit_log: { seq: number; tenant: string; recorded: string; patient: string | null; purpose: string | null; event: string; prev_hash: string; hash: string };
  audit_head: { id: number; seq: number; hash: string };
}

const GENESIS = '0'.repeat(64);
const FLUSH_MS = 10;
const FLUSH_AT = 250;

const ROWS_PER_INSERT = 250;

function placeholders(rows: number, width: number, dialect: Dialect): string {
  const out: string[] = [];
  let k = 0;
  for (let r = 0; r < rows; r++) out.push(`(${Array.from({ length: width }, () => (dialect === 'postgres' ? `$${++k}` : '?')).join(',')})`);
  return out.join(',');
}

/** The statements of a flush, compiled once (not by the query builder per flush). */
function statements(dialect: Dialect) {
  const pg = dialect === 'postgres';
  const insertText = new Map<number, string>();
  return {
    head: CompiledQuery.raw(`SELECT seq, hash FROM audit_head WHERE id = 1${pg ? ' FOR UPDATE' : ''}`, []),
    setHead: (seq: number, hash: string) => CompiledQuery.raw(`UPDATE audit_head SET seq = ${pg ? '$1' : '?'}, hash = ${pg ? '$2' : '?'} WHERE id = 1`, [seq, hash]),
    insert(rows: number, values: unknown[]) {
      let text = insertText.get(rows);
      if (!text) insertText.set(rows, (text = `INSERT INTO audit_log (seq, tenant, recorded, patient, purpose, event, prev_hash, hash) VALUES ${placeholders(rows, 8, dialect)}`));
      return CompiledQuery.raw(text, values);
    },
  };
}

export const chainHash = (prev: string, event: string): string => createHash('sha256').update(prev).update('\n').update(event).digest('hex');

export class AuditLog {
  private queue: { tenant: string; recorded: string; patient: string | null; purpose: string | null; event: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly sql: ReturnType<typeof statements>;

  private constructor(
    private readonly db: Kysely<AuditTables>,
    dialect: Dialect,
  ) {
    this.sql = statements(dialect);
  }

  static async open(db: Kysely<object>, dialect: Dialect): Promise<AuditLog> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema DDL is untyped by design
    const ddl = db as unknown as Kysely<any>;
    await ddl.schema
      .createTable('audit_log')
      .ifNotExists()
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('recorded', 'text', (c) => c.notNull())
      .addColumn('patient', 'text')
      .addColumn('purpose', 'text')
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await ddl.schema.createIndex('audit_log_patient').ifNotExists().on('audit_log').columns(['tenant', 'patient', 'seq']).execute();
    await ddl.schema
      .createTable('audit_head')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    const typed = db as unknown as Kysely<AuditTables>;
    await typed.insertInto('audit_head').values({ id: 1, seq: 0, hash: GENESIS }).onConflict((oc) => oc.column('id').doNothing()).execute();
    return new AuditLog(typed, dialect);
  }

  /**
   * Queues an access for the log; it is appended within FLUSH_MS. The stored (and hash-chained) form is the
   * access record itself — a few hundred bytes; the FHIR AuditEvent is rendered from it when read, so the hot
   * path writes a fifth of the bytes and builds no FHIR structure.
   */
  record(r: AccessRecord): void {
    const recorded = r.recorded ?? new Date().toISOString();
    this.queue.push({ tenant: r.tenant, recorded, patient: r.patientId ?? null, purpose: r.context.purpose ?? null, event: JSON.stringify({ ...r, recorded }) });
    if (this.queue.length >= FLUSH_AT) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Appends everything queued so far (serialised: one chain, one writer at a time). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.flushing.then(() => this.append());
    return this.flushing;
  }

  private async append(): Promise<void> {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    await this.db.transaction().execute(async (trx) => {
      const head = (await trx.executeQuery<{ seq: number | string; hash: string }>(this.sql.head)).rows[0];
      if (!head) throw new Error('audit_head is missing: the audit log was not opened with AuditLog.open');
      let seq = Number(head.seq);
      let hash = head.hash;
      // Flat parameters and a plain multi-row INSERT: the query builder's per-value AST cost more than the insert.
      const values: unknown[] = [];
      for (const e of batch) {
        seq += 1;
        const prev = hash;
        hash = chainHash(prev, e.event);
        values.push(seq, e.tenant, e.recorded, e.patient, e.purpose, e.event, prev, hash);
      }
      for (let i = 0; i < batch.length; i += ROWS_PER_INSERT) {
        const n = Math.min(ROWS_PER_INSERT, batch.length - i);
        await trx.executeQuery(this.sql.insert(n, values.slice(i * 8, (i + n) * 8)));
      }
      await trx.executeQuery(this.sql.setHead(seq, hash));
    });
  }

  /** Recomputes the chain from the start. Any edited, inserted or removed event breaks it. */
  async verify(): Promise<{ ok: boolean; checked: number; brokenAt?: number; reason?: string }> {
    await this.flush();
    let prev = GENESIS;
    let expectedSeq = 1;
    let checked = 0;
    let after = 0;
    while (true) {
      const rows = await this.db.selectFrom('audit_log').select(['seq', 'event', 'prev_hash', 'hash']).where('seq', '>', after).orderBy('seq').limit(5000).execute();
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.seq !== expectedSeq) return { ok: false, checked, brokenAt: expectedSeq, reason: `event ${expectedSeq} is missing` };
        if (r.prev_hash !== prev) return { ok: false, checked, brokenAt: r.seq, reason: `event ${r.seq} does not link to event ${r.seq - 1}` };
        if (chainHash(prev, r.event) !== r.hash) return { ok: false, checked, brokenAt: r.seq, reason: `event ${r.seq} was altered` };
        prev = r.hash;
        expectedSeq++;
        checked++;
      }
      after = rows[rows.length - 1].seq;
    }
    const head = await this.db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    if (head.seq !== checked || head.hash !== prev) return { ok: false, checked, brokenAt: checked, reason: `the chain ends at ${checked} but the head says ${head.seq} (events removed at the end?)` };
    return { ok: true, checked };
  }

  /** "Who looked at my data": the events about one patient of one tenant, newest first. */
  async forPatient(tenant: string, patientId: string, count = 100): Promise<AuditEvent[]> {
    await this.flush();
    const rows = await this.db.selectFrom('audit_log').select('event').where('tenant', '=', tenant).where('patient', '=', patientId).orderBy('seq', 'desc').limit(count).execute();
    return rows.map((r) => toAuditEvent(JSON.parse(r.event) as AccessRecord));
  }

  /** The newest events of one tenant or national service (a privacy officer's view), newest first. */
  async forTenant(tenant: string, count = 100): Promise<AuditEvent[]> {
    await this.flush();
    const rows = await this.db.selectFrom('audit_log').select('event').where('tenant', '=', tenant).orderBy('seq', 'desc').limit(count).execute();
    return rows.map((r) => toAuditEvent(JSON.parse(r.event) as AccessRecord));
  }

  async count(): Promise<number> {
    await this.flush();
    const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM audit_log`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
