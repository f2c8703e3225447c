/**
 * Bulk import of NDJSON sources into one tenant: streamed line by line (bounded memory), validated (R4 core,
 * plus declared profiles when the tenant asks for that on write), and committed through the resource store in
 * batches of a few hundred resources per database transaction.
 *
 * Resources keep their ids and are written with PUT semantics, so importing the same data twice creates no
 * duplicates. On top of that every batch commits a checkpoint (byte offset, line count) for its source in the
 * same transaction, so an interrupted import resumes exactly after the last committed batch, and a finished
 * source is skipped when the import is run again.
 */
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { OperationOutcome, Resource } from 'fhir/r4';
import type { Issue } from '../fhir/outcome.ts';
import { operationOutcome } from '../fhir/outcome.ts';
import { isResourceType } from '../fhir/definitions/model.ts';
import type { ServerDeps } from '../server/context.ts';
import type { PlannedWrite } from '../storage/resource-store.ts';
import { ndjsonLines } from './ndjson.ts';
import { bulkDb, bulkTrx, ensureBulkSchema, type BulkCheckpointTable } from './schema.ts';

export const DEFAULT_BATCH = 500;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export interface ImportSource {
  /** Checkpoint key: an absolute path, a URL, or a job-qualified name. */
  source: string;
  /** For messages: the path or URL as the user gave it. */
  label: string;
  /** Size in bytes when known (progress). */
  size?: number;
  /** Identifies the source's content version; a different fingerprint restarts it from the beginning. */
  fingerprint: string;
  /** Every line must be of this resource type (an $import input's `type`), when given. */
  type?: string;
  /** The source's bytes from `start` on. */
  open(start: number): Promise<AsyncIterable<Uint8Array>>;
}

export function fileSource(path: string, opts: { type?: string; key?: string } = {}): ImportSource {
  const abs = resolve(path);
  const st = statSync(abs);
  return {
    source: opts.key ?? abs,
    label: path,
    size: st.size,
    fingerprint: `file:${st.size}:${Math.trunc(st.mtimeMs)}`,
    type: opts.type,
    open: async (start) => createReadStream(abs, { start, highWaterMark: 256 * 1024 }),
  };
}

/** An http(s) source; the caller decides which hosts are allowed. Resuming re-reads and skips `start` bytes. */
export function urlSource(url: string, opts: { type?: string; key?: string } = {}): ImportSource {
  return {
    source: opts.key ?? url,
    label: url,
    fingerprint: `url:${url}`,
    type: opts.type,
    open: async (start) => {
      const res = await fetch(url, { redirect: 'error' });
      if (!res.ok || !res.body) throw new Error(`GET ${url} answered ${res.status}`);
      const stream = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      return start > 0 ? skipBytes(stream, start) : stream;
    },
  };
}

