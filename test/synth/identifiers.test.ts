import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSN_TEST_CAPACITY, BsnPool, IdentifierFactory, passesElevenTest } from '../../src/synth/identifiers.ts';
import { Rng } from '../../src/synth/prng.ts';

test('eleven-test accepts known valid numbers and rejects altered ones', () => {
  for (const ok of ['999990019', '111222333', '123456782']) assert.equal(passesElevenTest(ok), true, ok);
  for (const bad of ['999990018', '123456781', '12345678', '1234567890', '12345678a']) assert.equal(passesElevenTest(bad), false, bad);
});

test('BSN pool: every test BSN is 999xxxxxx, passes the eleven-test and is unique', () => {
  const pool = new BsnPool(new Rng('bsn-test'));
  assert.equal(pool.capacity, BSN_TEST_CAPACITY);
  // 100,000 eight-digit prefixes, of which those with check remainder 10 have no valid BSN.
  assert.ok(pool.capacity > 90_000 && pool.capacity < 91_000, String(pool.capacity));
  const seen = new Set<string>();
  for (let i = 0; i < pool.capacity; i++) {
    const bsn = pool.at(i);
    assert.match(bsn, /^999\d{6}$/);
    assert.ok(passesElevenTest(bsn), bsn);
    seen.add(bsn);
  }
  assert.equal(seen.size, pool.capacity);
  assert.throws(() => pool.at(pool.capacity), RangeError);
});

test('BSN pool order depends on the seed only', () => {
  const a = new BsnPool(new Rng('x'));
  const b = new BsnPool(new Rng('x'));
  const c = new BsnPool(new Rng('y'));
  const first = (p: BsnPool) => Array.from({ length: 20 }, (_, i) => p.at(i)).join();
  assert.equal(first(a), first(b));
  assert.notEqual(first(a), first(c));
});

test('URA, AGB, UZI, BIG and UZOVI have the right shape and are unique', () => {
  const f = new IdentifierFactory(new Rng('ids'));
  const all = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const ura = f.ura();
    const agb = f.agb('01');
    const uzi = f.uzi();
    assert.match(ura, /^9\d{7}$/);
    assert.match(agb, /^01\d{6}$/);
    assert.match(uzi, /^90\d{7}$/);
    assert.ok(passesElevenTest(uzi));
    assert.match(f.big(), /^\d{11}$/);
    for (const v of [ura, agb, uzi]) {
      assert.ok(!all.has(v), `duplicate ${v}`);
      all.add(v);
    }
  }
  assert.match(f.uzovi(), /^9\d{3}$/);
});
