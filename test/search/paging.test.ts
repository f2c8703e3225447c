/** _sort (several keys, missing last), keyset paging, _total, system search, strict/lenient parsing. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from 'fhir/r4';
import type { Engine } from '../../src/storage/engine.ts';
import { FhirError } from '../../src/fhir/outcome.ts';
import { openSearchDb, pgSkip, testDialects } from '../helpers/postgres.ts';
import { ids, put, search } from './_support.ts';
import { parseSearchRequest, selfLinkQuery } from '../../src/search/parse.ts';

/** 25 patients: gender cycles male/female/unknown/(missing); birth dates repeat so ties need the next key. */
function patients(): Patient[] {
  const out: Patient[] = [];
  for (let i = 0; i < 25; i++) {
    const g = ['male', 'female', 'unknown', undefined][i % 4] as Patient['gender'];
    out.push({
      resourceType: 'Patient',
      id: `pg${String(i).padStart(2, '0')}`,
      name: [{ family: `Fam${String.fromCharCode(65 + (i % 7))}` }],
      ...(g ? { gender: g } : {}),
      ...(i % 5 === 4 ? {} : { birthDate: `19${50 + (i % 3)}-0${1 + (i % 2)}-1${i % 4}` }),
    });
  }
  return out;
}

for (const dialect of testDialects()) {
  describe(`sorting and paging (${dialect})`, { skip: pgSkip(dialect) }, () => {
    let engine: Engine;
    let close: () => Promise<void>;
    const data = patients();
    before(async () => {
      ({ engine, close } = await openSearchDb(dialect));
      await put(engine, 't1', data);
      await put(engine, 't2', patients().slice(0, 5));
    });
    after(async () => close());

    /** Reference order computed in JS: keys with missing values last, then id. */
    function expected(keys: { get: (p: Patient) => string | undefined; desc: boolean }[]): string[] {
      return [...data]
        .sort((a, b) => {
          for (const k of keys) {
            const va = k.get(a);
            const vb = k.get(b);
            if (va === vb) continue;
            if (va === undefined) return 1;
            if (vb === undefined) return -1;
            return (va < vb ? -1 : 1) * (k.desc ? -1 : 1);
          }
          return a.id! < b.id! ? -1 : 1;
        })
        .map((p) => p.id!);
    }

    async function allPages(query: string, count: number): Promise<{ ids: string[]; pages: number }> {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const r = await search(engine, 'Patient', `${query}&_count=${count}`, { cursor });
        seen.push(...r.matches.map((m) => m.id));
        cursor = r.nextCursor;
        pages++;
        assert.ok(pages < 50, 'paging does not terminate');
      } while (cursor);
      return { ids: seen, pages };
    }

    it('multi-key sort (token asc, date desc) across 3 pages: no duplicates, no gaps, missing last', async () => {
      const { ids: got, pages } = await allPages('_sort=gender,-birthdate', 10);
      assert.equal(pages, 3);
      assert.equal(new Set(got).size, 25);
      const want = expected([
        { get: (p) => p.gender, desc: false },
        { get: (p) => p.birthDate, desc: true },
      ]);
      assert.deepEqual(got, want);
      assert.equal(got.at(-1), 'pg19', 'missing gender and missing birthDate sort last');
    });

    it('string sort descending and _id / _lastUpdated keys', async () => {
      const { ids: got } = await allPages('_sort=-family,_id', 7);
      assert.deepEqual(got, expected([{ get: (p) => p.name![0].family!.toLowerCase(), desc: true }]));
      const byId = await allPages('_sort=-_id', 10);
      assert.deepEqual(byId.ids, [...data.map((p) => p.id!)].sort().reverse());
      const byLu = await allPages('_sort=_lastUpdated', 9);
      assert.equal(byLu.ids.length, 25);
    });

    it('paging with criteria and default order; cursor is tenant-independent data only', async () => {
      const { ids: got, pages } = await allPages('gender=male,female', 4);
      assert.equal(pages, 4);
      assert.deepEqual(got, data.filter((p) => p.gender === 'male' || p.gender === 'female').map((p) => p.id!).sort());
    });

    it('_total accurate / estimate / none and _count=0', async () => {
      const acc = await search(engine, 'Patient', 'gender=male&_total=accurate&_count=2');
      assert.equal(acc.total, 7);
      assert.equal(acc.matches.length, 2);
      const est = await search(engine, 'Patient', '_total=estimate');
      assert.equal(est.total, 25);
      const none = await search(engine, 'Patient', '');
      assert.equal(none.total, undefined);
      const cnt = await search(engine, 'Patient', '_summary=count');
      assert.equal(cnt.total, 25);
      const zero = await search(engine, 'Patient', '_count=0&_total=accurate');
      assert.deepEqual([zero.matches.length, zero.total], [0, 25]);
      const t2 = await search(engine, 'Patient', '_total=accurate', { tenant: 't2' });
      assert.equal(t2.total, 5);
    });

    it('system search with _type and common parameters', async () => {
      await put(engine, 't1', [{ resourceType: 'Organization', id: 'pg00', name: 'Same id, other type' }]);
      assert.deepEqual(await ids(engine, undefined, '_type=Patient,Organization&_id=pg00'), ['Organization/pg00', 'Patient/pg00']);
      assert.deepEqual(await ids(engine, undefined, '_id=pg00'), ['Organization/pg00', 'Patient/pg00']);
      const sorted = await search(engine, undefined, '_type=Patient,Organization&_id=pg00,pg01&_sort=-_id&_count=2');
      assert.deepEqual(sorted.matches.map((m) => `${m.type}/${m.id}`), ['Patient/pg01', 'Organization/pg00']);
    });

    it('strict errors name the parameter; lenient drops it from the self link', () => {
      const err = (q: string) => {
        try {
          parseSearchRequest('Patient', new URLSearchParams(q), { strict: true });
        } catch (e) {
          assert.ok(e instanceof FhirError);
          assert.equal(e.status, 400);
          return e.issues[0].expression?.[0];
        }
        return 'no error';
      };
      assert.equal(err('foo=bar'), 'foo');
      assert.equal(err('birthdate=notadate'), 'birthdate');
      assert.equal(err('gender:exact=male'), 'gender:exact');
      assert.equal(err('name.family=x'), 'name.family');
      assert.equal(err('_sort=foo'), '_sort');
      assert.equal(err('_count=-1'), '_count');
      assert.equal(err('_has:Observation:code:status=final'), '_has:Observation:code:status');
      assert.equal(err('organization:Patient.name=x'), 'organization:Patient.name');
      assert.equal(err('_type=Observation'), '_type');
      assert.equal(err('_type=Patient&gender=male'), 'no error');
      const lenient = parseSearchRequest('Patient', new URLSearchParams('foo=bar&gender=male&birthdate=xx&_count=5'), { strict: false });
      assert.equal(selfLinkQuery(lenient), 'gender=male&_count=5');
      assert.deepEqual(lenient.ignored.map((i) => i.name), ['foo', 'birthdate']);
      const escaped = parseSearchRequest('Patient', new URLSearchParams('name=a\\,b,c'), { strict: true });
      assert.equal(selfLinkQuery(escaped), 'name=a%5C%2Cb%2Cc');
    });

    it('rejects a tampered cursor', async () => {
      await assert.rejects(search(engine, 'Patient', '_sort=gender', { cursor: 'bm9wZQ' }), (e: unknown) => e instanceof FhirError && e.status === 400);
    });
  });
}
