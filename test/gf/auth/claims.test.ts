/** The person claims of a client assertion: each rule refuses with a message naming the problem. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPersonClaims } from '../../../src/gf/auth/claims.ts';

const problem = (p: Record<string, unknown>) => {
  const r = readPersonClaims(p);
  return r.ok ? undefined : r.problem;
};

describe('person claims', () => {
  it('accepts a professional acting for treatment with an attested treatment relation', () => {
    const r = readPersonClaims({ uzi_nr: '900012345', uzi_rolcode: '01.015', purpose_of_use: 'treatment', treatment_relation: true });
    assert.deepEqual(r, { ok: true, claims: { uziNr: '900012345', uziRolcode: '01.015', purposeOfUse: 'treatment', treatmentRelation: true } });
  });
  it('accepts an organisation acting for itself (no person claims)', () => {
    assert.deepEqual(readPersonClaims({}), { ok: true, claims: { uziNr: undefined, uziRolcode: undefined, purposeOfUse: undefined, treatmentRelation: undefined } });
  });
  it('refuses what does not fit', () => {
    assert.match(problem({ uzi_nr: '12', uzi_rolcode: '01.015', purpose_of_use: 'treatment' })!, /uzi_nr/);
    assert.match(problem({ uzi_nr: '900012345', uzi_rolcode: 'arts', purpose_of_use: 'treatment' })!, /uzi_rolcode/);
    assert.match(problem({ uzi_nr: '900012345', purpose_of_use: 'treatment' })!, /go together/);
    assert.match(problem({ uzi_nr: '900012345', uzi_rolcode: '01.015' })!, /needs purpose_of_use/);
    assert.match(problem({ uzi_nr: '900012345', uzi_rolcode: '01.015', purpose_of_use: 'marketing' })!, /purpose_of_use must be one of/);
    assert.match(problem({ uzi_nr: '900012345', uzi_rolcode: '01.015', purpose_of_use: 'patient-access' })!, /cannot be combined/);
    assert.match(problem({ uzi_nr: '900012345', uzi_rolcode: '01.015', purpose_of_use: 'treatment', treatment_relation: 'yes' })!, /must be true/);
    assert.match(problem({ treatment_relation: true })!, /attested by a professional/);
  });
});
