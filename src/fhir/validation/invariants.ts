/**
 * FHIRPath invariants, compiled once per (element path, expression) with HL7's fhirpath.js and the R4 model.
 * An expression that does not compile or throws is reported as not evaluated (a string), never as a failure:
 * a validator must not reject data because of an engine gap.
 */
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

type Fn = (resource: unknown, env?: Record<string, unknown>) => unknown[];

const compiled = new Map<string, Fn | string>();

/** true = holds, false = violated, string = could not be evaluated (why). */
export function evaluateInvariant(basePath: string, expression: string, value: unknown, root: unknown): boolean | string {
  const base = basePath.replace(/\[x\]/g, '');
  const key = `${base}\u0000${expression}`;
  let fn = compiled.get(key);
  if (fn === undefined) {
    try {
      // trace() in published invariants would otherwise print to stdout on every evaluation.
      fn = fhirpath.compile({ base, expression }, r4, { traceFn: () => undefined }) as Fn;
    } catch (e) {
      fn = `does not compile: ${(e as Error).message}`;
    }
    compiled.set(key, fn);
  }
  if (typeof fn === 'string') return fn;
  try {
    const result = fn(value, { resource: root, rootResource: root });
    // An invariant holds unless it evaluates to false (an empty result is not a violation).
    return !(result.length === 1 && result[0] === false);
  } catch (e) {
    return `evaluation failed: ${(e as Error).message}`;
  }
}
