import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addToDate, expandPlaceholders, expandTree, localDate, localDateTime } from '../../src/conformance/placeholders.ts';

// Noon local time, so the local date is 2024-03-15 in every time zone the tests may run in.
const now = new Date(2024, 2, 15, 12, 0, 0);
const ctx = { now };

describe('date arithmetic', () => {
  const cases: [string, 'Y' | 'M' | 'W' | 'D', number, string][] = [
    ['2024-03-15', 'D', -1, '2024-03-14'],
    ['2024-03-01', 'D', -1, '2024-02-29'], // leap year
    ['2023-03-01', 'D', -1, '2023-02-28'],
    ['2024-12-31', 'D', 1, '2025-01-01'],
    ['2024-03-31', 'D', 14, '2024-04-14'],
    ['2024-10-27', 'D', 1, '2024-10-28'], // DST change in Europe must not matter
    ['2024-01-31', 'M', 1, '2024-02-29'], // clamps to month end
    ['2024-03-31', 'M', -1, '2024-02-29'],
    ['2024-05-15', 'M', -14, '2023-03-15'],
    ['2024-02-29', 'Y', 1, '2025-02-28'],
    ['2024-02-29', 'Y', -4, '2020-02-29'],
    ['2024-03-15', 'W', 2, '2024-03-29'],
  ];
  for (const [date, unit, n, want] of cases) {
    it(`${date} ${n >= 0 ? '+' : ''}${n}${unit} = ${want}`, () => assert.equal(addToDate(date, unit, n), want));
  }
});

describe('expandPlaceholders', () => {
  it('CURRENTDATE and CURRENTDATETIME use the local date', () => {
    assert.equal(expandPlaceholders('${CURRENTDATE}', ctx), '2024-03-15');
    assert.equal(localDate(now), '2024-03-15');
    const dt = expandPlaceholders('${CURRENTDATETIME}', ctx);
    assert.equal(dt, localDateTime(now));
    assert.match(dt, /^2024-03-15T12:00:00[+-]\d{2}:\d{2}$/);
  });

  it('DATE with T defaults to today and accepts any unit case and spacing', () => {
    assert.equal(expandPlaceholders('${DATE, T, D, -1}T14:52:00+02:00', ctx), '2024-03-14T14:52:00+02:00');
    assert.equal(expandPlaceholders('${DATE, T, D,-22}', ctx), '2024-02-22');
    assert.equal(expandPlaceholders('${DATE,T,d,+3}', ctx), '2024-03-18');
    assert.equal(expandPlaceholders('${DATE, T, m, -1}', ctx), '2024-02-15');
    assert.equal(expandPlaceholders('${DATE, T, Y, -1}', ctx), '2023-03-15');
    assert.equal(expandPlaceholders('${DATE, T, y, + 2}', ctx), '2026-03-15');
  });

  it('DATE uses the value of the base variable when it is bound', () => {
    const resolve = (n: string): string | undefined => (n === 'T' ? '2020-01-31' : n === 'X' ? '${CURRENTDATE}' : undefined);
    assert.equal(expandPlaceholders('${DATE, T, M, 1}', { now, resolve }), '2020-02-29');
    // A variable bound to a dynamic value is itself expanded.
    assert.equal(expandPlaceholders('${DATE, X, D, 1}', { now, resolve }), '2024-03-16');
  });

  it('DATETIME keeps a date shift and adds a time with zone', () => {
    assert.match(expandPlaceholders('${DATETIME, T, D, -2}', ctx), /^2024-03-13T12:00:00[+-]\d{2}:\d{2}$/);
    const resolve = (n: string): string | undefined => (n === 'T' ? '2024-01-10T08:30:00+01:00' : undefined);
    assert.equal(expandPlaceholders('${DATETIME, T, D, 5}', { now, resolve }), '2024-01-15T08:30:00+01:00');
  });

  it('CURRENTDATE with an offset', () => {
    assert.equal(expandPlaceholders('${CURRENTDATE,M,-14}', ctx), '2023-01-15');
    assert.equal(expandPlaceholders('${CURRENTDATE, d, 1}', ctx), '2024-03-16');
  });

  it('UUID gives a new value per occurrence', () => {
    const out = expandPlaceholders('${UUID} ${UUID}', ctx);
    const [a, b] = out.split(' ');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
  });

  it('substitutes variables and leaves unknown ones in place', () => {
    const resolve = (n: string): string | undefined => ({ token: 'Bearer abc' })[n];
    assert.equal(expandPlaceholders('x=${token}&y=${nope}', { now, resolve }), 'x=Bearer abc&y=${nope}');
    assert.equal(expandPlaceholders('${DATE, U, Q, 1}', ctx), '${DATE, U, Q, 1}');
  });

  it('expandTree copies JSON and expands every string', () => {
    const src = { resourceType: 'Observation', effectiveDateTime: '${DATE, T, D, -1}', n: 3, ok: true, note: [{ text: 'on ${CURRENTDATE}' }] };
    const out = expandTree(src, ctx);
    assert.deepEqual(out, { resourceType: 'Observation', effectiveDateTime: '2024-03-14', n: 3, ok: true, note: [{ text: 'on 2024-03-15' }] });
    assert.equal(src.effectiveDateTime, '${DATE, T, D, -1}');
  });
});
