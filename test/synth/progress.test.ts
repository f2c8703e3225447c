import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressReporter } from '../../src/synth/progress.ts';

test('non-TTY: one line per 10% plus the final line', () => {
  const lines: string[] = [];
  let t = 0;
  const report = progressReporter({ isTTY: false, write: (s) => lines.push(s) }, () => (t += 5));
  for (let i = 1; i <= 1000; i++) report(i, 1000);
  assert.equal(lines.length, 11);
  assert.match(lines[lines.length - 1], /^synth: 1000\/1000 patients \(100%\)/);
});

test('TTY: redraws a bar in place, throttled, and ends with a newline', () => {
  const out: string[] = [];
  let t = 0;
  const report = progressReporter({ isTTY: true, write: (s) => out.push(s) }, () => (t += 10));
  for (let i = 1; i <= 100; i++) report(i, 100);
  assert.ok(out.length < 20, `${out.length} redraws`);
  assert.ok(out.every((s) => s.startsWith('\r[') || s === '\n'));
  assert.match(out[out.length - 2], /\[#{30}\] 100% 100\/100/);
  assert.equal(out[out.length - 1], '\n');
});
