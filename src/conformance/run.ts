/**
 * The conformance tool: runs the server-side Nictiz TestScripts of a set against a FHIR base, optionally
 * after loading the set's test data, and writes a TestReport per script.
 */
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { TestReport } from 'fhir/r4';
import { discoverSet, isServerSut, isTestScriptFile, readTestScript, type FormatFilter } from './discover.ts';
import { runTestScript, type ScriptRun } from './runner.ts';

export interface ConformanceOptions {
  /** FHIR base URL of the server under test, e.g. `http://127.0.0.1:8080/fhir/default`. */
  base: string;
  /** Directory of a set (or part of one), e.g. `…/r4/Immunization-2-0/MedMij/Test`. */
  set: string;
  /** Run the `_LoadResources` script(s) first (purge the test patients, PUT every fixture). */
  load?: boolean;
  format?: FormatFilter;
  /** Directory for the TestReport JSON files; a fresh temp directory by default. */
  report?: string;
  log?: (line: string) => void;
  /** "Today" for date placeholders (tests pin it); defaults to now. */
  now?: Date;
  timeoutMs?: number;
}

export interface ConformanceResult {
  passed: number;
  failed: number;
  reports: TestReport[];
}

function reportFileName(setDir: string, path: string): string {
  return relative(setDir, path).replace(/\.(xml|json)$/i, '').replace(/[\\/]+/g, '__').replace(/^\.+/, '') + '.json';
}

function line(status: string, name: string, run: Pick<ScriptRun, 'firstFailure' | 'warnings'>): string {
  const warn = run.warnings ? ` (${run.warnings} warning${run.warnings > 1 ? 's' : ''})` : '';
  return `${status} ${name}${warn}${run.firstFailure ? ` — ${run.firstFailure}` : ''}`;
}

export async function runConformance(opts: ConformanceOptions): Promise<ConformanceResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const setDir = resolve(opts.set);
  const s = await stat(setDir).catch(() => undefined);
  if (!s?.isDirectory()) throw new Error(`set directory not found: ${opts.set}`);
  let base: string;
  try {
    base = new URL(opts.base).toString().replace(/\/+$/, '');
  } catch {
    throw new Error(`invalid base URL: ${opts.base}`);
  }
  const reportDir = opts.report ? resolve(opts.report) : await mkdtemp(join(tmpdir(), 'schakel-conformance-'));
  await mkdir(reportDir, { recursive: true });

  const { load, scripts } = await discoverSet(setDir, opts.format ?? 'both');
  const reports: TestReport[] = [];
  const runOpts = { base, now: opts.now ?? new Date(), timeoutMs: opts.timeoutMs };

  const save = async (path: string, report: TestReport): Promise<void> => {
    reports.push(report);
    await writeFile(join(reportDir, reportFileName(setDir, path)), JSON.stringify(report, null, 2));
  };

  if (opts.load) {
    if (load.length === 0) throw new Error(`--load: no _LoadResources script found for ${opts.set}`);
    for (const path of load) {
      const name = relative(setDir, path).replace(/\.(xml|json)$/i, '');
      const run = await runTestScript(await readTestScript(path), path, runOpts);
      await save(path, run.report);
      // Load scripts prepare data; they are reported but not counted among the tests.
      log(line(run.passed ? 'LOAD PASS' : 'LOAD FAIL', name, run));
    }
  }

  let passed = 0;
  let failed = 0;
  for (const path of scripts) {
    const name = relative(setDir, path).replace(/\.(xml|json)$/i, '');
    if (!(await isTestScriptFile(path))) continue;
    let run: ScriptRun;
    try {
      const script = await readTestScript(path);
      // Client-SUT scripts need the runner to play the server; this tool tests servers only.
      if (!isServerSut(script)) continue;
      run = await runTestScript(script, path, runOpts);
    } catch (err) {
      failed++;
      log(line('FAIL', name, { firstFailure: `cannot run: ${(err as Error).message}`, warnings: 0 }));
      continue;
    }
    await save(path, run.report);
    if (run.passed) passed++;
    else failed++;
    log(line(run.passed ? 'PASS' : 'FAIL', name, run));
  }
  log(`TestReports: ${reportDir}`);
  log(`${passed} passed, ${failed} failed`);
  return { passed, failed, reports };
}
