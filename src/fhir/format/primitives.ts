/**
 * FHIR primitive values between their XML lexical form (the `value` attribute) and JSON.
 *
 * JSON types follow the FHIR JSON rules: boolean → true/false, integer/positiveInt/unsignedInt → numbers,
 * decimal → number, everything else → string. A JS number cannot keep the precision of a decimal
 * ("1.50" becomes 1.5), so on output we only guarantee the shortest exact form and never use exponent
 * notation that the input did not have.
 */
import { badRequest } from '../outcome.ts';

export type JsonPrimitive = string | number | boolean;

const INTEGER = /^[-+]?[0-9]+$/;
const DECIMAL = /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

export function isIntegerType(type: string): boolean {
  return type === 'integer' || type === 'positiveInt' || type === 'unsignedInt' || type === 'integer64';
}

/** XML `value` attribute → JSON value, typed by the FHIR primitive type. */
export function primitiveFromXml(type: string, raw: string, path: string): JsonPrimitive {
  switch (type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw badRequest(`Invalid boolean '${raw}' at ${path}`, path);
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt': {
      const n = INTEGER.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw badRequest(`Invalid ${type} '${raw}' at ${path}`, path);
      return n;
    }
    case 'decimal': {
      const n = DECIMAL.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw badRequest(`Invalid decimal '${raw}' at ${path}`, path);
      return n;
    }
    default:
      return raw;
  }
}

/** JSON value → XML lexical form; rejects values whose JSON type does not match the FHIR type. */
export function primitiveToXml(type: string, value: unknown, path: string): string {
  switch (type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw badRequest(`Expected a boolean at ${path}`, path);
      return value ? 'true' : 'false';
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badRequest(`Expected an integer at ${path}`, path);
      return String(value);
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw badRequest(`Expected a number at ${path}`, path);
      return formatDecimal(value);
    default:
      if (typeof value !== 'string') throw badRequest(`Expected a string at ${path}`, path);
      return value;
  }
}

/**
 * Plain decimal notation of a finite number (String() switches to exponent notation below 1e-6 and from
 * 1e21; the XML of many servers and validators expects plain digits). Uses the shortest round-trip digits.
 */
export function formatDecimal(n: number): string {
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s.charCodeAt(0) === 45;
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const pointAt = (dot < 0 ? mantissa.length : dot) + exp; // position of the decimal point within digits
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return neg ? `-${out}` : out;
}
