/**
 * Evaluation of one TestScript assert against the script context (last exchange, fixtures, responses).
 * Returns the TestReport result; `warningOnly` turns a failure into a warning.
 */
import type { Extension, Resource, TestScriptSetupActionAssert } from 'fhir/r4';
import { compare, type Operator } from './compare.ts';
import type { HttpExchange, ScriptContext } from './context.ts';
import { evaluateFhirPath, resultAsString, resultIsTrue } from './fhirpath.ts';
import { mimeType } from './resources.ts';
import { checkQueryParamsInSelfLink } from './selflink.ts';
import { validateAgainstProfile } from './validate.ts';

export type AssertResult = 'pass' | 'fail' | 'warning' | 'skip' | 'error';

export interface AssertOutcome {
  result: AssertResult;
  message: string;
}

export const ASSERT_RULE = 'http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-rule';

const RESPONSE_CODES: Record<string, number> = {
  okay: 200,
  created: 201,
  noContent: 204,
  notModified: 304,
  bad: 400,
  forbidden: 403,
  notFound: 404,
  methodNotAllowed: 405,
  conflict: 409,
  gone: 410,
  preconditionFailed: 412,
  unprocessable: 422,
};

type Check = { ok: true; message?: string } | { ok: false; message: string } | { skip: string };

const pass = (message?: string): Check => ({ ok: true, message });
const fail = (message: string): Check => ({ ok: false, message });

function ruleOf(a: TestScriptSetupActionAssert): { id: string; params: string[] } | undefined {
  const ext = a.extension?.find((e) => e.url === ASSERT_RULE);
  if (!ext) return undefined;
  const id = ext.extension?.find((e) => e.url === 'ruleId')?.valueId;
  // Rule parameters are nested extensions; their string values are all this runner needs.
  const params: string[] = [];
  const collect = (es: Extension[] | undefined): void => {
    for (const e of es ?? []) {
      if (e.url === 'ruleId') continue;
      const v = e.valueString ?? e.valueCode ?? e.valueId ?? e.valueUri;
      if (v !== undefined) params.push(v);
      collect(e.extension);
    }
  };
  collect(ext.extension);
  return id ? { id, params } : undefined;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Every element of `expected` occurs in `actual` (arrays: each expected item matches some actual item). */
export function containsAll(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.every((e) => actual.some((a) => containsAll(a, e)));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    // Server-managed metadata legitimately differs from what was sent.
    return Object.entries(expected).every(([k, v]) => k === 'meta' || k === 'text' || containsAll(a[k], v));
  }
  return actual === expected;
}

