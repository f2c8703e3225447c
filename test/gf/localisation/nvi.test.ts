/** The NVI over HTTP: profile validation, BSN guard, idempotent create, delete, search, transactions, no update. On every engine. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { List } from 'fhir/r4';
import { buildApp } from '../../../src/http/app.ts';
import { bsnIdentifier } from '../../../src/gf/pseudonym/identifier.ts';
import { DATA_CATEGORIES, ZORGCONTEXT_CODES, categoriesOf } from '../../../src/gf/localisation/categories.ts';
import { NVI_IDENTIFIER_SYSTEM, OAUTH_CLIENT_ID_SYSTEM, buildList } from '../../../src/gf/localisation/list.ts';
import { registerLocalisationRoutes } from '../../../src/gf/localisation/service.ts';
import { PseudonymRecipient } from '../../../src/gf/pseudonym/recipient.ts';
import { engineNames } from '../../helpers/engines.ts';
import { NVI, startNational, verify, type National } from './_support.ts';
import { makeRecipient } from '../pseudonym/_support.ts';

const P1 = bsnIdentifier('999911120');
const P2 = bsnIdentifier('999911132');

test('categories: 32 codes, 28 in the zorgcontext ValueSet; specific beats generic', () => {
  assert.equal(DATA_CATEGORIES.length, 32);
  assert.equal(ZORGCONTEXT_CODES.size, 28);
  for (const c of ['CareServiceEntities', 'Definitional', 'Practitioner', 'Subscription']) assert.equal(ZORGCONTEXT_CODES.has(c), false);
  const lab = { resourceType: 'Observation', status: 'final', code: {}, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }] };
  assert.deepEqual(categoriesOf(lab as never), ['ObservationLaboratory']);
  assert.deepEqual(categoriesOf({ resourceType: 'Observation', status: 'final', code: {} } as never), []);
  assert.deepEqual(categoriesOf({ resourceType: 'Consent', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentcategorycodes', code: 'acd' }] }] } as never), ['AdvanceDirective']);
  assert.deepEqual(categoriesOf({ resourceType: 'Consent' } as never), ['Consent']);
  assert.deepEqual(categoriesOf({ resourceType: 'Immunization' } as never), ['MedicationUse']);
  assert.deepEqual(categoriesOf({ resourceType: 'QuestionnaireResponse' } as never), ['ObservationSurvey']);
  assert.deepEqual(categoriesOf({ resourceType: 'Organization' } as never), []);
});

for (const db of engineNames()) {
  describe(`NVI (${db})`, () => {
    let n: National;
    before(async () => {
      n = await startNational(db);
    });
    after(async () => n?.stop());

    const call = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
      const res = await fetch(`${n.nviBase}${path}`, {
        method: init.method ?? 'GET',
        headers: { accept: 'application/fhir+json', ...(init.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...(init.token !== null ? { authorization: `Bearer ${init.token ?? 'node-a'}` } : {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
    };
    const list = async (id = P1, category = 'Condition', custodian = '12345678', source = 'schakel-node-a') => buildList({ nviIdentifier: await n.client.nviIdentifier(id, NVI), category, custodian, source });
    const subj = async (id = P1) => encodeURIComponent(`${NVI_IDENTIFIER_SYSTEM}|${await n.client.nviIdentifier(id, NVI)}`);

    test('create is idempotent per pseudonym × category × custodian; search by subject:identifier + code', async () => {
      const a = await call('/List', { method: 'POST', body: await list() });
      assert.equal(a.status, 201);
      assert.equal(a.json.subject.identifier.value, undefined, 'no pseudonym in the response');
      const b = await call('/List', { method: 'POST', body: await list() });
      assert.equal(b.status, 200);
      assert.equal(b.json.id, a.json.id);
      await call('/List', { method: 'POST', body: await list(P1, 'MedicationRequest') });
      await call('/List', { method: 'POST', body: await list(P2, 'Condition') });
      const s = await call(`/List?subject:identifier=${await subj()}&code=Condition`, { token: 'reader' });
      assert.equal(s.status, 200);
      assert.equal(s.json.type, 'searchset');
      assert.equal(s.json.entry.length, 1);
      const found = s.json.entry[0].resource as List;
      assert.equal(found.extension?.[0].valueReference?.identifier?.value, '12345678');
      assert.equal(found.subject?.identifier?.value, undefined);
      const all = await call(`/List?subject:identifier=${await subj()}`, { token: 'reader' });
      assert.deepEqual(all.json.entry.map((e: { resource: List }) => e.resource.code?.coding?.[0].code).sort(), ['Condition', 'MedicationRequest']);
      assert.ok(!JSON.stringify(all.json.link).includes('eyJ'), 'links carry sealed cursors, not the identifier');
      const two = await call(`/List?subject:identifier=${await subj()}&code=${encodeURIComponent('http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs|Condition,MedicationRequest')}`, { token: 'reader' });
      assert.equal(two.json.entry.length, 2);
    });

    test('a single-use identifier cannot be searched twice', async () => {
      const s = await subj(P2);
      assert.equal((await call(`/List?subject:identifier=${s}`, { token: 'reader' })).status, 200);
      const again = await call(`/List?subject:identifier=${s}`, { token: 'reader' });
      assert.equal(again.status, 400);
      assert.deepEqual(again.json.issue[0].expression, ['subject:identifier']);
    });

    test('paging by source:identifier (own records only) with sealed next links', async () => {
      for (const c of ['Encounter', 'Procedure', 'Alert']) await call('/List', { method: 'POST', body: await list(P2, c) });
      const first = await call(`/List?source:identifier=${encodeURIComponent(`${OAUTH_CLIENT_ID_SYSTEM}|schakel-node-a`)}&_count=2`);
      assert.equal(first.json.entry.length, 2);
      const seen = first.json.entry.map((e: { resource: List }) => e.resource.id);
      let next = first.json.link.find((l: { relation: string }) => l.relation === 'next')?.url as string | undefined;
      while (next) {
        const p = await call(next.slice(n.nviBase.length));
        seen.push(...p.json.entry.map((e: { resource: List }) => e.resource.id));
        next = p.json.link.find((l: { relation: string }) => l.relation === 'next')?.url;
      }
      assert.equal(new Set(seen).size, seen.length);
      assert.equal(seen.length, 6);
      const other = await call(`/List?source:identifier=${encodeURIComponent(`${OAUTH_CLIENT_ID_SYSTEM}|schakel-node-a`)}`, { token: 'node-b' });
      assert.equal(other.json.entry.length, 0, 'another organisation does not see these by source');
      assert.equal((await call('/List?_page=garbage')).status, 400);
    });

    test('delete: by id (custodian only), conditional, and atomic transactions', async () => {
      const c = await call('/List', { method: 'POST', body: await list(P1, 'Specimen') });
      assert.equal((await call(`/List/${c.json.id}`, { method: 'DELETE', token: 'node-b' })).status, 403);
      assert.equal((await call(`/List/${c.json.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await call(`/List/${c.json.id}`)).status, 404);
      // Transaction: a valid create + a delete of an unknown id ⇒ nothing applied.
      const bad = await call('', {
        method: 'POST',
        body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'List' }, resource: await list(P1, 'Imaging') }, { request: { method: 'DELETE', url: 'List/does-not-exist' } }] },
      });
      assert.equal(bad.status, 404);
      assert.equal((await call(`/List?subject:identifier=${await subj()}&code=Imaging`)).json.entry.length, 0);
      const ok = await call('', {
        method: 'POST',
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { request: { method: 'POST', url: 'List' }, resource: await list(P1, 'Imaging') },
            { request: { method: 'DELETE', url: `List?subject:identifier=${await subj()}&code=MedicationRequest` } },
          ],
        },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.type, 'transaction-response');
      assert.equal(ok.json.entry[0].response.status, '201 Created');
      const now = await call(`/List?subject:identifier=${await subj()}`);
      assert.deepEqual(now.json.entry.map((e: { resource: List }) => e.resource.code?.coding?.[0].code).sort(), ['Condition', 'Imaging']);
    });

    test('no update: PUT and PATCH → 405', async () => {
      const c = await call('/List', { method: 'POST', body: await list(P1, 'Encounter') });
      const put = await call(`/List/${c.json.id}`, { method: 'PUT', body: await list(P1, 'Encounter') });
      assert.equal(put.status, 405);
      assert.equal(put.json.resourceType, 'OperationOutcome');
      assert.equal((await call('', { method: 'POST', body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: `List/${c.json.id}` }, resource: await list() }] } })).status, 405);
    });

    test('plain BSNs are refused anywhere in the List, naming the element', async () => {
      const withSystem = await list();
      (withSystem as List).subject = { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999911120' } };
      let r = await call('/List', { method: 'POST', body: withSystem });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.issue[0].expression, ['List.subject.identifier.system']);
      const inSource = await list();
      inSource.source!.identifier!.value = 'client-999911120';
      r = await call('/List', { method: 'POST', body: inSource });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.issue[0].expression, ['List.source.identifier.value']);
      const inExt = await list();
      inExt.extension!.push({ url: 'http://example.org/x', valueString: '999911132' });
      r = await call('/List', { method: 'POST', body: inExt });
      assert.deepEqual(r.json.issue[0].expression, ['List.extension[1].valueString']);
      const plainSubject = await list();
      plainSubject.subject!.identifier!.value = '999911120';
      r = await call('/List', { method: 'POST', body: plainSubject });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.issue[0].expression, ['List.subject.identifier.value']);
      r = await call(`/List?subject:identifier=${encodeURIComponent('http://fhir.nl/fhir/NamingSystem/bsn|999911120')}`);
      assert.equal(r.status, 400);
      assert.ok(!r.text.includes('999911120'), 'the refusal does not echo the BSN');
      const inTx = await list();
      (inTx as unknown as Record<string, unknown>).text = { status: 'generated', div: '<div>BSN 999911120</div>' };
      r = await call('', { method: 'POST', body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'List' }, resource: inTx }] } });
      assert.deepEqual(r.json.issue[0].expression, ['Bundle.entry[0].resource.text.div']);
    });

    test('profile violations name the element; custodian must be the caller; tokens and scopes are required', async () => {
      const cases: [string, (l: List) => void, string][] = [
        ['status', (l) => (l.status = 'retired'), 'List.status'],
        ['mode', (l) => (l.mode = 'snapshot'), 'List.mode'],
        ['code', (l) => (l.code = { coding: [{ system: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs', code: 'Practitioner' }] }), 'List.code'],
        ['entry', (l) => (l.entry = [{ item: { display: 'x' } }]), 'List.entry'],
        ['subject.reference', (l) => (l.subject = { reference: 'Patient/1', identifier: l.subject!.identifier }), 'List.subject.reference'],
        ['source', (l) => (l.source = { identifier: { system: 'urn:x', value: 'y' } }), 'List.source.identifier.system'],
        ['emptyReason', (l) => delete l.emptyReason, 'List.emptyReason'],
        ['custodian', (l) => (l.extension![0].valueReference!.identifier!.value = '1234'), 'List.extension[0].valueReference.identifier.value'],
      ];
      for (const [name, mutate, expr] of cases) {
        const l = await list();
        mutate(l);
        const r = await call('/List', { method: 'POST', body: l });
        assert.equal(r.status, 400, name);
        assert.deepEqual(r.json.issue[0].expression, [expr], name);
      }
      assert.equal((await call('/List', { method: 'POST', body: await list(P1, 'Condition', '87654321') })).status, 403);
      assert.equal((await call('/List', { method: 'POST', body: await list(P1, 'Condition', '12345678', 'someone-else') })).status, 403);
      assert.equal((await call('/List', { method: 'POST', body: await list(), token: 'reader' })).status, 403);
      assert.equal((await call(`/List?subject:identifier=${await subj()}`, { token: 'nobody' })).status, 401);
      assert.equal((await call('/List?family=x')).status, 400);
      assert.equal((await call('/metadata')).json.resourceType, 'CapabilityStatement');
    });
  });
}

test('the NVI plugin mounts on the FHIR app (buildApp) and keeps its own JSON parsing and errors', async () => {
  const { openNode } = await import('../../../src/node/provider-node.ts');
  const { freshEngine } = await import('../../helpers/engines.ts');
  const target = await freshEngine('sqlite');
  const node = await openNode(target.opts);
  const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
  const r = await makeRecipient(NVI.organization, [NVI.scope]);
  await registerLocalisationRoutes(app, { db: node.engine.db, recipient: new PseudonymRecipient({ organization: NVI.organization, scopes: [NVI.scope], privateKey: r.recipient.privateKey }), verifyToken: verify });
  const res = await app.inject({ method: 'POST', url: '/national/nvi/fhir/List', headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer node-a' }, payload: '{"resourceType":"List","status":"current"}' });
  assert.equal(res.statusCode, 400);
  assert.equal(JSON.parse(res.body).issue[0].expression[0], 'List.mode');
  const fhir = await app.inject({ method: 'GET', url: '/fhir/nope/Patient' });
  assert.equal(fhir.statusCode, 404, 'the FHIR routes are untouched');
  await app.close();
  await node.close();
  await target.cleanup();
});
