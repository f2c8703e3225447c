/**
 * Bulk jobs of one node: kicked off by $export/$import, persisted in `bulk_jobs` (so a restart keeps finished
 * manifests and picks up unfinished jobs), run one at a time in the background of the node process, cancelled
 * on request, and deleted with their files when they expire.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, realpathSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { ServerDeps } from '../server/context.ts';
import { nextTimestamp } from '../storage/resource-store.ts';
import { runExport, type ExportParams, type OutputFile } from './export.ts';
import { fileSource, importSources, lineErrorOutcome, urlSource, type ImportSource } from './importer.ts';
import { bulkDb, ensureBulkSchema, type BulkDb, type BulkJobTable, type JobKind } from './schema.ts';

export interface BulkConfig {
  /** Directory for export files and import error files (per tenant and job). */
  dir: string;
  /** How long a completed job (manifest and files) is kept, in milliseconds. */
  expiryMs: number;
  /** Directories $import may read files from. */
  importDirs: string[];
  /** Whether $import may fetch http(s) inputs from loopback addresses. */
  allowLoopbackUrls: boolean;
  /** Retry-After (seconds) on in-progress status answers. */
  retryAfterSeconds: number;
  /** Export files are split after this many resources. */
  maxLinesPerFile: number;
  /** Resources per import transaction. */
  importBatch: number;
}

export interface ImportParams {
  inputs: { type?: string; url: string }[];
}

export interface JobResult {
  output: (OutputFile & { inputUrl?: string })[];
  error: OutputFile[];
}

export interface JobView {
  tenant: string;
  id: string;
  kind: JobKind;
  status: BulkJobTable['status'];
  request: string;
  progress: string;
  transactionTime: string;
  result?: JobResult;
  error?: string;
  expires?: string;
}

const configs = new WeakMap<ServerDeps, Partial<BulkConfig>>();
const services = new WeakMap<ServerDeps, Promise<BulkService>>();

/** Sets a node's bulk options (before or after first use); unset options come from the environment or defaults. */
export function configureBulk(deps: ServerDeps, config: Partial<BulkConfig>): void {
  configs.set(deps, { ...configs.get(deps), ...config });
  void services.get(deps)?.then((s) => s.reconfigure(configs.get(deps)!));
}

/** The node's bulk service, created (tables, pending jobs resumed) on first use. */
export function bulkService(deps: ServerDeps): Promise<BulkService> {
  let s = services.get(deps);
  if (!s) {
    s = BulkService.open(deps, configs.get(deps) ?? {});
    services.set(deps, s);
    s.catch(() => services.delete(deps));
  }
  return s;
}

/** Stops the node's running job (it resumes at the next start); used when the server closes. */
export async function closeBulk(deps: ServerDeps): Promise<void> {
  const s = services.get(deps);
  services.delete(deps);
  if (s) await (await s.catch(() => undefined))?.close();
}

async function defaultDir(deps: ServerDeps): Promise<string> {
  if (process.env.SCHAKEL_BULK_DIR) return resolve(process.env.SCHAKEL_BULK_DIR);
  if (deps.engine.dialect === 'sqlite') {
    const { rows } = await sql<{ name: string; file: string }>`PRAGMA database_list`.execute(deps.engine.db);
    const file = rows.find((r) => r.name === 'main')?.file;
    if (file) return join(dirname(file), 'bulk');
  }
  return join(tmpdir(), 'schakel-bulk');
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : fallback;
}

export class BulkService {
  private queue: { tenant: string; id: string }[] = [];
  private running?: { tenant: string; id: string; abort: AbortController; done: Promise<void>; progress: string };
  private pumping?: Promise<void>;
  private closed = false;
  private sweeper: NodeJS.Timeout;
  private readonly db: BulkDb;

