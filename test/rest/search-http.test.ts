/** Search over HTTP: self links, paging links, _summary, _elements, _total, strict/lenient handling, history paging. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineNames } from '../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engineNames()) {
  describe(`search over HTTP (${engine})`, () => {
    let s: TestServer;
    let base: string;
    before(async () => {
      s = await startTestServer(engine);
      base = s.base('t1');
      const entry = Array.from({ length: 7 }, (_, i) => ({
        resource: { resourceType: 'Patient', identifier: [{ system: 'urn:s', value: `v${i}` }], name: [{ family: `Smit${i}`, given: ['Els'] }], gender: i % 2 ? 'male' : 'female', birthDate: `19${50 + i}-01-01`, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Els</div>' } },
        request: { method: 'POST', url: 'Patient' },
      }));
      const res = await fhir(base, { method: 'POST', body: { resourceType: 'Bundle', type: 'transaction', entry } });
      assert.equal(res.status, 200);
    });
    after(() => s.stop());

    it('pages with stable next links and echoes the parameters in the self link', async () => {
      const first = await fhir(`${base}/Patient?given=els&_sort=birthdate&_count=3&_total=accurate`);
      assert.equal(first.json.total, 7);
      const self = first.json.link.find((l: { relation: string }) => l.relation === 'self').url as string;
      for (const p of ['given=els', '_sort=birthdate', '_count=3']) assert.ok(self.includes(p), `${p} in ${self}`);
      const seen: string[] = first.json.entry.map((e: { resource: { birthDate: string } }) => e.resource.birthDate);
      let next = first.json.link.find((l: { relation: string }) => l.relation === 'next')?.url as string | undefined;
      while (next) {
        const page = await fhir(next);
        seen.push(...page.json.entry.map((e: { resource: { birthDate: string } }) => e.resource.birthDate));
        next = page.json.link.find((l: { relation: string }) => l.relation === 'next')?.url;
      }
      assert.deepEqual(seen, [...seen].sort());
      assert.equal(new Set(seen).size, 7);
    });

    it('_summary=count, _summary=true, _summary=text and _elements', async () => {
      const count = await fhir(`${base}/Patient?_summary=count`);
      assert.equal(count.json.total, 7);
      assert.equal(count.json.entry?.length ?? 0, 0);
      const summary = await fhir(`${base}/Patient?_summary=true&_count=1`);
      const r = summary.json.entry[0].resource;
      assert.equal(r.text, undefined, 'narrative is not a summary element');
      assert.ok(r.name && r.gender, 'summary elements kept');
      assert.ok(r.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
      const text = await fhir(`${base}/Patient?_summary=text&_count=1`);
      assert.ok(text.json.entry[0].resource.text);
      assert.equal(text.json.entry[0].resource.name, undefined);
      const elements = await fhir(`${base}/Patient?_elements=gender&_count=1`);
      const e = elements.json.entry[0].resource;
      assert.ok(e.gender && !e.name && !e.birthDate);
    });

    it('unknown parameters: strict → 400 naming it, lenient → ignored and reported', async () => {
      const strict = await fhir(`${base}/Patient?bogus=1`, { headers: { prefer: 'handling=strict' } });
      assert.equal(strict.status, 400);
      assert.deepEqual(strict.json.issue[0].expression, ['bogus']);
      const lenient = await fhir(`${base}/Patient?bogus=1&gender=male`, { headers: { prefer: 'handling=lenient' } });
      assert.equal(lenient.status, 200);
      const self = lenient.json.link.find((l: { relation: string }) => l.relation === 'self').url as string;
      assert.ok(!self.includes('bogus') && self.includes('gender=male'));
      const matches = lenient.json.entry.filter((x: { search: { mode: string } }) => x.search.mode === 'match');
      assert.equal(matches.length, 3);
      assert.ok(lenient.json.entry.some((x: { search: { mode: string } }) => x.search.mode === 'outcome'));
      const badDate = await fhir(`${base}/Patient?birthdate=not-a-date`, { headers: { prefer: 'handling=strict' } });
      assert.equal(badDate.status, 400);
    });

    it('system history pages with _count and honours _since', async () => {
      const h = await fhir(`${base}/_history?_count=4`);
      assert.equal(h.json.entry.length, 4);
      const next = h.json.link.find((l: { relation: string }) => l.relation === 'next').url;
      const h2 = await fhir(next);
      assert.equal(h2.json.entry.length, 3);
      const future = await fhir(`${base}/_history?_since=2999-01-01T00:00:00Z`);
      assert.equal(future.json.entry.length, 0);
      const badSince = await fhir(`${base}/_history?_since=yesterday`);
      assert.equal(badSince.status, 400);
    });

    it('HEAD answers headers only', async () => {
      const created = await fhir(`${base}/Patient?_count=1`);
      const id = created.json.entry[0].resource.id;
      const head = await fetch(`${base}/Patient/${id}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.ok(head.headers.get('etag'));
      assert.equal(await head.text(), '');
    });
  });
}
