/**
 * Executes one TestScript against a FHIR base and produces its TestReport: setup, tests and teardown
 * actions in order, operations over HTTP, asserts against the last exchange.
 */
import type {
  TestReport,
  TestReportSetupAction,
  TestReportTest,
  TestScript,
  TestScriptSetupAction,
  TestScriptSetupActionAssert,
} from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import { evaluateAssert } from './asserts.ts';
import { ScriptContext } from './context.ts';
import { buildRequest, execute, OperationError } from './http.ts';

export interface RunScriptOptions {
  base: string;
  /** "Today" for date placeholders; defaults to the current time. */
  now?: Date;
  timeoutMs?: number;
}

export interface ScriptRun {
  report: TestReport;
  passed: boolean;
  /** `test name: assert: message` of the first failing action. */
  firstFailure?: string;
  /** Asserts that ended as warning (failures downgraded by warningOnly). */
  warnings: number;
}

interface Section {
  name: string;
  actions: TestReportSetupAction[];
}

const FAILING = new Set(['fail', 'error']);

/**
 * `stopTestOnFail` is an R5 element. The R4 Nictiz scripts carry it as such, which our XML reader maps to
 * the R5 cross-version extension; STU3 scripts use Touchstone's extension; a JSON script may have the element.
 */
const STOP_EXTENSIONS = new Set([
  'http://hl7.org/fhir/5.0/StructureDefinition/extension-TestScript.setup.action.assert.stopTestOnFail',
  'http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-stopTestOnFail',
]);

function stopsOnFail(a: TestScriptSetupActionAssert): boolean {
  const el = (a as TestScriptSetupActionAssert & { stopTestOnFail?: boolean }).stopTestOnFail;
  return el ?? a.extension?.find((e) => STOP_EXTENSIONS.has(e.url))?.valueBoolean ?? false;
}

class Run {
  firstFailure?: string;
  warnings = 0;
  asserts = 0;
  assertsPassed = 0;
  failed = false;

  constructor(
    readonly ctx: ScriptContext,
    readonly opts: RunScriptOptions,
  ) {}

  private note(section: Section, what: string, result: string, message: string | undefined): void {
    if (result === 'warning') this.warnings++;
    if (FAILING.has(result)) {
      this.failed = true;
      this.firstFailure ??= `${section.name}: ${what}: ${message ?? result}`;
    }
  }

  /** Runs a list of actions; returns false when a stopTestOnFail assert (or an operation) aborted it. */
  async actions(actions: TestScriptSetupAction[], section: Section): Promise<boolean> {
    for (const action of actions) {
      if (action.operation) {
        const op = action.operation;
        const what = op.description ?? op.label ?? `${op.type?.code ?? 'operation'} ${op.resource ?? ''}`.trim();
        try {
          const req = await buildRequest(op, this.ctx, this.opts.base);
          const ex = await execute(req, { timeoutMs: this.opts.timeoutMs });
          this.ctx.last = ex;
          if (op.responseId) this.ctx.responses.set(op.responseId, ex);
          section.actions.push({ operation: { result: 'pass', message: `${req.method} ${req.url} → ${ex.response.status}` } });
        } catch (err) {
          const message = err instanceof OperationError ? err.message : `internal error: ${(err as Error).stack ?? err}`;
          section.actions.push({ operation: { result: 'error', message } });
          this.note(section, what, 'error', message);
          // Later asserts would only report the same missing response again.
          return false;
        }
      } else if (action.assert) {
        const a = action.assert;
        const what = a.label ?? a.description ?? 'assert';
        const outcome = await evaluateAssert(a, this.ctx);
        this.asserts++;
        if (outcome.result === 'pass') this.assertsPassed++;
        section.actions.push({ assert: { result: outcome.result, message: outcome.message, detail: a.description } });
        this.note(section, what, outcome.result, outcome.message);
        if (FAILING.has(outcome.result) && stopsOnFail(a)) return false;
      }
    }
    return true;
  }
}

export async function runTestScript(script: TestScript, scriptPath: string, opts: RunScriptOptions): Promise<ScriptRun> {
  const now = opts.now ?? new Date();
  const ctx = new ScriptContext(script, scriptPath, now);
  const run = new Run(ctx, opts);
  const report: TestReport = {
    resourceType: 'TestReport',
    id: randomUUID(),
    name: script.name ?? script.id,
    status: 'completed',
    testScript: { reference: script.url ?? `TestScript/${script.id ?? ''}`, display: script.title ?? script.name },
    result: 'pending',
    tester: 'schakel conformance',
    issued: now.toISOString(),
    participant: [
      { type: 'test-engine', uri: 'urn:schakel:conformance', display: 'schakel conformance' },
      { type: 'server', uri: opts.base },
    ],
  };

  let setupOk = true;
  try {
    await ctx.prepare();
  } catch (err) {
    const message = `cannot prepare fixtures/variables: ${(err as Error).message}`;
    report.setup = { action: [{ operation: { result: 'error', message } }] };
    report.result = 'fail';
    report.score = 0;
    return { report, passed: false, firstFailure: `setup: ${message}`, warnings: 0 };
  }

  if (script.setup?.action?.length) {
    const section: Section = { name: 'setup', actions: [] };
    setupOk = await run.actions(script.setup.action, section);
    report.setup = { action: section.actions };
  }

  const tests: TestReportTest[] = [];
  // A setup aborted by stopTestOnFail leaves the tests without their preconditions: they are not run.
  if (setupOk) {
    for (const [i, t] of (script.test ?? []).entries()) {
      const section: Section = { name: t.name ?? t.id ?? `test ${i + 1}`, actions: [] };
      await run.actions(t.action, section);
      tests.push({ name: t.name, description: t.description, action: section.actions });
    }
  }
  if (tests.length) report.test = tests;

  if (script.teardown?.action?.length) {
    const section: Section = { name: 'teardown', actions: [] };
    await run.actions(script.teardown.action.map((a) => ({ operation: a.operation })), section);
    report.teardown = { action: section.actions.map((a) => ({ operation: a.operation! })) };
  }

  report.result = run.failed ? 'fail' : 'pass';
  report.score = run.asserts ? Math.round((run.assertsPassed / run.asserts) * 1000) / 10 : 100;
  return { report, passed: !run.failed, firstFailure: run.firstFailure, warnings: run.warnings };
}
