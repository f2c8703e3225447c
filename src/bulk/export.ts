/**
 * Runs a bulk export (FHIR Bulk Data Access IG v2): for each resource type, the tenant's live resources as of
 * the job's transactionTime (optionally changed after `_since`, optionally narrowed by `_typeFilter` searches,
 * optionally only the Patient compartment of all patients or of a Group's members), written to NDJSON files.
 *
 * Memory stays bounded: resources are read in keyset-paged slices straight from the `resources` table (or
 * through the search module for `_typeFilter`) and appended to files as stored text, never parsed.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type RawBuilder } from 'kysely';
import { executeSearch } from '../search/execute.ts';
import { parseSearchRequest } from '../search/parse.ts';
import { patientCompartmentParams } from '../server/compartment.ts';
import type { ServerDeps } from '../server/context.ts';

type Sql = RawBuilder<unknown>;

export interface ExportParams {
  level: 'system' | 'patient' | 'group';
  groupId?: string;
  /** `_type`; undefined = every type (of the level). */
  types?: string[];
  /** `_since` as an ISO instant (UTC, ms). */
  since?: string;
  /** `_typeFilter`: per type, search query strings (OR). */
  typeFilters: Record<string, string[]>;
}

export interface OutputFile {
  type: string;
  /** File name within the job's directory. */
  file: string;
  count: number;
}

export interface ExportProgress {
  type: string;
  typeIndex: number;
  typeCount: number;
  resources: number;
}

const PAGE = 1000;

/** Resource types of the Patient compartment (Patient itself plus every type with compartment params). */
export function patientLevelTypes(): Set<string> {
  return new Set(['Patient', ...patientCompartmentParams().keys()]);
}

export async function runExport(
  deps: ServerDeps,
  tenant: string,
  transactionTime: string,
  params: ExportParams,
  dir: string,
  opts: { maxLinesPerFile: number; signal?: AbortSignal; onProgress?(p: ExportProgress): void | Promise<void> },
): Promise<OutputFile[]> {
  const db = deps.engine.db;
  mkdirSync(dir, { recursive: true });
  const present = (
    await sql<{ type: string }>`SELECT DISTINCT r.type AS type FROM resources AS r WHERE r.tenant = ${tenant} AND r.deleted = 0`.execute(db)
  ).rows.map((r) => r.type);
  const levelTypes = params.level === 'system' ? undefined : patientLevelTypes();
  const types = present.filter((t) => (!params.types || params.types.includes(t)) && (!levelTypes || levelTypes.has(t))).sort();
  const out: OutputFile[] = [];
  let resources = 0;
  for (let i = 0; i < types.length; i++) {
    const type = types[i];
    const writer = new NdjsonFiles(dir, type, opts.maxLinesPerFile);
    try {
      const member = membership(tenant, type, params);
      const window = sql`r.last_updated <= ${transactionTime}${params.since ? sql` AND r.last_updated > ${params.since}` : sql``}`;
      const report = async () => {
        await opts.onProgress?.({ type, typeIndex: i, typeCount: types.length, resources: resources + writer.total });
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      };
      await report();
      const filters = params.typeFilters[type];
      if (filters && filters.length > 0) {
        await exportFiltered(deps, tenant, type, filters, window, member, writer, report);
      } else {
        let after: string | undefined;
        for (;;) {
          const { rows } = await sql<{ id: string; content: string }>`SELECT r.id AS id, r.content AS content FROM resources AS r
            WHERE r.tenant = ${tenant} AND r.type = ${type} AND r.deleted = 0 AND ${window}${member ? sql` AND ${member}` : sql``}${
              after !== undefined ? sql` AND r.id > ${after}` : sql``
            }
            ORDER BY r.id LIMIT ${PAGE}`.execute(db);
          if (rows.length === 0) break;
          writer.write(rows.map((r) => r.content));
          after = rows[rows.length - 1].id;
          await report();
          if (rows.length < PAGE) break;
        }
      }
    } finally {
      writer.close();
    }
    resources += writer.total;
    out.push(...writer.files);
  }
  return out;
}

