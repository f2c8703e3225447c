/**
 * Touchstone dynamic values and TestScript variables: `${CURRENTDATE}`, `${CURRENTDATETIME}`, `${UUID}`,
 * `${DATE, T, D|M|Y, ±n}`, `${DATETIME, T, …}`, `${CURRENTDATE, M, -14}` and `${name}`.
 * Nictiz fixtures are templates full of these (dates relative to "today" keep the test data current),
 * so the same expansion is applied to fixtures, params, urls, header values and FHIRPath expressions.
 */
import { randomUUID } from 'node:crypto';

export interface PlaceholderContext {
  /** "Today" for CURRENTDATE and for a date variable that is not bound (e.g. `T` outside a script). */
  now: Date;
  /** Looks up a script variable; undefined leaves the placeholder untouched (it may resolve later). */
  resolve?: (name: string) => string | undefined;
  /** Source of `${UUID}` values; a new one per occurrence. */
  uuid?: () => string;
}

export type DateUnit = 'Y' | 'M' | 'W' | 'D';

const PLACEHOLDER = /\$\{([^{}]+)\}/g;
const DATE_MATH = /^(DATE|DATETIME)\s*,\s*([^,]+?)\s*,\s*([A-Za-z]+)\s*,\s*([+-]?)\s*(\d+)$/i;
const CURRENT_MATH = /^(CURRENTDATE|CURRENTDATETIME)\s*,\s*([A-Za-z]+)\s*,\s*([+-]?)\s*(\d+)$/i;

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** `YYYY-MM-DD` of a moment in the runner's local time zone (Touchstone uses the engine's local date). */
export function localDate(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** `YYYY-MM-DDThh:mm:ss±hh:mm` in local time: FHIR dateTime requires a zone once a time is given. */
export function localDateTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${localDate(d)}T${time}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

function parseUnit(u: string): DateUnit | undefined {
  const up = u.toUpperCase();
  if (up === 'Y' || up === 'M' || up === 'W' || up === 'D') return up;
  return undefined;
}

/**
 * Adds n units to a `YYYY-MM-DD` date. Months and years clamp to the last day of the target month
 * (2024-01-31 + 1 M = 2024-02-29), as java.time's plusMonths does in Touchstone.
 */
export function addToDate(date: string, unit: DateUnit, n: number): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  let y = Number(m[1]);
  let mo = Number(m[2]) - 1;
  let d = Number(m[3]);
  if (unit === 'Y' || unit === 'M') {
    const total = y * 12 + mo + (unit === 'Y' ? n * 12 : n);
    y = Math.floor(total / 12);
    mo = total - y * 12;
    const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    d = Math.min(d, last);
    return `${pad(y, 4)}-${pad(mo + 1)}-${pad(d)}`;
  }
  const days = unit === 'W' ? n * 7 : n;
  // Date.UTC so that daylight-saving transitions cannot shift the day.
  const t = new Date(Date.UTC(y, mo, d + days));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** The time-of-day part (with zone) of a dateTime, or of `now` when the base is a plain date. */
function timePart(base: string, now: Date): string {
  const m = /^\d{4}-\d{2}-\d{2}(T.*)$/.exec(base);
  return m ? m[1] : localDateTime(now).slice(10);
}

/** Expands one placeholder body (the text between `${` and `}`); undefined when it is not resolvable. */
export function expandOne(body: string, ctx: PlaceholderContext): string | undefined {
  const inner = body.trim();
  const upper = inner.toUpperCase();
  if (upper === 'CURRENTDATE') return localDate(ctx.now);
  if (upper === 'CURRENTDATETIME') return localDateTime(ctx.now);
  if (upper === 'UUID') return (ctx.uuid ?? randomUUID)();

  const cur = CURRENT_MATH.exec(inner);
  if (cur) {
    const unit = parseUnit(cur[2]);
    if (!unit) return undefined;
    const date = addToDate(localDate(ctx.now), unit, Number(cur[4]) * (cur[3] === '-' ? -1 : 1));
    return cur[1].toUpperCase() === 'CURRENTDATE' ? date : date + timePart('', ctx.now);
  }

  const dm = DATE_MATH.exec(inner);
  if (dm) {
    const unit = parseUnit(dm[3]);
    if (!unit) return undefined;
    const baseName = dm[2];
    // The base is a variable (always `T` in the Nictiz sets); unbound, it means today, as FORMAT.md prescribes.
    let base = ctx.resolve?.(baseName);
    if (base === undefined && baseName.toUpperCase() === 'T') base = localDate(ctx.now);
    if (base === undefined) return undefined;
    base = expandPlaceholders(base, ctx);
    if (!/^\d{4}-\d{2}-\d{2}/.test(base)) return undefined;
    const date = addToDate(base, unit, Number(dm[5]) * (dm[4] === '-' ? -1 : 1));
    return dm[1].toUpperCase() === 'DATE' ? date : date + timePart(base, ctx.now);
  }

  return ctx.resolve?.(inner);
}

/** Replaces every resolvable `${…}` in text; unresolvable ones stay as they are. */
export function expandPlaceholders(text: string, ctx: PlaceholderContext): string {
  if (!text.includes('${')) return text;
  return text.replace(PLACEHOLDER, (whole, body: string) => expandOne(body, ctx) ?? whole);
}

/** The placeholders left in a text after expansion (for error messages). */
export function unresolvedPlaceholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[0]);
}

/** Deep-copies a JSON value, expanding placeholders in every string (fixtures are templates). */
export function expandTree<T>(value: T, ctx: PlaceholderContext): T {
  if (typeof value === 'string') return expandPlaceholders(value, ctx) as T;
  if (Array.isArray(value)) return value.map((v) => expandTree(v, ctx)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandTree(v, ctx);
    return out as T;
  }
  return value;
}
