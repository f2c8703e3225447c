/**
 * FHIR primitive values between their XML lexical form (the `value` attribute) and JSON.
 *
 * JSON types follow the FHIR JSON rules: boolean → true/false, integer/positiveInt/unsignedInt → numbers,
 * decimal → number, everything else → string. A JS number cannot keep the precision of a decimal ("2.00"
 * becomes 2, and the trailing zeros are clinically meaningful), so the XML reader remembers the original
 * text in a non-enumerable symbol property of the containing object (invisible to JSON.stringify, spread
 * and deep-equality) and the XML writer uses it while the number is unchanged. Otherwise output is the
 * shortest exact form, in plain notation.
 */
import { badRequest } from '../outcome.ts';

export type JsonPrimitive = string | number | boolean;

const INTEGER = /^[-+]?[0-9]+$/;
const DECIMAL = /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

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

/**
 * Non-enumerable record on a JSON object: property name → original lexical form of a decimal. Exported so
 * a JSON writer can use it too (e.g. emit `2.00` instead of `2`).
 */
export const DECIMAL_SOURCE: unique symbol = Symbol('fhir.decimalSource');

type WithDecimalSource = { [DECIMAL_SOURCE]?: Record<string, string> };

/** Remembers `raw` as the lexical form of decimal `obj[key]` if it differs from the default formatting. */
export function rememberDecimal(obj: object, key: string, raw: string, value: number): void {
  if (formatDecimal(value) === raw) return;
  const o = obj as WithDecimalSource;
  let rec = o[DECIMAL_SOURCE];
  if (!rec) {
    rec = {};
    Object.defineProperty(obj, DECIMAL_SOURCE, { value: rec, enumerable: false, writable: false, configurable: true });
  }
  rec[key] = raw;
}

/** The remembered lexical form of decimal `obj[key]`, if it still denotes `value`. */
export function decimalSource(obj: object, key: string, value: unknown): string | undefined {
  const raw = (obj as WithDecimalSource)[DECIMAL_SOURCE]?.[key];
  return raw !== undefined && typeof value === 'number' && Number(raw) === value ? raw : undefined;
}
