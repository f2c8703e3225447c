/** The TestScript assert operators (`equals`, `in`, `notContains`, …) over string values. */
import type { TestScriptSetupActionAssert } from 'fhir/r4';

export type Operator = NonNullable<TestScriptSetupActionAssert['operator']>;

function asNumber(s: string): number | undefined {
  const n = Number(s);
  return s.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/** Compares an actual value with the assert's expected value; undefined actual means "absent". */
export function compare(operator: Operator, actual: string | undefined, expected: string | undefined): boolean {
  const exp = expected ?? '';
  switch (operator) {
    case 'equals':
      return actual === exp;
    case 'notEquals':
      return actual !== exp;
    case 'in':
      return actual !== undefined && exp.split(',').map((s) => s.trim()).includes(actual.trim());
    case 'notIn':
      return actual === undefined || !exp.split(',').map((s) => s.trim()).includes(actual.trim());
    case 'greaterThan':
    case 'lessThan': {
      if (actual === undefined) return false;
      const a = asNumber(actual);
      const e = asNumber(exp);
      // Numbers compare numerically; anything else (dates) lexically, which orders ISO dates correctly.
      const c = a !== undefined && e !== undefined ? a - e : actual < exp ? -1 : actual > exp ? 1 : 0;
      return operator === 'greaterThan' ? c > 0 : c < 0;
    }
    case 'empty':
      return actual === undefined || actual === '';
    case 'notEmpty':
      return actual !== undefined && actual !== '';
    case 'contains':
      return actual !== undefined && actual.includes(exp);
    case 'notContains':
      return actual === undefined || !actual.includes(exp);
    case 'eval':
      return actual === 'true';
  }
}