/** `_typeFilter`: each query through the search module, keyset-paged; rows then admitted by window/membership. */
async function exportFiltered(
  deps: ServerDeps,
  tenant: string,
  type: string,
  filters: string[],
  window: Sql,
  member: Sql | undefined,
  writer: NdjsonFiles,
  report: () => Promise<void>,
): Promise<void> {
  const db = deps.engine.db;
  const seen = filters.length > 1 ? new Set<string>() : undefined;
  for (const q of filters) {
    const req = parseSearchRequest(type, [...new URLSearchParams(q).entries()], { strict: true });
    req.count = PAGE;
    req.total = 'none';
    let cursor: string | undefined;
    do {
      const res = await executeSearch({ db, dialect: deps.engine.dialect, tenant }, type, req, { cursor });
      cursor = res.nextCursor;
      let rows = res.matches;
      if (seen) rows = rows.filter((r) => !seen.has(r.id));
      if (rows.length > 0) {
        const { rows: ok } = await sql<{ id: string }>`SELECT r.id AS id FROM resources AS r WHERE r.tenant = ${tenant} AND r.type = ${type}
          AND r.id IN (${sql.join(rows.map((r) => r.id))}) AND ${window}${member ? sql` AND ${member}` : sql``}`.execute(db);
        const admitted = new Set(ok.map((r) => r.id));
        rows = rows.filter((r) => admitted.has(r.id));
        for (const r of rows) seen?.add(r.id);
        writer.write(rows.map((r) => r.content));
      }
      await report();
    } while (cursor);
  }
}

/** SQL (on alias r) restricting `type` rows to the export level's patients; undefined = no restriction. */
function membership(tenant: string, type: string, params: ExportParams): Sql | undefined {
  if (params.level === 'system') return undefined;
  const groupMembers =
    params.level === 'group'
      ? sql`(SELECT g.target_id FROM idx_reference AS g WHERE g.tenant = ${tenant} AND g.type = 'Group' AND g.id = ${params.groupId!} AND g.param = 'member' AND g.target_type = 'Patient' AND g.url IS NULL)`
      : undefined;
  if (type === 'Patient') return groupMembers ? sql`r.id IN ${groupMembers}` : undefined;
  const cparams = patientCompartmentParams().get(type);
  if (!cparams || cparams.length === 0) return sql`1 = 0`;
  return sql`EXISTS (SELECT 1 FROM idx_reference AS c WHERE c.tenant = ${tenant} AND c.type = ${type} AND c.id = r.id AND c.param IN (${sql.join(cparams)})
    AND c.target_type = 'Patient' AND c.url IS NULL${groupMembers ? sql` AND c.target_id IN ${groupMembers}` : sql``})`;
}

/** Appends NDJSON lines to TYPE.ndjson, TYPE-2.ndjson, … (a new file every maxLines lines). */
class NdjsonFiles {
  files: OutputFile[] = [];
  total = 0;
  private fd: number | undefined;
  private inFile = 0;

  constructor(
    private readonly dir: string,
    private readonly type: string,
    private readonly maxLines: number,
  ) {}

  write(lines: string[]): void {
    let i = 0;
    while (i < lines.length) {
      if (this.fd === undefined || this.inFile >= this.maxLines) this.rotate();
      const n = Math.min(lines.length - i, this.maxLines - this.inFile);
      const part = lines.slice(i, i + n);
      writeSync(this.fd!, part.join('\n') + '\n');
      this.inFile += n;
      this.files[this.files.length - 1].count += n;
      this.total += n;
      i += n;
    }
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    const file = this.files.length === 0 ? `${this.type}.ndjson` : `${this.type}-${this.files.length + 1}.ndjson`;
    this.fd = openSync(join(this.dir, file), 'w');
    this.files.push({ type: this.type, file, count: 0 });
    this.inFile = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
