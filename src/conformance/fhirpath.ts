/**
 * FHIRPath as the Nictiz TestScripts expect it: HL7's fhirpath.js with the R4 model, with one deviation.
 * The scripts were written for Touchstone (HAPI's engine), where a type name that is no FHIR type
 * (the generic asserts use `$this.is(coding)`) simply matches nothing; fhirpath.js follows the spec and
 * throws. We accept every type identifier, so an unknown one yields false as it does on Touchstone.
 */
import fhirpath from 'fhirpath';
import type { Model } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';

const touchstoneModel: Model = { ...r4, availableTypes: { has: () => true } as unknown as Set<string> } as Model;

const cache = new Map<string, ReturnType<typeof fhirpath.compile>>();

/** Evaluates an expression over a resource (or any JSON value); throws on syntax errors. */
export function evaluateFhirPath(input: unknown, expression: string, env: Record<string, unknown> = {}): unknown[] {
  let fn = cache.get(expression);
  if (!fn) {
    fn = fhirpath.compile(expression, touchstoneModel);
    if (cache.size > 5000) cache.clear();
    cache.set(expression, fn);
  }
  // fhirpath.js annotates its input; a structured clone keeps captured responses pristine for later use.
  const result = fn(structuredClone(input), env as Parameters<typeof fn>[1]);
  return Array.isArray(result) ? result : [result];
}

/** The string form of a FHIRPath result: its single (first) value, or undefined when empty. */
export function resultAsString(values: unknown[]): string | undefined {
  if (values.length === 0) return undefined;
  const v = values[0];
  if (v === null || v === undefined) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Truthiness of an expression without operator: a single boolean decides; an empty result is false;
 * any other non-empty result counts as true (Touchstone treats "found something" as a pass).
 */
export function resultIsTrue(values: unknown[]): boolean {
  if (values.length === 0) return false;
  if (values.length === 1 && typeof values[0] === 'boolean') return values[0];
  return values.every((v) => v !== false);
}
