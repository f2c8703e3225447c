/** JSON and XML in both directions for every kind of interaction; content negotiation; limits. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseFhirXml, toFhirXml } from '../../src/fhir/format/xml.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

const XML = 'application/fhir+xml';

describe('formats', () => {
  let s: TestServer;
  let base: string;
  before(async () => {
    s = await startTestServer('sqlite');
    base = s.base('t1');
  });
  after(() => s.stop());

  it('creates from XML and answers in XML, by Accept and by _format', async () => {
    const body = toFhirXml({ resourceType: 'Patient', name: [{ family: 'de Vries', given: ['Jan'] }], birthDate: '1950-01-01' } as never);
    const res = await fetch(`${base}/Patient`, { method: 'POST', headers: { 'content-type': XML, accept: XML }, body });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type') ?? '', /application\/fhir\+xml/);
    const created = parseFhirXml(await res.text());
    assert.equal(created.resourceType, 'Patient');
    const id = created.id!;
    const viaFormat = await fetch(`${base}/Patient/${id}?_format=xml`);
    assert.match(viaFormat.headers.get('content-type') ?? '', /xml/);
    const viaJsonFormat = await fhir(`${base}/Patient/${id}?_format=json`, { headers: { accept: XML } });
    assert.equal(viaJsonFormat.json.name[0].family, 'de Vries');
    const searchXml = parseFhirXml(await (await fetch(`${base}/Patient?family=vries`, { headers: { accept: XML } })).text());
    assert.equal(searchXml.resourceType, 'Bundle');
    const histXml = parseFhirXml(await (await fetch(`${base}/Patient/${id}/_history`, { headers: { accept: XML } })).text());
    assert.equal(histXml.resourceType, 'Bundle');
    const meta = parseFhirXml(await (await fetch(`${base}/metadata?_format=application/fhir+xml`)).text());
    assert.equal(meta.resourceType, 'CapabilityStatement');
  });

  it('accepts XML transactions and answers errors in the requested format', async () => {
    const bundle = toFhirXml({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:0b7e2c1a-1111-4111-8111-111111111111', resource: { resourceType: 'Patient', active: true }, request: { method: 'POST', url: 'Patient' } }],
    } as never);
    const res = await fetch(base, { method: 'POST', headers: { 'content-type': XML, accept: XML }, body: bundle });
    assert.equal(res.status, 200);
    assert.equal((parseFhirXml(await res.text()) as { type?: string }).type, 'transaction-response');
    const bad = await fetch(`${base}/Patient`, { method: 'POST', headers: { 'content-type': XML, accept: XML }, body: '<Patient xmlns="http://hl7.org/fhir"><active value="maybe"/></Patient>' });
    assert.equal(bad.status, 400);
    const oo = parseFhirXml(await bad.text());
    assert.equal(oo.resourceType, 'OperationOutcome');
    const broken = await fetch(`${base}/Patient`, { method: 'POST', headers: { 'content-type': XML }, body: '<Patient xmlns="http://hl7.org/fhir"><active value="true">' });
    assert.equal(broken.status, 400);
  });

  it('refuses bodies over the limit with 413', async () => {
    const big = JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(70 * 1024 * 1024)}</div>` } });
    const res = await fhir(`${base}/Patient`, { method: 'POST', body: big });
    assert.equal(res.status, 413);
    assert.equal(res.json.resourceType, 'OperationOutcome');
  });
});
