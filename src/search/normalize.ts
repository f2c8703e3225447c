/**
 * Value normalisation shared by extraction (index side) and query compilation (search side): both sides must
 * normalise identically or matches silently disappear.
 */

/** Case- and accent-insensitive form for string search: NFD, strip combining marks, lowercase. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * Smallest string greater than every string that starts with `prefix` (code point order, which both
 * SQLite's BINARY and PostgreSQL's "C" collation use): increment the last code point.
 */
export function prefixUpperBound(prefix: string): string {
  const cps = [...prefix];
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return cps.join('') + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
  }
  return '\u{10ffff}';
}

export const MIN_DATE = '0001-01-01T00:00:00.000Z';
export const MAX_DATE = '9999-12-31T23:59:59.999Z';

export interface DateRange {
  low: string;
  high: string;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const MIN_MS = Date.parse(MIN_DATE);
const MAX_MS = Date.parse(MAX_DATE);

function iso(ms: number): string {
  if (ms <= MIN_MS) return MIN_DATE;
  if (ms >= MAX_MS) return MAX_DATE;
  return new Date(ms).toISOString();
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** UTC (or zone-less) values need no Date arithmetic: the bounds are string completions. */
function fastRange(m: RegExpExecArray): DateRange | undefined {
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (tz !== undefined && tz !== 'Z' && tz !== '+00:00' && tz !== '-00:00') return undefined;
  if (+y < 1) return undefined;
  if (!mo) return { low: `${y}-01-01T00:00:00.000Z`, high: `${y}-12-31T23:59:59.999Z` };
  const M = +mo;
  if (M < 1 || M > 12) return undefined;
  if (!d) {
    const last = new Date(Date.UTC(+y, M, 0)).getUTCDate();
    return { low: `${y}-${mo}-01T00:00:00.000Z`, high: `${y}-${mo}-${pad2(last)}T23:59:59.999Z` };
  }
  if (+d < 1 || +d > 31) return undefined;
  const day = `${y}-${mo}-${d}`;
  if (!h) return { low: `${day}T00:00:00.000Z`, high: `${day}T23:59:59.999Z` };
  if (+h > 23 || +mi > 59 || (s && +s > 59)) return undefined;
  if (!s) return { low: `${day}T${h}:${mi}:00.000Z`, high: `${day}T${h}:${mi}:59.999Z` };
  if (!frac) return { low: `${day}T${h}:${mi}:${s}.000Z`, high: `${day}T${h}:${mi}:${s}.999Z` };
  if (frac.length >= 3) {
    const f = frac.slice(0, 3);
    return { low: `${day}T${h}:${mi}:${s}.${f}Z`, high: `${day}T${h}:${mi}:${s}.${f}Z` };
  }
  return { low: `${day}T${h}:${mi}:${s}.${frac.padEnd(3, '0')}Z`, high: `${day}T${h}:${mi}:${s}.${frac.padEnd(3, '9')}Z` };
}

/**
 * The closed UTC interval a FHIR date/dateTime/instant denotes, given its precision: '2024' is the whole year,
 * '2024-03-01T10:00' the whole minute. Values without a timezone are taken as UTC (the spec leaves the zone
 * of such values to the server; we choose one and use it for both indexed and searched values).
 */
export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const fast = fastRange(m);
  if (fast) return fast;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const Y = +y;
  const M = mo ? +mo - 1 : 0;
  const D = d ? +d : 1;
  if (M > 11 || D < 1 || D > 31) return undefined;
  let low = Date.UTC(Y, M, D, h ? +h : 0, mi ? +mi : 0, s ? +s : 0, frac ? Math.floor(+('0.' + frac) * 1000) : 0);
  if (Y < 100) low = new Date(low).setUTCFullYear(Y);
  let offsetMin = 0;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    offsetMin = sign * (+tz.slice(1, 3) * 60 + +tz.slice(4, 6));
  }
  low -= offsetMin * 60_000;
  let next: number;
  const base = new Date(low + offsetMin * 60_000);
  if (!mo) next = new Date(base).setUTCFullYear(Y + 1);
  else if (!d) next = new Date(base).setUTCMonth(M + 1);
  else if (!h) next = new Date(base).setUTCDate(D + 1);
  else if (!s) next = base.getTime() + 60_000;
  else if (!frac) next = base.getTime() + 1000;
  else next = base.getTime() + Math.max(1, 10 ** (3 - Math.min(3, frac.length)));
  next -= offsetMin * 60_000;
  return { low: iso(low), high: iso(next - 1) };
}

/**
 * Precision range of a decimal search value: '100' → [99.5, 100.5), '1e2' → [50, 150), '100.00' → [99.995, 100.005).
 */
export function numberRange(text: string): { value: number; low: number; high: number } | undefined {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const value = Number(t);
  if (!Number.isFinite(value)) return undefined;
  const [mant, expPart] = t.toLowerCase().split('e');
  const exp = expPart ? Number(expPart) : 0;
  const dot = mant.indexOf('.');
  const decimals = dot < 0 ? 0 : mant.length - dot - 1;
  // Half a unit of the least significant digit given.
  const half = 0.5 * 10 ** (exp - decimals);
  return { value, low: value - half, high: value + half };
}