  private constructor(
    readonly deps: ServerDeps,
    public config: BulkConfig,
  ) {
    this.db = bulkDb(deps.engine.db);
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), Math.min(60_000, Math.max(1000, config.expiryMs / 2)));
    this.sweeper.unref();
  }

  static async open(deps: ServerDeps, partial: Partial<BulkConfig>): Promise<BulkService> {
    await ensureBulkSchema(deps.engine.db, deps.engine.dialect);
    const dir = partial.dir ?? (await defaultDir(deps));
    const config: BulkConfig = {
      dir,
      expiryMs: envNumber('SCHAKEL_BULK_EXPIRY_SECONDS', 3600) * 1000,
      importDirs: (process.env.SCHAKEL_IMPORT_DIRS ?? join(dir, 'import')).split(':').filter(Boolean),
      allowLoopbackUrls: true,
      retryAfterSeconds: 2,
      maxLinesPerFile: 100_000,
      importBatch: 500,
      ...partial,
    };
    const s = new BulkService(deps, config);
    await s.resumePending();
    return s;
  }

  reconfigure(partial: Partial<BulkConfig>): void {
    this.config = { ...this.config, ...partial };
  }

  jobDir(tenant: string, id: string): string {
    return join(this.config.dir, tenant, id);
  }

  /** Records a job and queues it. */
  async submit(tenant: string, kind: JobKind, request: string, params: ExportParams | ImportParams): Promise<JobView> {
    const now = new Date().toISOString();
    // From the store's clock: every later write in this process gets a strictly later lastUpdated, so
    // `_since=transactionTime` of a follow-up export picks up exactly the changes this one did not include.
    // Never earlier than the newest stored version: another process's writes (a bulk import writes faster than
    // one per millisecond, so its clock runs ahead of wall time) must not fall outside the export.
    const newest = await this.db
      .selectFrom('resource_history')
      .select((eb) => eb.fn.max('last_updated').as('t'))
      .where('tenant', '=', tenant)
      .executeTakeFirst();
    const stamp = nextTimestamp();
    const transactionTime = newest?.t && newest.t > stamp ? newest.t : stamp;
    const row: BulkJobTable = {
      tenant,
      id: randomUUID(),
      kind,
      status: 'queued',
      request,
      params: JSON.stringify(params),
      progress: 'queued',
      transaction_time: transactionTime,
      result: null,
      error: null,
      created: now,
      updated: now,
      expires: null,
    };
    await this.db.insertInto('bulk_jobs').values(row).execute();
    this.enqueue(tenant, row.id);
    return view(row);
  }

  async get(tenant: string, id: string): Promise<JobView | undefined> {
    const row = await this.db.selectFrom('bulk_jobs').selectAll().where('tenant', '=', tenant).where('id', '=', id).executeTakeFirst();
    if (!row || row.status === 'cancelled') return undefined;
    if (this.expired(row)) {
      await this.remove(tenant, id);
      return undefined;
    }
    const v = view(row);
    if (this.running && this.running.tenant === tenant && this.running.id === id) v.progress = this.running.progress;
    return v;
  }

  /** Cancels (or, when finished, deletes) a job and its files. False when there is no such job. */
  async cancel(tenant: string, id: string): Promise<boolean> {
    const job = await this.get(tenant, id);
    if (!job) return false;
    this.queue = this.queue.filter((q) => !(q.tenant === tenant && q.id === id));
    await this.db.updateTable('bulk_jobs').set({ status: 'cancelled', updated: new Date().toISOString() }).where('tenant', '=', tenant).where('id', '=', id).execute();
    const r = this.running;
    if (r && r.tenant === tenant && r.id === id) {
      r.abort.abort(new Error('cancelled'));
      await r.done;
    }
    await this.remove(tenant, id);
    return true;
  }

  /** Path of a completed job's output or error file, if `file` is one of them. */
  async file(tenant: string, id: string, file: string): Promise<string | undefined> {
    const job = await this.get(tenant, id);
    if (!job || job.status !== 'completed' || !job.result) return undefined;
    const known = [...job.result.output, ...job.result.error].some((o) => o.file === file);
    if (!known) return undefined;
    const path = join(this.jobDir(tenant, id), file);
    return existsSync(path) ? path : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.queue = [];
    const r = this.running;
    if (r) {
      r.abort.abort(new Error('closing'));
      await r.done;
    }
    await this.pumping;
  }

  /** Deletes expired jobs and their files. */
  async sweep(): Promise<void> {
    const finished = await this.db.selectFrom('bulk_jobs').select(['tenant', 'id', 'status', 'updated', 'expires']).where('status', 'in', ['completed', 'failed']).execute();
    for (const j of finished) if (this.expired(j)) await this.remove(j.tenant, j.id);
  }

  /** A finished job expires at its recorded time, or earlier when the configured expiry has since been shortened. */
  private expired(row: Pick<BulkJobTable, 'status' | 'updated' | 'expires'>): boolean {
    if (row.status !== 'completed' && row.status !== 'failed') return false;
    const now = Date.now();
    if (row.expires && Date.parse(row.expires) <= now) return true;
    return Date.parse(row.updated) + this.config.expiryMs <= now;
  }

  private async remove(tenant: string, id: string): Promise<void> {
    rmSync(this.jobDir(tenant, id), { recursive: true, force: true });
    await this.db.deleteFrom('bulk_jobs').where('tenant', '=', tenant).where('id', '=', id).execute();
    await this.db.deleteFrom('bulk_checkpoints').where('tenant', '=', tenant).where('source', 'like', `job:${id}:%`).execute();
  }

  private async resumePending(): Promise<void> {
    const rows = await this.db.selectFrom('bulk_jobs').select(['tenant', 'id']).where('status', 'in', ['queued', 'running']).orderBy('created').execute();
    for (const r of rows) this.enqueue(r.tenant, r.id);
  }

  private enqueue(tenant: string, id: string): void {
    this.queue.push({ tenant, id });
    if (!this.pumping) {
      this.pumping = this.pump().finally(() => {
        this.pumping = undefined;
      });
    }
  }

  private async pump(): Promise<void> {
    // Let the kick-off answer go out first.
    await new Promise((r) => setImmediate(r));
    while (!this.closed && this.queue.length > 0) {
      const next = this.queue.shift()!;
      const abort = new AbortController();
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      this.running = { ...next, abort, done, progress: 'starting' };
      try {
        await this.execute(next.tenant, next.id, abort.signal);
      } catch {
        // execute records failures itself; a failure to record (database closed) must not stop the process.
      } finally {
        this.running = undefined;
        finish();
      }
    }
  }

  private async setProgress(tenant: string, id: string, progress: string, persist: boolean): Promise<void> {
    if (this.running && this.running.id === id) this.running.progress = progress;
    if (persist) await this.db.updateTable('bulk_jobs').set({ progress, updated: new Date().toISOString() }).where('tenant', '=', tenant).where('id', '=', id).execute();
  }

  private async execute(tenant: string, id: string, signal: AbortSignal): Promise<void> {
    const row = await this.db.selectFrom('bulk_jobs').selectAll().where('tenant', '=', tenant).where('id', '=', id).executeTakeFirst();
    if (!row || (row.status !== 'queued' && row.status !== 'running')) return;
    await this.db.updateTable('bulk_jobs').set({ status: 'running', updated: new Date().toISOString() }).where('tenant', '=', tenant).where('id', '=', id).execute();
    const dir = this.jobDir(tenant, id);
    try {
      let result: JobResult;
      if (row.kind === 'export') {
        // An export interrupted by a restart starts over (same transactionTime, so the same content).
        rmSync(dir, { recursive: true, force: true });
        let lastPersist = 0;
        const files = await runExport(this.deps, tenant, row.transaction_time, JSON.parse(row.params) as ExportParams, dir, {
          maxLinesPerFile: this.config.maxLinesPerFile,
          signal,
          onProgress: async (p) => {
            const now = Date.now();
            const persist = now - lastPersist > 2000;
            if (persist) lastPersist = now;
            await this.setProgress(tenant, id, `${p.resources} resources exported; type ${p.typeIndex + 1} of ${p.typeCount} (${p.type})`, persist);
          },
        });
        result = { output: files, error: [] };
      } else {
        result = await this.runImport(tenant, id, JSON.parse(row.params) as ImportParams, dir, signal);
      }
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      const now = Date.now();
      await this.db
        .updateTable('bulk_jobs')
        .set({ status: 'completed', progress: 'completed', result: JSON.stringify(result), updated: new Date(now).toISOString(), expires: new Date(now + this.config.expiryMs).toISOString() })
        .where('tenant', '=', tenant)
        .where('id', '=', id)
        .where('status', '=', 'running')
        .execute();
    } catch (e) {
      if (signal.aborted) return; // cancelled (files removed by cancel) or closing (resumes at next start)
      await this.db
        .updateTable('bulk_jobs')
        .set({ status: 'failed', progress: 'failed', error: (e as Error).message, updated: new Date().toISOString(), expires: new Date(Date.now() + this.config.expiryMs).toISOString() })
        .where('tenant', '=', tenant)
        .where('id', '=', id)
        .execute();
    }
  }

  private async runImport(tenant: string, id: string, params: ImportParams, dir: string, signal: AbortSignal): Promise<JobResult> {
    const sources: ImportSource[] = params.inputs.map((input) => {
      const key = `job:${id}:${input.url}`;
      const path = localPath(input.url);
      return path ? fileSource(path, { type: input.type, key }) : urlSource(input.url, { type: input.type, key });
    });
    const total = sources.reduce((n, s) => n + (s.size ?? 0), 0);
    mkdirSync(dir, { recursive: true });
    let errors: WriteStream | undefined;
    let errorCount = 0;
    let lastPersist = 0;
    try {
      const results = await importSources(this.deps, tenant, sources, {
        batchSize: this.config.importBatch,
        signal,
        onLineError: (e) => {
          errors ??= createWriteStream(join(dir, 'errors.ndjson'), { flags: 'a' });
          errors.write(JSON.stringify(lineErrorOutcome(e)) + '\n');
          errorCount++;
        },
        onBatch: async (p) => {
          const now = Date.now();
          const persist = now - lastPersist > 2000;
          if (persist) lastPersist = now;
          const pct = total > 0 ? ` (${Math.min(100, Math.floor((p.bytes / total) * 100))}%)` : '';
          await this.setProgress(tenant, id, `${p.written} resources imported${pct}`, persist);
        },
      });
      const output = results.map((r, i) => ({ type: params.inputs[i].type ?? 'Resource', file: '', inputUrl: params.inputs[i].url, count: r.imported }));
      const errorTotal = results.reduce((n, r) => n + r.errors, 0);
      return { output, error: errorTotal > 0 ? [{ type: 'OperationOutcome', file: 'errors.ndjson', count: Math.max(errorTotal, errorCount) }] : [] };
    } finally {
      const e = errors;
      if (e) await new Promise((r) => e.end(r));
    }
  }

  /** Checks an $import input URL: a file under an allowed import directory, or http(s) on loopback. */
  checkInput(url: string): string | undefined {
    const path = localPath(url);
    if (path) {
      let real: string;
      try {
        real = realpathSync(path);
      } catch {
        return `input '${url}' does not exist`;
      }
      const allowed = this.config.importDirs.some((d) => {
        let root: string;
        try {
          root = realpathSync(d);
        } catch {
          return false;
        }
        return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
      });
      if (!allowed) return `input '${url}' is not under an allowed import directory`;
      if (!statSync(real).isFile()) return `input '${url}' is not a file`;
      return undefined;
    }
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return `input '${url}' is neither an absolute file path nor a URL`;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `input '${url}': only file paths and http(s) URLs are supported`;
    if (!this.config.allowLoopbackUrls || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return `input '${url}': only URLs on the loopback interface are allowed`;
    return undefined;
  }
}

/** A local file path for `/abs/path` or `file:///abs/path`, else undefined. */
function localPath(url: string): string | undefined {
  if (url.startsWith('file:')) return fileURLToPath(url);
  if (isAbsolute(url)) return url;
  return undefined;
}

function view(row: BulkJobTable): JobView {
  return {
    tenant: row.tenant,
    id: row.id,
    kind: row.kind,
    status: row.status,
    request: row.request,
    progress: row.progress,
    transactionTime: row.transaction_time,
    result: row.result ? (JSON.parse(row.result) as JobResult) : undefined,
    error: row.error ?? undefined,
    expires: row.expires ?? undefined,
  };
}