async function* skipBytes(stream: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = n;
  for await (const chunk of stream) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

export interface LineError {
  source: string;
  /** 1-based line number. */
  line: number;
  issues: Issue[];
}

export function lineErrorOutcome(e: LineError): OperationOutcome {
  const oo = operationOutcome(e.issues.map((i) => ({ ...i, diagnostics: `${e.source} line ${e.line}: ${i.diagnostics}` })));
  return oo;
}

export interface SourceResult {
  source: ImportSource;
  /** Bytes of this source committed so far (absolute offset). */
  bytes: number;
  lines: number;
  /** Resources imported from this source, over all runs. */
  imported: number;
  /** Lines rejected, over all runs. */
  errors: number;
  /** Resources written in this run (not counting earlier, interrupted runs). */
  written: number;
  /** Already complete at an earlier run: nothing was read. */
  skipped: boolean;
  /** Not finished because the abort signal stopped the import (the checkpoint holds the position). */
  aborted: boolean;
  /** Byte offset of the checkpoint an earlier, interrupted run left (0 = from the start). */
  resumedAt: number;
  /** Resource count per type written in this run. */
  types: Record<string, number>;
}

export interface ImportProgress {
  /** Committed bytes, summed over the sources of this call. */
  bytes: number;
  /** Resources written in this run. */
  written: number;
  /** Lines rejected in this run. */
  rejected: number;
}

export interface ImportOptions {
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after every committed batch. */
  onBatch?(p: ImportProgress): void | Promise<void>;
  /** Called for every rejected line, after its batch was committed. */
  onLineError?(e: LineError): void | Promise<void>;
}

/** Imports one NDJSON source into `tenant`, from its checkpoint on. */
export async function importSource(deps: ServerDeps, tenant: string, src: ImportSource, opts: ImportOptions = {}): Promise<SourceResult> {
  return (await importSources(deps, tenant, [src], opts))[0];
}

type CheckpointRow = BulkCheckpointTable;

/**
 * Imports NDJSON sources into `tenant`, each from its checkpoint on. Batches span source boundaries (small
 * files share a transaction); each batch commits the checkpoints of every source it read from.
 */
export async function importSources(deps: ServerDeps, tenant: string, sources: ImportSource[], opts: ImportOptions = {}): Promise<SourceResult[]> {
  const { engine, store } = deps;
  await ensureBulkSchema(engine.db, engine.dialect);
  const db = bulkDb(engine.db);
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
  const profiles = deps.tenants.get(tenant)?.settings.validateProfilesOnWrite ? ('declared' as const) : undefined;
  const results: SourceResult[] = [];
  const progress: ImportProgress = { bytes: 0, written: 0, rejected: 0 };
  /** Committed bytes per source (for progress). */
  const committedBytes = new Map<string, number>();
  let writes: PlannedWrite[] = [];
  let writeOwners: SourceResult[] = [];
  let errors: LineError[] = [];
  /** Checkpoints to commit with the pending batch: the latest position of each source it read from. */
  let pendingCps = new Map<string, { row: CheckpointRow; result: SourceResult; rejected: number }>();

  const flush = async () => {
    if (pendingCps.size === 0 && writes.length === 0) return;
    const batch = writes;
    const owners = writeOwners;
    const batchErrors = errors;
    const cps = pendingCps;
    writes = [];
    writeOwners = [];
    errors = [];
    pendingCps = new Map();
    await store.transaction(async (trx) => {
      if (batch.length > 0) await store.commit(trx, tenant, batch);
      for (const { row } of cps.values()) {
        await bulkTrx(trx)
          .insertInto('bulk_checkpoints')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['tenant', 'source']).doUpdateSet({
              fingerprint: row.fingerprint,
              byte_offset: row.byte_offset,
              lines: row.lines,
              imported: row.imported,
              errors: row.errors,
              done: row.done,
              updated: row.updated,
            }),
          )
          .execute();
      }
    });
    batch.forEach((w, i) => {
      const r = owners[i];
      r.written++;
      r.imported++;
      r.types[w.type] = (r.types[w.type] ?? 0) + 1;
    });
    for (const { row, result, rejected } of cps.values()) {
      result.bytes = row.byte_offset;
      result.lines = row.lines;
      result.errors += rejected;
      committedBytes.set(row.source, row.byte_offset);
    }
    progress.written += batch.length;
    progress.rejected += batchErrors.length;
    progress.bytes = [...committedBytes.values()].reduce((a, b) => a + b, 0);
    for (const e of batchErrors) await opts.onLineError?.(e);
    await opts.onBatch?.({ ...progress });
  };

  for (const src of sources) {
    const cp = await db.selectFrom('bulk_checkpoints').selectAll().where('tenant', '=', tenant).where('source', '=', src.source).executeTakeFirst();
    const fresh = !cp || cp.fingerprint !== src.fingerprint;
    const result: SourceResult = {
      source: src,
      bytes: fresh ? 0 : Number(cp.byte_offset),
      lines: fresh ? 0 : Number(cp.lines),
      imported: fresh ? 0 : Number(cp.imported),
      errors: fresh ? 0 : Number(cp.errors),
      written: 0,
      skipped: !fresh && cp.done === 1,
      aborted: false,
      resumedAt: fresh ? 0 : Number(cp.byte_offset),
      types: {},
    };
    results.push(result);
    committedBytes.set(src.source, result.bytes);
    if (result.skipped) continue;
    if (opts.signal?.aborted) {
      result.aborted = true;
      continue;
    }
    let lines = result.lines;
    let imported = result.imported;
    let rejected = result.errors;
    let rejectedHere = 0;
    const mark = (bytes: number, done: boolean) => {
      const prev = pendingCps.get(src.source);
      pendingCps.set(src.source, {
        result,
        rejected: (prev?.rejected ?? 0) + rejectedHere,
        row: { tenant, source: src.source, fingerprint: src.fingerprint, byte_offset: bytes, lines, imported, errors: rejected, done: done ? 1 : 0, updated: new Date().toISOString() },
      });
      rejectedHere = 0;
    };
    const input = await src.open(result.bytes);
    let end = result.bytes;
    try {
      for await (const line of ndjsonLines(input, result.bytes)) {
        lines++;
        end = line.end;
        const text = line.text.trim();
        if (text.length > 0) {
          const w = prepare(deps, profiles, src, text);
          if ('issues' in w) {
            errors.push({ source: src.label, line: lines, issues: w.issues });
            rejected++;
            rejectedHere++;
          } else {
            writes.push(w);
            writeOwners.push(result);
            imported++;
          }
        }
        if (writes.length + errors.length >= batchSize) {
          mark(end, false);
          await flush();
          if (opts.signal?.aborted) {
            result.aborted = true;
            break;
          }
        }
      }
    } finally {
      // Stop reading (closes the file or the HTTP response) when we stop early or fail.
      (input as { destroy?: () => void }).destroy?.();
    }
    if (result.aborted) continue;
    mark(end, true);
  }
  await flush();
  return results;
}

function prepare(deps: ServerDeps, profiles: 'declared' | undefined, src: ImportSource, text: string): PlannedWrite | { issues: Issue[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { issues: [{ severity: 'error', code: 'structure', diagnostics: `not valid JSON: ${(e as Error).message}` }] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { issues: [{ severity: 'error', code: 'structure', diagnostics: 'the line is not a JSON object (a FHIR resource)' }] };
  }
  const r = value as Resource;
  if (typeof r.resourceType !== 'string' || !isResourceType(r.resourceType)) {
    return { issues: [{ severity: 'error', code: 'structure', diagnostics: `unknown resourceType '${String(r.resourceType)}'`, expression: ['resourceType'] }] };
  }
  if (src.type && r.resourceType !== src.type) {
    return { issues: [{ severity: 'error', code: 'invalid', diagnostics: `a ${r.resourceType} in an input of type ${src.type}`, expression: ['resourceType'] }] };
  }
  if (typeof r.id !== 'string' || !ID.test(r.id)) {
    return {
      issues: [{ severity: 'error', code: 'required', diagnostics: `bulk import needs a valid id on every resource (got ${JSON.stringify(r.id ?? null)})`, expression: [`${r.resourceType}.id`] }],
    };
  }
  const problems = deps.validate(r, { profiles }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (problems.length > 0) return { issues: problems };
  return { type: r.resourceType, id: r.id, resource: r, method: 'PUT' };
}
