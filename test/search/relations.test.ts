/**
 * Chains, _has, _include/_revinclude (iterate), compartments, $everything, $lastn — and tenant isolation
 * for each of them: tenant t2 reuses ids (Patient/p1, Organization/o1) with different content.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/storage/engine.ts';
import { openSearchDb, pgSkip, testDialects } from '../helpers/postgres.ts';
import { del, ids, put, refs, search } from './_support.ts';
import { tenant1, tenant2 } from './fixtures.ts';
import { patientEverything } from '../../src/search/everything.ts';
import { observationLastN } from '../../src/search/lastn.ts';
import { parseSearchRequest } from '../../src/search/parse.ts';

for (const dialect of testDialects()) {
  describe(`chains, _has, includes, compartments (${dialect})`, { skip: pgSkip(dialect) }, () => {
    let engine: Engine;
    let close: () => Promise<void>;
    before(async () => {
      ({ engine, close } = await openSearchDb(dialect));
      await put(engine, 't1', tenant1);
      await put(engine, 't2', tenant2);
    });
    after(async () => close());

    it('chains one and two levels deep, with and without a type', async () => {
      assert.deepEqual(await ids(engine, 'Patient', 'organization.name=ziekenhuis'), ['p1']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject:Patient.organization.name=huisarts'), ['obs3']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject:Patient.organization.partof.name=umc'), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject.name=de vries'), ['obs4']);
      assert.deepEqual(await ids(engine, 'Observation', 'patient.gender=male,female'), ['obs1', 'obs2', 'obs3']);
    });

    it('_has, also nested', async () => {
      assert.deepEqual(await ids(engine, 'Patient', '_has:Observation:patient:code=29463-7'), ['p2', 'p3']);
      assert.deepEqual(await ids(engine, 'Patient', '_has:Observation:subject:value-quantity=gt75'), ['p1', 'p3']);
      assert.deepEqual(await ids(engine, 'Organization', '_has:Patient:organization:_has:Observation:patient:code=8867-4'), ['o1']);
    });

    it('_include, _include:iterate (two rounds), _revinclude, target type', async () => {
      const r = await search(engine, 'Observation', 'code=8867-4&_include=Observation:subject&_include:iterate=Patient:organization&_include:iterate=Organization:partof');
      assert.deepEqual(refs(r.matches), ['Observation/obs1', 'Observation/obs2', 'Observation/obs6']);
      assert.deepEqual(refs(r.includes), ['Organization/o1', 'Organization/o3', 'Patient/p1']);
      const noIter = await search(engine, 'Observation', 'code=8867-4&_include=Observation:subject&_include=Patient:organization');
      assert.deepEqual(refs(noIter.includes), ['Patient/p1'], 'without :iterate includes only apply to matches');
      const typed = await search(engine, 'Observation', 'status=amended,preliminary&_include=Observation:subject:Group');
      assert.deepEqual(refs(typed.includes), [], 'Group/g1 does not exist; Patient/p2 is not a Group');
      const rev = await search(engine, 'Patient', '_id=p1&_revinclude=Observation:subject&_revinclude=Encounter:subject');
      assert.deepEqual(refs(rev.includes), ['Encounter/e1', 'Observation/obs1', 'Observation/obs2']);
      const revIter = await search(engine, 'Organization', '_id=o1&_revinclude=Patient:organization&_revinclude:iterate=Observation:subject');
      assert.deepEqual(refs(revIter.includes), ['Observation/obs1', 'Observation/obs2', 'Patient/p1']);
      const revNoIter = await search(engine, 'Organization', '_id=o1&_revinclude=Patient:organization&_revinclude=Observation:subject');
      assert.deepEqual(refs(revNoIter.includes), ['Patient/p1'], 'without :iterate the second revinclude has nothing to start from');
      const star = await search(engine, 'Patient', '_id=p1&_include=Patient:*');
      assert.deepEqual(refs(star.includes), ['Organization/o1']);
      const content = JSON.parse(r.includes.find((i) => i.id === 'p1')!.content);
      assert.equal(content.name[0].family, 'Jánsen');
    });

    it('no cross-tenant leakage: plain, chain, _has, _include, _revinclude', async () => {
      assert.deepEqual(await ids(engine, 'Patient', 'name=ghost'), []);
      assert.deepEqual(await ids(engine, 'Patient', 'name=ghost', { tenant: 't2' }), ['p1', 'p9']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject:Patient.name=ghost'), [], 'chain must not see t2 Patient/p1');
      assert.deepEqual(await ids(engine, 'Patient', 'organization.name=spookhuis'), []);
      assert.deepEqual(await ids(engine, 'Patient', '_has:Observation:patient:code=GHOST-1'), [], '_has must not see t2 observations');
      assert.deepEqual(await ids(engine, 'Patient', '_has:Observation:patient:code=GHOST-1', { tenant: 't2' }), ['p1']);
      const inc = await search(engine, 'Observation', '_id=obs1&_include=Observation:subject&_include:iterate=Patient:organization');
      assert.equal(JSON.parse(inc.includes.find((i) => i.id === 'p1')!.content).name[0].family, 'Jánsen');
      assert.equal(JSON.parse(inc.includes.find((i) => i.id === 'o1')!.content).name, 'Ziekenhuis Amsterdam');
      const rev = await search(engine, 'Patient', '_id=p1,p3&_revinclude=Observation:subject');
      assert.deepEqual(refs(rev.includes), ['Observation/obs1', 'Observation/obs2', 'Observation/obs4'], 'no t2 obsX/obsY');
      const rev2 = await search(engine, 'Patient', '_id=p1&_revinclude=Observation:subject', { tenant: 't2' });
      assert.deepEqual(refs(rev2.includes), ['Observation/obsX']);
    });

    it('compartment restricts matches and includes of patient data', async () => {
      const c = { type: 'Patient' as const, id: 'p1' };
      assert.deepEqual(await ids(engine, 'Observation', 'status=final', { compartment: c }), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Patient', '', { compartment: c }), ['p1']);
      assert.deepEqual(await ids(engine, 'Organization', '', { compartment: c }), [], 'Organization is not in the compartment');
      const inc = await search(engine, 'Patient', '_revinclude=Observation:subject&_include=Patient:organization', { compartment: c });
      assert.deepEqual(refs(inc.includes), ['Observation/obs1', 'Observation/obs2', 'Organization/o1']);
      // Another patient's data never comes in through an include.
      const other = await search(engine, 'Observation', '_include=Observation:subject', { compartment: { type: 'Patient', id: 'p2' } });
      assert.deepEqual(refs(other.matches), ['Observation/obs3']);
      assert.deepEqual(refs(other.includes), ['Patient/p2']);
      const sys = await search(engine, undefined, '_type=Observation,Patient,Encounter', { compartment: c });
      assert.deepEqual(refs(sys.matches), ['Encounter/e1', 'Observation/obs1', 'Observation/obs2', 'Patient/p1']);
    });

    it('Patient/$everything: compartment plus referenced non-patient resources, tenant-bound', async () => {
      const r = await patientEverything({ db: engine.db, dialect: engine.dialect, tenant: 't1' }, 'p1');
      assert.deepEqual(refs(r.matches), ['Condition/c1', 'Encounter/e1', 'Observation/obs1', 'Observation/obs2', 'Patient/p1', 'RiskAssessment/ra1']);
      assert.deepEqual(refs(r.includes), ['Organization/o1']);
      const t2 = await patientEverything({ db: engine.db, dialect: engine.dialect, tenant: 't2' }, 'p1');
      assert.deepEqual(refs(t2.matches), ['Observation/obsX', 'Patient/p1']);
      const onlyObs = await patientEverything({ db: engine.db, dialect: engine.dialect, tenant: 't1' }, 'p1', { types: ['Observation'] });
      assert.deepEqual(refs(onlyObs.matches), ['Observation/obs1', 'Observation/obs2']);
      const later = await patientEverything({ db: engine.db, dialect: engine.dialect, tenant: 't1' }, 'p1', { since: '2999-01-01' });
      assert.deepEqual(refs(later.matches), []);
    });

    it('Observation/$lastn: most recent N per patient and code', async () => {
      const ctx = { db: engine.db, dialect: engine.dialect, tenant: 't1' };
      const one = await observationLastN(ctx, parseSearchRequest('Observation', [['status', 'final,preliminary']], { strict: true }), 1);
      assert.deepEqual(refs(one.matches), ['Observation/obs2', 'Observation/obs3', 'Observation/obs4']);
      const two = await observationLastN(ctx, parseSearchRequest('Observation', [['patient', 'p1']], { strict: true }), 2);
      assert.deepEqual(refs(two.matches), ['Observation/obs1', 'Observation/obs2']);
    });

    it('an update replaces the old index rows', async () => {
      await put(engine, 't1', [{ resourceType: 'Patient', id: 'pupd', name: [{ family: 'Eerste' }], gender: 'male' }]);
      assert.deepEqual(await ids(engine, 'Patient', 'family=eerste'), ['pupd']);
      await put(engine, 't1', [{ resourceType: 'Patient', id: 'pupd', name: [{ family: 'Tweede' }] }]);
      assert.deepEqual(await ids(engine, 'Patient', 'family=eerste'), []);
      assert.deepEqual(await ids(engine, 'Patient', 'family=tweede'), ['pupd']);
      assert.deepEqual(await ids(engine, 'Patient', '_id=pupd&gender:missing=true'), ['pupd']);
    });

    it('deleted resources are neither matched, chained nor included', async () => {
      await put(engine, 't1', [{ resourceType: 'Organization', id: 'tmp', name: 'Tijdelijk' }, { resourceType: 'Patient', id: 'ptmp', managingOrganization: { reference: 'Organization/tmp' } }]);
      assert.deepEqual(await ids(engine, 'Patient', 'organization.name=tijdelijk'), ['ptmp']);
      await del(engine, 't1', 'Organization', 'tmp');
      assert.deepEqual(await ids(engine, 'Organization', 'name=tijdelijk'), []);
      assert.deepEqual(await ids(engine, 'Patient', 'organization.name=tijdelijk'), []);
      const inc = await search(engine, 'Patient', '_id=ptmp&_include=Patient:organization');
      assert.deepEqual(refs(inc.includes), []);
      await del(engine, 't1', 'Patient', 'ptmp');
      assert.deepEqual(await ids(engine, 'Patient', '_id=ptmp'), []);
    });
  });
}
