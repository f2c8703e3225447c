import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpiringCache } from '../../../src/gf/auth/expiring-cache.ts';

describe('ExpiringCache', () => {
  it('returns an entry until its own expiry, never after', () => {
    let t = 1000;
    const c = new ExpiringCache<string, number>(10, () => t);
    c.set('a', 1, 1500);
    c.set('b', 2, 3000);
    t = 1499;
    assert.equal(c.get('a'), 1);
    t = 1500;
    assert.equal(c.get('a'), undefined);
    assert.equal(c.get('b'), 2);
    assert.equal(c.size, 1, 'the expired entry is dropped when asked for');
  });

  it('does not store an entry that has already expired', () => {
    const c = new ExpiringCache<string, number>(10, () => 1000);
    c.set('a', 1, 1000);
    assert.equal(c.get('a'), undefined);
    assert.equal(c.size, 0);
  });

  it('stays within its bound: expired entries go first, then the oldest', () => {
    let t = 0;
    const c = new ExpiringCache<string, number>(3, () => t);
    c.set('short', 0, 10);
    c.set('x', 1, 100);
    c.set('y', 2, 100);
    t = 20;
    c.set('z', 3, 100); // full: 'short' has expired and makes room
    assert.deepEqual(['x', 'y', 'z'].map((k) => c.get(k)), [1, 2, 3]);
    c.set('w', 4, 100); // full, nothing expired: the oldest ('x') goes
    assert.equal(c.size, 3);
    assert.equal(c.get('x'), undefined);
    assert.deepEqual(['y', 'z', 'w'].map((k) => c.get(k)), [2, 3, 4]);
  });

  it('a bound of 0 keeps nothing', () => {
    const c = new ExpiringCache<string, number>(0, () => 0);
    c.set('a', 1, 100);
    assert.equal(c.get('a'), undefined);
  });
});
