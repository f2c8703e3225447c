/** The consent registry over HTTP on every engine: registration, closed/open question, revocation, auth, errors, restart. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineNames } from '../../helpers/engines.ts';
import { call, consent, startConsentServer, testBsn, type ConsentServer } from './helpers.ts';

const GP = '00000001';
const HOSPITAL = '00000002';
const PHARMACY = '00000003';
const PGO = '90000001';

for (const db of engineNames()) {
  describe(`consent registry over HTTP (${db})`, () => {
    let s: ConsentServer;
    before(async () => {
      s = await startConsentServer(db);
    });
    after(async () => {
      await s?.stop();
    });

    const check = (bsn: string, o: { consulter?: string; consulterType?: string; category?: string; purpose?: string; token?: string; accept?: string } = {}) =>
      call(`${s.base}/$check`, {
        token: o.token ?? `provider:${GP}`,
        accept: o.accept,
        body: {
          patient: { bsn },
          holder: { ura: GP, organizationType: 'Z3' },
          consulter: { ura: o.consulter ?? HOSPITAL, organizationType: o.consulterType ?? 'V4' },
          dataCategory: o.category ?? 'GGC002',
          purpose: o.purpose,
        },
      });

    it('permit → revoke → the next check denies at once (patient via PGO)', async () => {
      const bsn = testBsn(10);
      const pgo = `pgo:${PGO}:${bsn}`;
      assert.equal((await check(bsn)).json.decision, 'NotApplicable');
      const created = await call(`${s.base}/Consent`, { token: pgo, contentType: 'application/fhir+json', body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }) });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json.performer[0].identifier.value, bsn, 'registered by the patient');
      assert.match(created.headers.get('location') ?? '', /\/national\/consent\/Consent\//);
      const permit = await check(bsn);
      assert.equal(permit.json.decision, 'Permit');
      assert.deepEqual(permit.json.consentIds, [created.json.id]);
      assert.equal(permit.json.basis.code, 'explicit-consent');

      const revoked = await call(`${s.base}/Consent/${created.json.id}`, { method: 'PUT', token: pgo, body: { ...created.json, status: 'inactive' } });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.json.meta.versionId, '2');
      const after = await check(bsn);
      assert.equal(after.json.decision, 'NotApplicable', 'revocation is effective for the very next question');
      assert.deepEqual(after.json.consentIds, []);

      const hist = await call(`${s.base}/Consent/${created.json.id}/_history`, { token: pgo, accept: 'application/fhir+json' });
      assert.equal(hist.json.entry.length, 2, 'history keeps both versions');
    });

    it('an objection registered by a provider on the patient\'s behalf denies, with the provider recorded', async () => {
      const bsn = testBsn(11);
      await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }) });
      assert.equal((await check(bsn)).json.decision, 'Permit');
      const obj = await call(`${s.base}/Consent`, { token: `provider:${GP}`, body: consent({ bsn, type: 'deny' }) });
      assert.equal(obj.status, 201, obj.text);
      assert.equal(obj.json.performer[0].type, 'Organization');
      assert.equal(obj.json.performer[0].identifier.value, GP);
      assert.equal(obj.json.policyRule.coding[0].code, 'OPTOUT');
      const d = await check(bsn);
      assert.equal(d.json.decision, 'Deny');
      assert.equal(d.json.basis.code, 'objection');
      // The objection is withdrawn by deleting it: the consent applies again.
      const del = await call(`${s.base}/Consent/${obj.json.id}`, { method: 'DELETE', token: `provider:${GP}` });
      assert.ok(del.status === 200 || del.status === 204, del.text);
      assert.equal((await check(bsn)).json.decision, 'Permit');
    });

    it('emergency treatment without a choice: Permit with the legal basis recorded; FHIR Parameters on request', async () => {
      const bsn = testBsn(12);
      const d = await check(bsn, { purpose: 'ETREAT', accept: 'application/fhir+json' });
      assert.equal(d.status, 200);
      assert.equal(d.json.resourceType, 'Parameters');
      const p = (n: string) => d.json.parameter.find((x: { name: string }) => x.name === n);
      assert.equal(p('decision').valueCode, 'Permit');
      assert.equal(p('basis').valueCoding.code, 'emergency');
      assert.match(p('basis-source').valueString, /WGBO/);
    });

    it('$check accepts a FHIR Parameters body', async () => {
      const bsn = testBsn(13);
      await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { ura: GP }, consulter: { category: 'RPZAC005' }, categories: ['GGC013'] }) });
      const body = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'patient', valueIdentifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: bsn } },
          { name: 'holder-ura', valueString: GP },
          { name: 'consulter-ura', valueString: PHARMACY },
          { name: 'consulter-organization-type', valueCode: 'J8' },
          { name: 'data-category', valueCode: 'GGC013' },
        ],
      };
      const d = await call(`${s.base}/$check`, { token: `provider:${PHARMACY}`, contentType: 'application/fhir+json', body });
      assert.equal(d.status, 200, d.text);
      assert.equal(d.json.decision, 'Permit');
      const higher = await call(`${s.base}/$check`, { token: `provider:${PHARMACY}`, body: { ...body, parameter: body.parameter.map((x) => (x.name === 'data-category' ? { ...x, valueCode: 'GGC002' } : x)) } });
      assert.equal(higher.json.decision, 'NotApplicable', 'GGC013 consent does not answer for GGC002');
    });

    it('$open lists the holders the consulter may consult', async () => {
      const bsn = testBsn(14);
      await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }) });
      await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'deny', holder: { ura: '00000077' }, consulter: { category: 'RPZAC104' } }) });
      const a = await call(`${s.base}/$open`, {
        token: `provider:${HOSPITAL}`,
        body: { patient: { bsn }, consulter: { ura: HOSPITAL, organizationType: 'V6' }, dataCategory: 'ObservationLaboratory', holders: [{ ura: GP, organizationType: 'Z3' }, { ura: '00000077', organizationType: 'N6' }, { ura: PHARMACY, organizationType: 'J8' }] },
      });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.json.permitted.map((p: { ura: string }) => p.ura), [GP]);
      assert.deepEqual(a.json.denied.map((p: { ura: string }) => p.ura).sort(), ['00000003', '00000077']);
    });

    it('bad input → 400 OperationOutcome with the expression', async () => {
      const bsn = testBsn(15);
      const cases: [unknown, string][] = [
        [{ patient: { bsn: '123456789' }, holder: { ura: GP, category: 'RPZAC001' }, consulter: { ura: HOSPITAL, category: 'RPZAC104' }, dataCategory: 'GGC002' }, 'patient.bsn'],
        [{ patient: { bsn }, holder: { ura: 'abc' }, consulter: { ura: HOSPITAL, category: 'RPZAC104' }, dataCategory: 'GGC002' }, 'holder.ura'],
        [{ patient: { bsn }, holder: { ura: GP, organizationType: 'XX' }, consulter: { ura: HOSPITAL }, dataCategory: 'GGC002' }, 'holder.organizationType'],
        [{ patient: { bsn }, holder: { ura: GP }, consulter: { ura: HOSPITAL }, dataCategory: 'GGC999' }, 'dataCategory'],
        [{ patient: { bsn }, holder: { ura: GP }, consulter: { ura: HOSPITAL }, dataCategory: 'GGC002', purpose: 'FUN' }, 'purpose'],
        [{ patient: { bsn }, holder: { ura: GP }, dataCategory: 'GGC002' }, 'consulter'],
        [{ patient: { bsn }, holder: { ura: GP }, consulter: { ura: HOSPITAL }, dataCategory: 'GGC002', at: 'yesterday' }, 'at'],
      ];
      for (const [body, expression] of cases) {
        const r = await call(`${s.base}/$check`, { token: `provider:${GP}`, body });
        assert.equal(r.status, 400, `${expression}: ${r.text}`);
        assert.equal(r.json.resourceType, 'OperationOutcome');
        assert.deepEqual(r.json.issue[0].expression, [expression], r.text);
      }
      const badJson = await call(`${s.base}/$check`, { token: `provider:${GP}`, body: '{"patient":' });
      assert.equal(badJson.status, 400);
      assert.equal(badJson.json.issue[0].code, 'structure');

      const c = consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' } });
      const r = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: { ...c, provision: { ...c.provision, period: { start: '2025-02-01', end: '2025-01-01' } } } });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.issue[0].expression, ['Consent.provision.period']);
      const ct = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: 'x', contentType: 'text/plain' });
      assert.equal(ct.status, 415);
    });

    it('authentication and authorisation', async () => {
      const bsn = testBsn(16);
      const other = testBsn(17);
      const none = await call(`${s.base}/$check`, { body: {} });
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await call(`${s.base}/Consent`, { token: 'bogus' })).status, 401);
      // A PGO registers only for its own user.
      const wrong = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn: other, type: 'permit' }) });
      assert.equal(wrong.status, 403);
      // Only the holder or consulter in the question may ask it.
      assert.equal((await check(bsn, { token: `provider:${PHARMACY}` })).status, 403);
      assert.equal((await check(bsn, { token: `node:99999999` })).status, 200);
      // Reads and searches are narrowed to the caller.
      const mine = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' } }) });
      assert.equal(mine.status, 201);
      assert.equal((await call(`${s.base}/Consent/${mine.json.id}`, { token: `pgo:${PGO}:${other}` })).status, 404);
      assert.equal((await call(`${s.base}/Consent/${mine.json.id}`, { token: `provider:${GP}` })).status, 404, 'a provider sees only what it registered');
      assert.equal((await call(`${s.base}/Consent/${mine.json.id}`, { method: 'PUT', token: `provider:${GP}`, body: { ...mine.json, status: 'inactive' } })).status, 404);
      const search = await call(`${s.base}/Consent?status=active`, { token: `pgo:${PGO}:${bsn}`, accept: 'application/fhir+json' });
      assert.equal(search.status, 200);
      assert.ok(search.json.entry.length >= 1);
      assert.ok(search.json.entry.every((e: { resource: { patient: { identifier: { value: string } } } }) => e.resource.patient.identifier.value === bsn));
      const theirs = await call(`${s.base}/Consent?patient:identifier=http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`, { token: `pgo:${PGO}:${other}`, accept: 'application/fhir+json' });
      assert.equal(theirs.json.entry.length, 0, 'a PGO cannot search another patient');
      assert.equal((await call(`${s.base}/Consent?_revinclude=*`, { token: `pgo:${PGO}:${bsn}` })).status, 400);
      // The registry tenant is not reachable through the generic FHIR route.
      const raw = await call(`${s.url}/fhir/national-consent/Consent`, { accept: 'application/fhir+json' });
      assert.equal(raw.status, 404);
      assert.equal((await call(`${s.url}/fhir/national%2Dconsent/Consent`, { accept: 'application/fhir+json' })).status, 404);
      assert.equal((await call(`${s.url}/fhir/national-consent`, { accept: 'application/fhir+json' })).status, 404);
    });

    it('XML in and out on the FHIR endpoints', async () => {
      const bsn = testBsn(18);
      const xml = `<Consent xmlns="http://hl7.org/fhir"><status value="active"/><scope><coding><system value="http://terminology.hl7.org/CodeSystem/consentscope"/><code value="patient-privacy"/></coding></scope><category><coding><system value="http://loinc.org"/><code value="59284-0"/></coding></category><patient><identifier><system value="http://fhir.nl/fhir/NamingSystem/bsn"/><value value="${bsn}"/></identifier></patient><provision><type value="permit"/></provision></Consent>`;
      const r = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: xml, contentType: 'application/fhir+xml', accept: 'application/fhir+xml' });
      assert.equal(r.status, 201, r.text);
      assert.match(r.text, /<Consent xmlns="http:\/\/hl7.org\/fhir">/);
      assert.equal((await check(bsn)).json.decision, 'Permit');
    });

    it('the index is rebuilt from the store on start', async () => {
      const bsn = testBsn(19);
      const c = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { ura: GP }, consulter: { ura: HOSPITAL } }) });
      assert.equal(c.status, 201);
      const target = s.target;
      await s.stop(false);
      s = await startConsentServer(db, { target });
      const d = await check(bsn);
      assert.equal(d.json.decision, 'Permit');
      assert.deepEqual(d.json.consentIds, [c.json.id]);
    });
  });
}
