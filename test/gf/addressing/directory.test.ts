/** The national directory over HTTP: ITI-90 searches, ITI-130 feed policy (own entries, If-Match, no deletes), ITI-91 history. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { buildApp } from '../../../src/http/app.ts';
import { openNode } from '../../../src/node/provider-node.ts';
import { registerDirectoryRoutes } from '../../../src/gf/addressing/directory.ts';
import { GF_PROFILE, URA_SYSTEM } from '../../../src/gf/addressing/constants.ts';
import { publish, type OrganisationEntries } from '../../../src/gf/addressing/publisher.ts';
import { engineNames, freshEngine } from '../../helpers/engines.ts';
import { call, startTestDirectory, tokenFor, verifyTestToken, type TestDirectory } from './support.ts';

const GP: OrganisationEntries = {
  ura: '11111111',
  agb: '01234567',
  name: 'Huisartsenpraktijk De Linde',
  organizationType: { code: 'Z3', display: 'Huisartspraktijk' },
  fhirBase: 'https://gp.example/fhir/gp1',
  endpoints: [{ key: 'fhir', payloadTypes: ['MedicationUse', 'Condition'] }],
  locations: [{ key: 'main', name: 'Praktijk De Linde' }],
  services: [{ key: 'hz', name: 'Huisartsenzorg', type: [{ text: 'Huisartsenzorg' }], locations: ['main'], endpoints: ['fhir'] }],
};
const HOSPITAL: OrganisationEntries = {
  ura: '22222222',
  name: 'Ziekenhuis Rivierenland',
  organizationType: { code: 'V4', display: 'Ziekenhuis' },
  fhirBase: 'https://zh.example/fhir/zh1',
  endpoints: [{ key: 'fhir', payloadTypes: ['ObservationLaboratory'] }],
  departments: [{ key: 'cardio', name: 'Cardiologie' }],
  locations: [{ key: 'hoofd', name: 'Hoofdlocatie' }],
  services: [{ key: 'poli', name: 'Poliklinische zorg', type: [{ text: 'Polikliniek' }], department: 'cardio', locations: ['hoofd'] }],
};

const asUra = (ura: string) => ({ authorization: () => tokenFor(ura) });

for (const db of engineNames()) describe(`national directory (mCSD) on ${db}`, () => {
  let dir: TestDirectory;
  let gp: Record<string, string>;
  let zh: Record<string, string>;

  before(async () => {
    dir = await startTestDirectory(db);
    const a = await publish(dir.base, GP, asUra(GP.ura));
    const b = await publish(dir.base, HOSPITAL, asUra(HOSPITAL.ura));
    const keyed = (locs: string[], keys: string[]) => Object.fromEntries(keys.map((k, i) => [k, locs[i]]));
    gp = keyed(a.locations, ['org', 'endpoint', 'location', 'service']);
    zh = keyed(b.locations, ['org', 'cardio', 'endpoint', 'location', 'service']);
  });
  after(async () => dir.stop());

  describe('authentication', () => {
    it('refuses requests without a valid token (401 with an OperationOutcome)', async () => {
      const r = await call(`${dir.base}/Organization`);
      assert.equal(r.status, 401);
      assert.equal(r.json.resourceType, 'OperationOutcome');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    });
    it('serves its CapabilityStatement without a token, without delete', async () => {
      const r = await call(`${dir.base}/metadata`);
      assert.equal(r.status, 200);
      assert.equal(r.json.resourceType, 'CapabilityStatement');
      const org = r.json.rest[0].resource.find((x: { type: string }) => x.type === 'Organization');
      assert.ok(!org.interaction.some((i: { code: string }) => i.code === 'delete'));
      assert.ok(r.json.instantiates.some((c: string) => c.endsWith('nl-gf-directory-for-ITI-130-NL')));
    });
  });

  describe('ITI-90 find matching care services', () => {
    it('finds an Organization by URA and includes its endpoint', async () => {
      const r = await call(`${dir.base}/Organization?identifier=${URA_SYSTEM}|${GP.ura}&_include=Organization:endpoint`, { ura: '99999999' });
      assert.equal(r.status, 200);
      const types = r.json.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType).sort();
      assert.deepEqual(types, ['Endpoint', 'Organization']);
      const org = r.json.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Organization').resource;
      assert.deepEqual(org.meta.profile, [GF_PROFILE.Organization]);
      assert.equal(`Organization/${org.id}`, gp.org);
      assert.ok(r.json.entry[0].fullUrl.startsWith(dir.base), 'fullUrls point at the directory, not at a tenant base');
    });
    it('finds organisations by name and by type', async () => {
      const byName = await call(`${dir.base}/Organization?name=ziekenhuis`, { ura: '99999999' });
      assert.deepEqual(byName.json.entry.map((e: { resource: { id: string } }) => `Organization/${e.resource.id}`), [zh.org]);
      const contains = await call(`${dir.base}/Organization?name:contains=rivierenland&active=true`, { ura: '99999999' });
      assert.deepEqual(contains.json.entry.map((e: { resource: { id: string } }) => `Organization/${e.resource.id}`), [zh.org]);
      const byType = await call(`${dir.base}/Organization?type=http://nictiz.nl/fhir/NamingSystem/organization-type|Z3`, { ura: '99999999' });
      assert.deepEqual(byType.json.entry.map((e: { resource: { id: string } }) => `Organization/${e.resource.id}`), [gp.org]);
    });
    it('finds departments through partof', async () => {
      const r = await call(`${dir.base}/Organization?partof=${zh.org}`, { ura: '99999999' });
      assert.deepEqual(r.json.entry.map((e: { resource: { id: string } }) => `Organization/${e.resource.id}`), [zh.cardio]);
    });
    it('finds Endpoints by organization and status, with the published shape', async () => {
      const r = await call(`${dir.base}/Endpoint?organization=${gp.org}&status=active`, { ura: '99999999' });
      assert.equal(r.json.entry.length, 1);
      const ep = r.json.entry[0].resource;
      assert.equal(ep.connectionType.code, 'hl7-fhir-rest');
      assert.equal(ep.address, GP.fhirBase);
      assert.deepEqual(ep.payloadType.map((p: { coding: { code: string }[] }) => p.coding[0].code), ['MedicationUse', 'Condition']);
      assert.deepEqual(ep.meta.profile, [GF_PROFILE.Endpoint]);
    });
    it('finds HealthcareServices by organization and Locations by organization', async () => {
      const hs = await call(`${dir.base}/HealthcareService?organization=${zh.cardio}`, { ura: '99999999' });
      assert.deepEqual(hs.json.entry.map((e: { resource: { id: string } }) => `HealthcareService/${e.resource.id}`), [zh.service]);
      const loc = await call(`${dir.base}/Location?organization=${gp.org}`, { ura: '99999999' });
      assert.deepEqual(loc.json.entry.map((e: { resource: { id: string } }) => `Location/${e.resource.id}`), [gp.location]);
    });
    it('searches OrganizationAffiliation (empty here) and refuses types outside the directory', async () => {
      const oa = await call(`${dir.base}/OrganizationAffiliation`, { ura: '99999999' });
      assert.equal(oa.status, 200);
      assert.equal(oa.json.entry?.length ?? 0, 0);
      const patient = await call(`${dir.base}/Patient`, { ura: '99999999' });
      assert.equal(patient.status, 404);
      assert.equal(patient.json.resourceType, 'OperationOutcome');
    });
    it('also answers in XML', async () => {
      const r = await call(`${dir.base}/Organization?identifier=${URA_SYSTEM}|${GP.ura}&_format=xml`, { ura: '99999999' });
      assert.equal(r.status, 200);
      assert.match(r.text, /<Bundle xmlns="http:\/\/hl7.org\/fhir">/);
    });
  });

  describe('ITI-130 care services feed', () => {
    it('publishing again is idempotent: the same entries, no duplicates', async () => {
      const again = await publish(dir.base, GP, asUra(GP.ura));
      assert.deepEqual(again.locations, [gp.org, gp.endpoint, gp.location, gp.service]);
      const org = await call(`${dir.base}/${gp.org}`, { ura: '99999999' });
      assert.equal(org.json.meta.versionId, '1', 'an identical re-publish creates no new version');
      const r = await call(`${dir.base}/Endpoint?organization=${gp.org}`, { ura: '99999999' });
      assert.equal(r.json.entry.length, 1);
    });
    it("refuses a write of another organisation's entry (403)", async () => {
      const current = (await call(`${dir.base}/${gp.endpoint}`, { ura: GP.ura })).json;
      const r = await call(`${dir.base}/${gp.endpoint}`, { method: 'PUT', ura: HOSPITAL.ura, body: { ...current, address: 'https://evil.example/fhir' } });
      assert.equal(r.status, 403);
      assert.equal(r.json.issue[0].code, 'forbidden');
      const still = (await call(`${dir.base}/${gp.endpoint}`, { ura: GP.ura })).json;
      assert.equal(still.address, GP.fhirBase);
    });
    it('refuses taking over an entry by pointing it at yourself (403), and creating entries for another organisation', async () => {
      const current = (await call(`${dir.base}/${gp.endpoint}`, { ura: GP.ura })).json;
      const takeover = await call(`${dir.base}/${gp.endpoint}`, { method: 'PUT', ura: HOSPITAL.ura, body: { ...current, managingOrganization: { reference: zh.org } } });
      assert.equal(takeover.status, 403);
      const foreignOrg = await call(`${dir.base}/Organization`, {
        method: 'POST',
        ura: HOSPITAL.ura,
        body: { resourceType: 'Organization', identifier: [{ system: URA_SYSTEM, value: '33333333' }], name: 'Not mine' },
      });
      assert.equal(foreignOrg.status, 403);
      const foreignEndpoint = await call(`${dir.base}/Endpoint`, {
        method: 'POST',
        ura: HOSPITAL.ura,
        body: { resourceType: 'Endpoint', status: 'active', connectionType: { code: 'hl7-fhir-rest' }, payloadType: [{ text: 'x' }], address: 'https://x', managingOrganization: { reference: gp.org } },
      });
      assert.equal(foreignEndpoint.status, 403);
      const foreignDept = await call(`${dir.base}/Organization`, {
        method: 'POST',
        ura: HOSPITAL.ura,
        body: { resourceType: 'Organization', name: 'Fake department', partOf: { reference: gp.org } },
      });
      assert.equal(foreignDept.status, 403);
    });
    it("refuses a conditional update that matches another organisation's entry (403)", async () => {
      const current = (await call(`${dir.base}/${gp.endpoint}`, { ura: GP.ura })).json;
      const ident = current.identifier[0];
      const r = await call(`${dir.base}/Endpoint?identifier=${encodeURIComponent(ident.system)}|${ident.value}`, {
        method: 'PUT',
        ura: HOSPITAL.ura,
        body: { ...current, id: undefined, managingOrganization: { reference: zh.org }, address: 'https://evil.example/fhir' },
      });
      assert.equal(r.status, 403);
      assert.equal((await call(`${dir.base}/${gp.endpoint}`, { ura: GP.ura })).json.address, GP.fhirBase);
    });
    it('keeps one Organization per URA (409 for a second one)', async () => {
      const r = await call(`${dir.base}/Organization`, { method: 'POST', ura: GP.ura, body: { resourceType: 'Organization', identifier: [{ system: URA_SYSTEM, value: GP.ura }], name: 'Duplicate' } });
      assert.equal(r.status, 409);
      assert.match(r.json.issue[0].diagnostics, /already registered/);
    });
    it('refuses a transaction in which one entry belongs to another organisation, writing nothing', async () => {
      const before = (await call(`${dir.base}/Location?organization=${zh.org}`, { ura: HOSPITAL.ura })).json.entry.length;
      const r = await call(dir.base, {
        method: 'POST',
        ura: HOSPITAL.ura,
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { request: { method: 'POST', url: 'Location' }, resource: { resourceType: 'Location', name: 'Mine', managingOrganization: { reference: zh.org } } },
            { request: { method: 'POST', url: 'Location' }, resource: { resourceType: 'Location', name: 'Not mine', managingOrganization: { reference: gp.org } } },
          ],
        },
      });
      assert.equal(r.status, 403);
      assert.match(r.json.issue[0].diagnostics, /Bundle\.entry\[1\]/);
      assert.equal((await call(`${dir.base}/Location?organization=${zh.org}`, { ura: HOSPITAL.ura })).json.entry.length, before);
    });
    it('lets an organisation create and update its own entries with If-Match; a stale version gets 412', async () => {
      const created = await call(`${dir.base}/Endpoint`, {
        method: 'POST',
        ura: HOSPITAL.ura,
        body: {
          resourceType: 'Endpoint',
          status: 'active',
          connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
          payloadType: [{ coding: [{ code: 'Request' }] }],
          address: 'https://zh.example/fhir/notify',
          managingOrganization: { reference: zh.org },
        },
      });
      assert.equal(created.status, 201);
      const id = created.json.id;
      assert.equal(created.headers.get('etag'), 'W/"1"');
      const v2 = await call(`${dir.base}/Endpoint/${id}`, { method: 'PUT', ura: HOSPITAL.ura, headers: { 'if-match': 'W/"1"' }, body: { ...created.json, status: 'suspended' } });
      assert.equal(v2.status, 200);
      assert.equal(v2.headers.get('etag'), 'W/"2"');
      const stale = await call(`${dir.base}/Endpoint/${id}`, { method: 'PUT', ura: HOSPITAL.ura, headers: { 'if-match': 'W/"1"' }, body: { ...created.json, status: 'active' } });
      assert.equal(stale.status, 412);
      assert.equal(stale.json.resourceType, 'OperationOutcome');
      assert.equal((await call(`${dir.base}/Endpoint/${id}`, { ura: HOSPITAL.ura })).json.status, 'suspended');
    });
    it('refuses DELETE (405), also inside a transaction, and PATCH (405); a status change ends an entry instead', async () => {
      const del = await call(`${dir.base}/${zh.location}`, { method: 'DELETE', ura: HOSPITAL.ura });
      assert.equal(del.status, 405);
      assert.match(del.json.issue[0].diagnostics, /never deletes/);
      const inBundle = await call(dir.base, { method: 'POST', ura: HOSPITAL.ura, body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: zh.location } }] } });
      assert.equal(inBundle.status, 405);
      const patch = await call(`${dir.base}/${zh.location}`, { method: 'PATCH', ura: HOSPITAL.ura, headers: { 'content-type': 'application/json-patch+json' }, body: [] });
      assert.ok([405, 415].includes(patch.status));
      const off = await publish(dir.base, { ...HOSPITAL, endpoints: [{ key: 'fhir', payloadTypes: ['ObservationLaboratory'], status: 'off' }] }, asUra(HOSPITAL.ura));
      assert.equal(off.locations[2], zh.endpoint);
      const ep = (await call(`${dir.base}/${zh.endpoint}`, { ura: GP.ura })).json;
      assert.equal(ep.status, 'off');
      assert.equal((await call(`${dir.base}/${zh.location}`, { ura: GP.ura })).status, 200, 'still there');
    });
  });

  describe('ITI-91 request care services updates', () => {
    it('serves type history with _since, paged through Bundle.link[next]', async () => {
      const since = new Date(Date.now() - 3_600_000).toISOString();
      let url: string | undefined = `${dir.base}/Organization/_history?_since=${since}&_count=2`;
      const seen: string[] = [];
      let pages = 0;
      while (url) {
        const r = await call(url, { ura: '99999999' });
        assert.equal(r.status, 200);
        assert.equal(r.json.type, 'history');
        pages++;
        for (const e of r.json.entry) seen.push(`${e.resource.resourceType}/${e.resource.id}/${e.resource.meta.versionId}`);
        url = r.json.link.find((l: { relation: string }) => l.relation === 'next')?.url;
        if (url) assert.ok(url.startsWith(dir.base), 'next links stay on the directory');
      }
      assert.ok(pages >= 2);
      // Re-publishing identical entries made no new versions (the store keeps a version when nothing changed).
      assert.ok(seen.includes(`${gp.org}/1`) && !seen.includes(`${gp.org}/2`) && seen.includes(`${zh.cardio}/1`));
      const future = await call(`${dir.base}/Organization/_history?_since=${new Date(Date.now() + 60_000).toISOString()}`, { ura: '99999999' });
      assert.equal(future.json.entry.length, 0);
    });
  });
});

describe('directory mounted next to the provider routes', () => {
  it('works inside the app of src/http/app.ts, which keeps serving /fhir/{tenant}', async () => {
    const target = await freshEngine('sqlite');
    const node = await openNode(target.opts);
    await node.tenants.ensure({ tenant: 't1' });
    await node.tenants.ensure({ tenant: 'national-directory' });
    const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
    await registerDirectoryRoutes(app, { dispatch: node.dispatch, verifyToken: verifyTestToken });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      const published = await publish(`${url}/national/directory/fhir`, GP, asUra(GP.ura));
      assert.equal(published.locations.length, 4);
      const found = await call(`${url}/national/directory/fhir/Organization?identifier=${URA_SYSTEM}|${GP.ura}`, { ura: HOSPITAL.ura });
      assert.equal(found.json.entry.length, 1);
      const provider = await call(`${url}/fhir/t1/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
      assert.equal(provider.status, 201);
      const forbidden = await call(`${url}/national/directory/fhir/${published.locations[1]}`, { method: 'DELETE', ura: GP.ura });
      assert.equal(forbidden.status, 405);
    } finally {
      await app.close();
      await node.close();
      await target.cleanup();
    }
  });

  it('also mounts on a bare Fastify app', async () => {
    const app = Fastify();
    const target = await freshEngine('sqlite');
    const node = await openNode(target.opts);
    await registerDirectoryRoutes(app, { prefix: '/dir', dispatch: node.dispatch, verifyToken: verifyTestToken });
    try {
      const r = await app.inject({ method: 'GET', url: '/dir/Organization', headers: { authorization: tokenFor('12345678') } });
      assert.equal(r.statusCode, 200);
      assert.equal(JSON.parse(r.body).resourceType, 'Bundle');
    } finally {
      await app.close();
      await node.close();
      await target.cleanup();
    }
  });
});
