import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/synth/prng.ts';

const draw = (r: Rng, n = 50) => Array.from({ length: n }, () => r.nextUint32());

test('same seed gives the same stream, other seeds differ', () => {
  assert.deepEqual(draw(new Rng('s')), draw(new Rng('s')));
  assert.notDeepEqual(draw(new Rng('s')), draw(new Rng('t')));
});

test('forks are reproducible and independent of draws made on the parent', () => {
  const a = new Rng('root');
  const b = new Rng('root');
  draw(b, 1000);
  assert.deepEqual(draw(a.fork('patient/7')), draw(b.fork('patient/7')));
  assert.notDeepEqual(draw(a.fork('patient/7')), draw(a.fork('patient/8')));
});

test('uniform, int, normal and poisson have sensible moments', () => {
  const r = new Rng('moments');
  const n = 20_000;
  let sum = 0;
  let sumN = 0;
  let sumSq = 0;
  let sumP = 0;
  let minInt = Infinity;
  let maxInt = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    const k = r.int(3, 7);
    minInt = Math.min(minInt, k);
    maxInt = Math.max(maxInt, k);
    const z = r.normal(10, 2);
    sumN += z;
    sumSq += (z - 10) ** 2;
    sumP += r.poisson(3);
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  assert.equal(minInt, 3);
  assert.equal(maxInt, 7);
  assert.ok(Math.abs(sumN / n - 10) < 0.05);
  assert.ok(Math.abs(Math.sqrt(sumSq / n) - 2) < 0.05);
  assert.ok(Math.abs(sumP / n - 3) < 0.05);
});

test('weighted pick follows the weights', () => {
  const r = new Rng('weights');
  const counts = { a: 0, b: 0 };
  for (let i = 0; i < 10_000; i++) counts[r.weighted(['a', 'b'] as const, [1, 3])]++;
  assert.ok(Math.abs(counts.b / 10_000 - 0.75) < 0.02, JSON.stringify(counts));
});
