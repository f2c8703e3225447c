/**
 * Date handling on whole days (days since 1970-01-01). Output never depends on the wall clock: the region is
 * generated "as of" a fixed reference day, so the same seed gives the same dates next year too.
 */

const MS_PER_DAY = 86_400_000;

export function parseDay(iso: string): number {
  const ms = Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`not a date: ${iso}`);
  return Math.floor(ms / MS_PER_DAY);
}

export function isoDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Last Sunday of a month (UTC day number), for the EU daylight-saving switch. */
function lastSunday(year: number, month: number): number {
  const lastOfMonth = Date.UTC(year, month + 1, 0) / MS_PER_DAY;
  const weekday = new Date(lastOfMonth * MS_PER_DAY).getUTCDay();
  return lastOfMonth - weekday;
}

/** Europe/Amsterdam offset on a given day (CET +01:00, CEST +02:00 between the last Sundays of March and October). */
function amsterdamOffset(day: number): string {
  const year = new Date(day * MS_PER_DAY).getUTCFullYear();
  return day >= lastSunday(year, 2) && day < lastSunday(year, 9) ? '+02:00' : '+01:00';
}

/** FHIR dateTime at a local time of day (minutes since midnight). */
export function isoDateTime(day: number, minuteOfDay: number): string {
  const h = Math.floor(minuteOfDay / 60) % 24;
  const m = minuteOfDay % 60;
  return `${isoDate(day)}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00${amsterdamOffset(day)}`;
}

/** Whole years between two days (age on `day` for someone born on `birth`). */
export function yearsBetween(birth: number, day: number): number {
  const b = new Date(birth * MS_PER_DAY);
  const d = new Date(day * MS_PER_DAY);
  let years = d.getUTCFullYear() - b.getUTCFullYear();
  if (d.getUTCMonth() < b.getUTCMonth() || (d.getUTCMonth() === b.getUTCMonth() && d.getUTCDate() < b.getUTCDate())) {
    years--;
  }
  return years;
}

export const DAYS_PER_YEAR = 365.25;
