import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageOn, checkRegistry, isValidBsn, mandatesOf, mayActFor } from '../../../src/gf/auth/mandates.ts';
import { BSN, REGISTRY, TODAY } from './fixtures.ts';

describe('mandate rules', () => {
  it('ages count completed years, 29 February included', () => {
    assert.equal(ageOn('2010-06-16', TODAY), 15);
    assert.equal(ageOn('2010-06-15', TODAY), 16);
    assert.equal(ageOn('2008-02-29', new Date('2024-02-28T12:00:00Z')), 15);
    assert.equal(ageOn('2008-02-29', new Date('2024-02-29T12:00:00Z')), 16);
    assert.equal(ageOn('2008-02-29', new Date('2025-02-28T12:00:00Z')), 16);
  });

  it('a parent acts for a child of 15', () => {
    const d = mayActFor(REGISTRY, BSN.parent, BSN.child15, TODAY);
    assert.equal(d.allowed, true);
    assert.equal(d.allowed && d.basis, 'parent-of-minor');
    assert.equal(d.allowed && d.mandate?.validUntil, '2026-06-15', 'until the day before the 16th birthday');
  });

  it('a parent does not act for a child of 16 (from the birthday on)', () => {
    const d = mayActFor(REGISTRY, BSN.parent, BSN.child16, TODAY);
    assert.equal(d.allowed, false);
    assert.match(!d.allowed ? d.reason : '', /16 or older/);
    // the day before, the same child was 15
    assert.equal(mayActFor(REGISTRY, BSN.parent, BSN.child16, new Date('2026-06-14T12:00:00Z')).allowed, true);
    // and the 15-year-old stops being represented tomorrow
    assert.equal(mayActFor(REGISTRY, BSN.parent, BSN.child15, new Date('2026-06-16T12:00:00Z')).allowed, false);
  });

  it('a parent of a child of 16+ may act with a registered mandate', () => {
    const withMandate = { ...REGISTRY, mandates: [...REGISTRY.mandates, { id: 'm-3', representative: BSN.parent, represented: BSN.child16, kind: 'gemachtigde' as const, validFrom: '2026-06-15' }] };
    const d = mayActFor(withMandate, BSN.parent, BSN.child16, TODAY);
    assert.equal(d.allowed && d.basis, 'registered-mandate');
  });

  it('a mantelzorger acts for another adult only with a registered mandate valid on the day', () => {
    const carer = mayActFor(REGISTRY, BSN.carer, BSN.elder, TODAY);
    assert.equal(carer.allowed && carer.basis, 'registered-mandate');
    assert.equal(carer.allowed && carer.mandate?.kind, 'mantelzorger');
    assert.equal(mayActFor(REGISTRY, BSN.neighbour, BSN.elder, TODAY).allowed, false, 'no mandate');
    assert.equal(mayActFor(REGISTRY, BSN.expiredCarer, BSN.elder, TODAY).allowed, false, 'mandate ended');
    assert.equal(mayActFor(REGISTRY, BSN.expiredCarer, BSN.elder, new Date('2025-12-31T12:00:00Z')).allowed, true, 'last day inclusive');
    assert.equal(mayActFor(REGISTRY, BSN.carer, BSN.elder, new Date('2024-12-31T12:00:00Z')).allowed, false, 'before it starts');
    assert.equal(mayActFor(REGISTRY, BSN.elder, BSN.carer, TODAY).allowed, false, 'a mandate is one-way');
  });

  it('everyone acts for themself', () => {
    assert.deepEqual(mayActFor(REGISTRY, BSN.neighbour, BSN.neighbour, TODAY), { allowed: true, basis: 'self' });
  });

  it('lists all mandates of a person', () => {
    assert.deepEqual(
      mandatesOf(REGISTRY, BSN.parent, TODAY).map((m) => [m.represented.bsn, m.basis]),
      [[BSN.child15, 'parent-of-minor']],
    );
    assert.deepEqual(
      mandatesOf(REGISTRY, BSN.carer, TODAY).map((m) => [m.represented.bsn, m.basis, m.kind]),
      [[BSN.elder, 'registered-mandate', 'mantelzorger']],
    );
    assert.deepEqual(mandatesOf(REGISTRY, BSN.neighbour, TODAY), []);
  });

  it('checks BSNs and the consistency of the registry', () => {
    assert.equal(isValidBsn(BSN.parent), true);
    assert.equal(isValidBsn('123456789'), false);
    assert.equal(isValidBsn('999999991'), false);
    assert.deepEqual(checkRegistry(REGISTRY), []);
    const broken = checkRegistry({
      citizens: [{ bsn: '123456789', given: 'X', family: 'Y', birthDate: '1-1-2000' }],
      parentChild: [{ parent: BSN.parent, child: '123456789' }],
      mandates: [{ id: 'bad', representative: BSN.carer, represented: BSN.elder, kind: 'mantelzorger', validFrom: '2026-01-01', validUntil: '2025-01-01' }],
    });
    assert.equal(broken.length, 5, broken.join('\n'));
  });
});
