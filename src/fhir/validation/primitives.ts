/**
 * FHIR R4 primitive types: JSON representation and lexical rules (regexes from the R4 spec, datatypes.html).
 * Kept as one table so the core checker can resolve a type code to a single test function at compile time.
 */

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const TZ = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';

const RE = {
  date: new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`),
  dateTime: new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${TZ})?)?)?$`),
  instant: new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${TZ}$`),
  time: new RegExp(`^${TIME}$`),
  code: /^[^\s]+( [^\s]+)*$/,
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  uri: /^\S*$/,
  base64Binary: /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/,
  // string and markdown: any characters, but not empty and not whitespace-only (R4: [ \r\n\t\S]+ and "SHOULD not be whitespace-only" → only empty is an error).
};

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Returns an error message, or undefined when the value is valid for the primitive type. */
export type PrimitiveCheck = (v: unknown) => string | undefined;

const isString = (v: unknown): v is string => typeof v === 'string';

function stringCheck(name: string, re?: RegExp, extra?: (s: string) => string | undefined): PrimitiveCheck {
  return (v) => {
    if (!isString(v)) return `${name} must be a JSON string, got ${jsonKind(v)}`;
    if (v.length === 0) return `${name} must not be empty`;
    if (re && !re.test(v)) return `'${truncate(v)}' is not a valid ${name}`;
    return extra?.(v);
  };
}

/** Calendar check the regexes cannot do (Feb 30 passes the date regex). */
function validCalendarDate(s: string): string | undefined {
  if (s.length < 10) return undefined;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(5, 7));
  const d = Number(s.slice(8, 10));
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d > days ? `'${s.slice(0, 10)}' is not a valid calendar date` : undefined;
}

function intCheck(name: string, min: number, max: number): PrimitiveCheck {
  return (v) => {
    if (typeof v !== 'number') return `${name} must be a JSON number, got ${jsonKind(v)}`;
    if (!Number.isInteger(v)) return `${v} is not a valid ${name}`;
    if (v < min || v > max) return `${v} is out of range for ${name} (${min}..${max})`;
    return undefined;
  };
}

export const PRIMITIVE_CHECKS: Record<string, PrimitiveCheck> = {
  boolean: (v) => (typeof v === 'boolean' ? undefined : `boolean must be true or false, got ${jsonKind(v)}`),
  integer: intCheck('integer', INT32_MIN, INT32_MAX),
  unsignedInt: intCheck('unsignedInt', 0, INT32_MAX),
  positiveInt: intCheck('positiveInt', 1, INT32_MAX),
  decimal: (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `decimal must be a JSON number, got ${jsonKind(v)}`),
  string: stringCheck('string'),
  markdown: stringCheck('markdown'),
  xhtml: stringCheck('xhtml', undefined, (s) => (/^\s*<div[\s>/]/.test(s) ? undefined : 'xhtml must be a <div> element')),
  code: stringCheck('code', RE.code),
  id: stringCheck('id', RE.id),
  uri: stringCheck('uri', RE.uri),
  url: stringCheck('url', RE.uri),
  canonical: stringCheck('canonical', RE.uri),
  oid: stringCheck('oid', RE.oid),
  uuid: stringCheck('uuid', RE.uuid),
  base64Binary: stringCheck('base64Binary', RE.base64Binary),
  date: stringCheck('date', RE.date, validCalendarDate),
  dateTime: stringCheck('dateTime', RE.dateTime, validCalendarDate),
  instant: stringCheck('instant', RE.instant, validCalendarDate),
  time: stringCheck('time', RE.time),
};

export const isPrimitiveType = (code: string): boolean => code in PRIMITIVE_CHECKS;

/** FHIRPath system types used by R4 snapshots for Element.id, Extension.url, Resource.id … */
export function primitiveForSystemType(code: string, fhirType: string | undefined): string | undefined {
  if (!code.startsWith('http://hl7.org/fhirpath/System.')) return undefined;
  if (fhirType && fhirType in PRIMITIVE_CHECKS) return fhirType;
  const sys = code.slice('http://hl7.org/fhirpath/System.'.length);
  return { String: 'string', Boolean: 'boolean', Integer: 'integer', Decimal: 'decimal', Date: 'date', DateTime: 'dateTime', Time: 'time' }[sys];
}

export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

const truncate = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
