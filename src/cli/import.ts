/** `schakel import DIR`: bulk-load a generated region (or a folder of NDJSON files) into a node's database. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { PlanError, planDirectoryImport, runDirectoryImport } from '../bulk/directory.ts';
import { DEFAULT_BATCH, lineErrorOutcome, type LineError } from '../bulk/importer.ts';
import { bulkProgress } from '../bulk/progress.ts';
import { sql } from 'kysely';
import { openNode } from '../node/provider-node.ts';
import { UsageError, dbKind, parse } from './args.ts';

export const IMPORT_HELP = `Usage: schakel import DIR [--tenant T] [--data DIR | --db postgres --db-url URL] [options]

Loads NDJSON resources into the database, streaming, in batches of one transaction each.
  DIR with region.json (from 'schakel synth'): creates the region's tenants (URA, name) when missing and
  loads DIR/<tenant>/*.ndjson into each; --tenant T loads only that tenant.
  DIR without region.json: loads DIR/*.ndjson into tenant T (--tenant is required; created when missing).

Resources keep their ids (PUT semantics). Every batch commits a checkpoint with it, so an interrupted import
resumes where it stopped when run again, and files already imported are skipped.

Options:
  --tenant T              the tenant (see above)
  --data DIR              data directory of the embedded SQLite database (default ./data)
  --db sqlite|postgres    storage engine (default sqlite)
  --db-url URL            PostgreSQL connection URL
  --batch N               resources per transaction (default ${DEFAULT_BATCH})
  --errors FILE           write every rejected line as an OperationOutcome (NDJSON) to FILE
  --quiet                 no progress display
  -h, --help              show this help
`;

export interface CommandIo {
  out: { write(s: string): unknown };
  err: { isTTY?: boolean; write(s: string): unknown };
}

export async function importCommand(argv: string[], io: CommandIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  // --quiet is a flag; the shared parser takes string options only.
  const quiet = argv.includes('--quiet');
  const { values, positionals } = parse(
    argv.filter((a) => a !== '--quiet'),
    {
      tenant: { type: 'string' },
      data: { type: 'string' },
      db: { type: 'string' },
      'db-url': { type: 'string' },
      batch: { type: 'string' },
      errors: { type: 'string' },
    },
    true,
  );
  if (values.help) {
    io.out.write(IMPORT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('import needs a DIR (a region from `schakel synth --out DIR`, or a folder of .ndjson files)');
  if (positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[1]}'`);
  const db = dbKind(values.db);
  if (db === 'postgres' && !values['db-url']) throw new UsageError('--db postgres needs --db-url postgres://USER@HOST:PORT/DB');
  const batch = values.batch === undefined ? DEFAULT_BATCH : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new UsageError(`--batch '${values.batch}' is not a whole number between 1 and 10000`);
  let plan;
  try {
    plan = planDirectoryImport(positionals[0], values.tenant);
  } catch (e) {
    if (e instanceof PlanError) throw new UsageError(e.message);
    throw e;
  }
  const node = await openNode({ db, dataDir: values.data ?? 'data', dbUrl: values['db-url'] });
  // This connection only: a batch need not reach the disk before the next one starts. WAL keeps the database
  // consistent after a crash, and each checkpoint commits with its batch, so a crash loses at most the last
  // batches, which the next run imports again (the server itself keeps synchronous=FULL).
  if (db === 'sqlite') await sql`PRAGMA synchronous = NORMAL`.execute(node.engine.db);
  let errorsOut: WriteStream | undefined;
  if (values.errors) errorsOut = createWriteStream(values.errors);
  let shown = 0;
  const onLineError = (e: LineError) => {
    errorsOut?.write(JSON.stringify(lineErrorOutcome(e)) + '\n');
    if (shown++ < 10) io.err.write(`rejected: ${e.source} line ${e.line}: ${e.issues.map((i) => i.diagnostics).join('; ')}\n`);
  };
  // Ctrl+C: finish the running batch (its checkpoint commits with it), then stop; run again to resume.
  const abort = new AbortController();
  const onSignal = () => {
    if (!abort.signal.aborted) io.err.write('\nStopping after the current batch; run the same command again to resume.\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = bulkProgress('import', io.err);
  try {
    const pauseAfter = testPauseAfter();
    let batches = 0;
    const res = await runDirectoryImport(node.deps, plan, {
      batchSize: batch,
      signal: abort.signal,
      onLineError,
      onProgress: async (done, total, resources) => {
        if (!quiet) progress(done, total, resources);
        if (pauseAfter !== undefined && ++batches === pauseAfter) {
          // Test hook: simulate a crash mid-import at a known point (the test kills the process here).
          io.err.write('import paused (test)\n');
          await new Promise(() => {});
        }
      },
    });
    if (!quiet) progress.finish();
    for (const t of res.tenantsCreated) io.out.write(`Created tenant ${t}\n`);
    const skipped = res.files.filter((f) => f.skipped).length;
    const resumed = res.files.filter((f) => f.resumedAt > 0 && !f.skipped).length;
    const written = res.written;
    const rate = res.seconds > 0 ? Math.round(written / res.seconds) : 0;
    io.out.write(
      `${res.aborted ? 'Interrupted' : 'Imported'}: ${written} resources written in ${res.seconds.toFixed(1)}s (${rate}/s) into ` +
        `${plan.tenants.length} tenant(s) from ${res.files.length} file(s)` +
        `${skipped ? `; ${skipped} file(s) already imported earlier` : ''}${resumed ? `; ${resumed} resumed from a checkpoint` : ''}` +
        `${res.errors ? `; ${res.errors} line(s) rejected${values.errors ? ` (see ${values.errors})` : ''}` : ''}\n`,
    );
    if (res.aborted) return 130;
    return res.errors > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (errorsOut) await new Promise((r) => errorsOut.end(r));
    await node.close();
  }
}

function testPauseAfter(): number | undefined {
  const v = process.env.SCHAKEL_TEST_IMPORT_PAUSE_AFTER;
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}