function decodedUrl(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

async function runChecks(a: TestScriptSetupActionAssert, ctx: ScriptContext): Promise<Check> {
  const ex: HttpExchange | undefined = ctx.last;
  const op: Operator | undefined = a.operator;
  const isRequest = a.direction === 'request';
  const needExchange = (): HttpExchange => {
    if (!ex) throw new Error('no operation has been executed before this assert');
    return ex;
  };

  const rule = ruleOf(a);
  if (rule) {
    if (rule.id === 'assert-response-queryParamsInSelfLink') {
      const e = needExchange();
      const r = checkQueryParamsInSelfLink(e.request.url, e.response.resource);
      return r.ok ? pass(r.message) : fail(r.message);
    }
    if (rule.id === 'assertRequestURLContains') {
      const url = decodedUrl(needExchange().request.url);
      const hit = rule.params.some((p) => url.includes(p));
      return hit ? pass() : fail(`request URL ${url} contains none of ${rule.params.join(', ')}`);
    }
    return { skip: `Touchstone rule ${rule.id} is not supported` };
  }

  const checks: Check[] = [];
  if (a.responseCode !== undefined) {
    const status = String(needExchange().response.status);
    const ok = compare(op ?? 'equals', status, a.responseCode);
    checks.push(ok ? pass() : fail(`HTTP status ${status}, expected ${op ?? 'equals'} ${a.responseCode}${oo(needExchange())}`));
  }
  if (a.response !== undefined) {
    const status = needExchange().response.status;
    const want = RESPONSE_CODES[a.response];
    const ok = compare(op ?? 'equals', String(status), String(want));
    checks.push(ok ? pass() : fail(`HTTP status ${status}, expected ${a.response} (${want})${oo(needExchange())}`));
  }
  if (a.contentType !== undefined) {
    const e = needExchange();
    const actual = isRequest ? header(e.request.headers, 'content-type') : e.response.headers['content-type'];
    const want = mimeType(a.contentType) ?? a.contentType;
    checks.push(actual?.includes(want) ? pass() : fail(`Content-Type ${actual ?? '(none)'}, expected ${want}`));
  }
  if (a.resource !== undefined) {
    const e = needExchange();
    const r = isRequest ? e.request.resource : e.response.resource;
    const ok = compare(op ?? 'equals', r?.resourceType, a.resource);
    checks.push(ok ? pass() : fail(`resource type ${r?.resourceType ?? '(none)'}, expected ${a.resource}`));
  }
  if (a.headerField !== undefined) {
    const e = needExchange();
    const actual = isRequest ? header(e.request.headers, a.headerField) : e.response.headers[a.headerField.toLowerCase()];
    const value = a.value === undefined ? undefined : ctx.expand(a.value);
    const ok = value === undefined && op === undefined ? actual !== undefined : compare(op ?? 'equals', actual, value);
    checks.push(ok ? pass() : fail(`header ${a.headerField} is ${actual ?? '(absent)'}, expected ${op ?? 'equals'} ${value ?? '(present)'}`));
  }
  if (a.requestURL !== undefined) {
    const raw = needExchange().request.url;
    const want = ctx.expand(a.requestURL);
    const o = op ?? 'equals';
    // Scripts write URLs unencoded; compare against both forms of what was sent.
    const ok = o === 'notContains' || o === 'notEquals' || o === 'notIn'
      ? compare(o, raw, want) && compare(o, decodedUrl(raw), want)
      : compare(o, raw, want) || compare(o, decodedUrl(raw), want);
    checks.push(ok ? pass() : fail(`request URL ${decodedUrl(raw)}, expected ${o} ${want}`));
  }
  if (a.requestMethod !== undefined) {
    const m = needExchange().request.method.toLowerCase();
    checks.push(compare(op ?? 'equals', m, a.requestMethod) ? pass() : fail(`request method ${m}, expected ${a.requestMethod}`));
  }
  if (a.expression !== undefined) {
    checks.push(expressionCheck(a, ctx, op));
  }
  if (a.minimumId !== undefined) {
    const min = ctx.source(a.minimumId);
    const e = needExchange();
    const actual = isRequest ? e.request.resource : e.response.resource;
    if (!min) checks.push(fail(`minimumId ${a.minimumId} is not a known fixture`));
    else checks.push(containsAll(actual, min) ? pass() : fail(`response does not contain all of fixture ${a.minimumId}`));
  }
  if (a.validateProfileId !== undefined) {
    const e = needExchange();
    const r = isRequest ? e.request.resource : e.response.resource;
    const v = await validateAgainstProfile(r, profileUrl(ctx, a.validateProfileId));
    checks.push(v.result === 'skip' ? { skip: v.message } : v.result === 'pass' ? pass(v.message) : fail(v.message));
  }
  if (a.path !== undefined && a.expression === undefined) checks.push({ skip: 'XPath/JSONPath asserts are not supported' });
  if (checks.length === 0) return { skip: 'assert has nothing this runner can check' };
  return checks.find((c) => 'ok' in c && !c.ok) ?? checks.find((c) => 'skip' in c) ?? checks[0];
}

function oo(ex: HttpExchange): string {
  const r = ex.response.resource;
  if (r?.resourceType !== 'OperationOutcome') return '';
  const d = (r as { issue?: { diagnostics?: string; code?: string }[] }).issue?.[0];
  return d ? ` (${d.diagnostics ?? d.code})` : '';
}

/**
 * The profile URL of `TestScript.profile[id]`. Nictiz writes `<profile id="Bundle-profile" value="…"/>`,
 * which is not valid R4 (profile is a Reference) and may lose its `value` in parsing; `X-profile` then
 * means the base definition of X, which is what every R4 script points at.
 */
function profileUrl(ctx: ScriptContext, id: string): string | undefined {
  const p = ctx.script.profile?.find((x) => x.id === id) as ({ reference?: string; value?: string } | undefined);
  const url = p?.reference ?? p?.value;
  if (url) return url;
  const m = /^([A-Z][A-Za-z]+)-profile$/.exec(id);
  return m ? `http://hl7.org/fhir/StructureDefinition/${m[1]}` : undefined;
}

function expressionCheck(a: TestScriptSetupActionAssert, ctx: ScriptContext, op: Operator | undefined): Check {
  const expr = ctx.expand(a.expression as string);
  let target: Resource | undefined;
  if (a.sourceId) target = ctx.source(a.sourceId);
  else if (ctx.last) target = a.direction === 'request' ? ctx.last.request.resource : ctx.last.response.resource;
  if (!target) return fail(`no ${a.sourceId ?? (a.direction === 'request' ? 'request' : 'response')} resource to evaluate ${expr}`);
  let values: unknown[];
  try {
    values = evaluateFhirPath(target, expr);
  } catch (err) {
    return fail(`FHIRPath error in ${expr}: ${(err as Error).message}`);
  }
  if (op === undefined && a.value === undefined) {
    return resultIsTrue(values) ? pass() : fail(`${expr} is ${JSON.stringify(values)}`);
  }
  const o = op ?? 'equals';
  if (o === 'empty' || o === 'notEmpty') {
    const ok = o === 'empty' ? values.length === 0 : values.length > 0;
    return ok ? pass() : fail(`${expr} is ${JSON.stringify(values)}, expected ${o}`);
  }
  if (o === 'eval') return resultIsTrue(values) ? pass() : fail(`${expr} is ${JSON.stringify(values)}`);
  const actual = resultAsString(values);
  const expected = a.value === undefined ? undefined : ctx.expand(a.value);
  return compare(o, actual, expected) ? pass() : fail(`${expr} is ${actual ?? '(empty)'}, expected ${o} ${expected ?? ''}`);
}

export async function evaluateAssert(a: TestScriptSetupActionAssert, ctx: ScriptContext): Promise<AssertOutcome> {
  let check: Check;
  try {
    check = await runChecks(a, ctx);
  } catch (err) {
    return { result: 'error', message: (err as Error).message };
  }
  if ('skip' in check) return { result: 'skip', message: check.skip };
  if (check.ok) return { result: 'pass', message: check.message ?? a.description ?? 'pass' };
  return { result: a.warningOnly ? 'warning' : 'fail', message: check.message };
}
