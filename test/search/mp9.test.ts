/**
 * MP9 custom SearchParameters on the Nictiz MedMij reference fixtures (read in place from ../shared, never
 * copied). `${DATE, T, D, n}` placeholders are filled relative to a fixed T so the expectations are stable.
 * Expected sets are computed from the parsed JSON with plain filters (independent of the SQL path).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { FhirResource } from 'fhir/r4';
import type { Engine } from '../../src/storage/engine.ts';
import { parseFhirXml } from '../../src/fhir/format/xml.ts';
import { sharedPath } from '../../src/paths.ts';
import { openSearchDb, pgSkip, testDialects } from '../helpers/postgres.ts';
import { put, refs, search } from './_support.ts';

const DIR = sharedPath('fhir/nictiz-testscripts/r4/MP9-3-0-0-beta/MedMij/Test/_reference-medmij/fixtures');
const T = Date.UTC(2026, 5, 15);
const day = (n: number) => new Date(T + n * 86_400_000).toISOString().slice(0, 10);

function fill(xml: string): string {
  return xml.replace(/\$\{DATE, T, ([DMY]), ?([+-]?\d+)\}/g, (_m, unit: string, n: string) => {
    const d = new Date(T);
    if (unit === 'D') d.setUTCDate(d.getUTCDate() + Number(n));
    else if (unit === 'M') d.setUTCMonth(d.getUTCMonth() + Number(n));
    else d.setUTCFullYear(d.getUTCFullYear() + Number(n));
    return d.toISOString().slice(0, 10);
  });
}

const EXT = 'http://nictiz.nl/fhir/StructureDefinition/';
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- ad-hoc reads of fixture JSON
const ext = (r: Any, name: string): Any[] => [...(r.extension ?? []), ...(r.modifierExtension ?? [])].filter((e: Any) => e.url === EXT + name);
const hasCategory = (r: Any, code: string) => [r.category ?? []].flat().some((c: Any) => c.coding?.some((x: Any) => x.code === code));

const available = existsSync(DIR);

for (const dialect of testDialects()) {
  describe(`MP9 custom search parameters (${dialect})`, { skip: pgSkip(dialect) || (available ? false : `fixtures not found at ${DIR}`) }, () => {
    let engine: Engine;
    let close: () => Promise<void>;
    let all: Any[] = [];
    before(async () => {
      ({ engine, close } = await openSearchDb(dialect));
      all = readdirSync(DIR)
        .filter((f) => f.endsWith('.xml'))
        .map((f) => parseFhirXml(fill(readFileSync(`${DIR}/${f}`, 'utf8'))) as Any);
      await put(engine, 't1', all as FhirResource[]);
    });
    after(async () => close());

    const of = (type: string) => all.filter((r) => r.resourceType === type);

    it('category (MP9 on MedicationDispense/Administration, core on MedicationRequest/Statement)', async () => {
      for (const [type, code] of [
        ['MedicationDispense', '422037009'],
        ['MedicationAdministration', '18629005'],
        ['MedicationRequest', '33633005'],
        ['MedicationStatement', '422979000'],
      ]) {
        const want = of(type).filter((r) => hasCategory(r, code)).map((r) => `${type}/${r.id}`).sort();
        assert.ok(want.length > 0);
        const got = await search(engine, type, `category=http://snomed.info/sct|${code}&_count=1000`);
        assert.deepEqual(refs(got.matches), want, `${type} category ${code}`);
      }
    });

    it('pharmaceutical-treatment-identifier on all four types', async () => {
      const system = 'urn:oid:2.16.840.1.113883.2.4.3.11.999.77.1.1';
      for (const type of ['MedicationRequest', 'MedicationDispense', 'MedicationAdministration', 'MedicationStatement']) {
        const sample = of(type).find((r) => ext(r, 'ext-PharmaceuticalTreatment.Identifier').length > 0)!;
        const value = ext(sample, 'ext-PharmaceuticalTreatment.Identifier')[0].valueIdentifier.value as string;
        const want = of(type)
          .filter((r) => ext(r, 'ext-PharmaceuticalTreatment.Identifier').some((e) => e.valueIdentifier.value === value && e.valueIdentifier.system === system))
          .map((r) => `${type}/${r.id}`)
          .sort();
        const got = await search(engine, type, `pharmaceutical-treatment-identifier=${system}|${value}&_count=1000`);
        assert.deepEqual(refs(got.matches), want, type);
        const wrongSystem = await search(engine, type, `pharmaceutical-treatment-identifier=urn:oid:1.2.3|${value}`);
        assert.equal(wrongSystem.matches.length, 0);
      }
    });

    it('period-of-use honours TimeInterval.Duration (start + duration = end)', async () => {
      // A MedicationRequest/Dispense whose period has only a start and a duration that ends before T-21.
      const closedByDuration = [...of('MedicationRequest'), ...of('MedicationDispense')].find((r) => {
        const p = ext(r, 'ext-TimeInterval.Period')[0]?.valuePeriod;
        const dur = p?.extension?.find((e: Any) => e.url === EXT + 'ext-TimeInterval.Duration')?.valueDuration;
        if (!p?.start || p.end || !dur) return false;
        const days = dur.code === 'wk' ? dur.value * 7 : dur.code === 'd' ? dur.value : NaN;
        return Date.parse(p.start) + days * 86_400_000 < T - 30 * 86_400_000;
      });
      assert.ok(closedByDuration, 'fixture with start + duration in the past');
      const type = closedByDuration.resourceType as string;
      const inWindow = await search(engine, type, `period-of-use=ge${day(-21)}&_count=1000&_id=${closedByDuration.id}`);
      assert.equal(inWindow.matches.length, 0, 'its computed end lies before T-21; an open end would have matched');
      const start = ext(closedByDuration, 'ext-TimeInterval.Period')[0].valuePeriod.start as string;
      const during = await search(engine, type, `period-of-use=ge${start.slice(0, 10)}&period-of-use=le${start.slice(0, 10)}&_id=${closedByDuration.id}`);
      assert.equal(during.matches.length, 1);
    });

    it('period-of-use window (ge/le) on MedicationStatement.effectivePeriod', async () => {
      const lo = T - 21 * 86_400_000;
      const hi = T - 7 * 86_400_000 + 86_399_999;
      const want = of('MedicationStatement')
        .filter((r) => {
          const p = r.effectivePeriod;
          if (!p || p.extension) return false; // keep the independent computation simple: no duration
          const s = p.start ? Date.parse(p.start) : -Infinity;
          const e = p.end ? Date.parse(p.end) : Infinity;
          return e >= lo && s <= hi;
        })
        .map((r) => `MedicationStatement/${r.id}`);
      const got = refs((await search(engine, 'MedicationStatement', `period-of-use=ge${day(-21)}&period-of-use=le${day(-7)}&_count=1000`)).matches);
      for (const w of want) assert.ok(got.includes(w), `${w} overlaps the window`);
      const outside = refs((await search(engine, 'MedicationStatement', `period-of-use=lt${day(-5000)}`)).matches);
      assert.deepEqual(outside, []);
    });

    it('_include of MP9 reference parameters: author, prescriber, next-practitioner, dispense-location, reason, location; :iterate', async () => {
      const ms = await search(
        engine,
        'MedicationStatement',
        '_count=1000&category=http://snomed.info/sct|422979000&_include=MedicationStatement:author&_include=MedicationStatement:prescriber&_include:iterate=PractitionerRole:organization',
      );
      const incTypes = new Set(ms.includes.map((i) => i.type));
      assert.ok(incTypes.has('PractitionerRole') && incTypes.has('Organization'), [...incTypes].join());
      const authorRef = ext(of('MedicationStatement')[0], 'ext-MedicationUse2.Author')[0].valueReference.reference as string;
      assert.ok(refs(ms.includes).includes(authorRef), `author ${authorRef} included`);

      const withNext = of('MedicationRequest').filter((r) => ext(r, 'ext-MedicationAgreement.NextPractitioner').length > 0);
      const nextRefs = withNext.map((r) => ext(r, 'ext-MedicationAgreement.NextPractitioner')[0].valueReference.reference as string);
      const mr = await search(engine, 'MedicationRequest', `_id=${withNext.map((r) => r.id).join(',')}&_include=MedicationRequest:next-practitioner`);
      for (const ref of nextRefs) assert.ok(refs(mr.includes).includes(ref), ref);

      const withLoc = of('MedicationRequest').find((r) => r.dispenseRequest?.extension?.some((e: Any) => e.url === EXT + 'ext-DispenseRequest.DispenseLocation'))!;
      const dl = await search(engine, 'MedicationRequest', `_id=${withLoc.id}&_include=MedicationRequest:dispense-location`);
      assert.deepEqual(refs(dl.includes).filter((r) => r.startsWith('Location/')).length, 1);
      const byLoc = await search(engine, 'MedicationRequest', `dispense-location=${refs(dl.includes)[0]}`);
      assert.deepEqual(refs(byLoc.matches), [`MedicationRequest/${withLoc.id}`]);

      const withReason = of('MedicationRequest').find((r) => r.reasonReference?.length);
      if (withReason) {
        const rr = await search(engine, 'MedicationRequest', `_id=${withReason.id}&_include=MedicationRequest:reason`);
        assert.ok(rr.includes.length > 0);
      }
      const prescriberSearch = await search(engine, 'MedicationStatement', `prescriber=${ext(of('MedicationStatement').find((r) => ext(r, 'ext-MedicationUse2.Prescriber').length)!, 'ext-MedicationUse2.Prescriber')[0].valueReference.reference}&_count=1000`);
      assert.ok(prescriberSearch.matches.length > 0);
    });

    it('is-latest-stop=true adds the latest stopped block per treatment outside the period', async () => {
      const q = `category=http://snomed.info/sct|33633005&period-of-use=lt${day(-5000)}&_count=1000`;
      assert.deepEqual((await search(engine, 'MedicationRequest', q)).matches, []);
      const got = await search(engine, 'MedicationRequest', `${q}&is-latest-stop=true`);
      assert.ok(got.matches.length > 0);
      const mbhs = new Set<string>();
      for (const m of got.matches) {
        const r = JSON.parse(m.content) as Any;
        assert.ok(ext(r, 'ext-StopType').length > 0, `${m.id} is stopped`);
        const mbh = ext(r, 'ext-PharmaceuticalTreatment.Identifier')[0].valueIdentifier.value as string;
        assert.ok(!mbhs.has(mbh), `one per treatment (${mbh})`);
        mbhs.add(mbh);
      }
      const stoppedMbhs = new Set(
        of('MedicationRequest')
          .filter((r) => hasCategory(r, '33633005') && ext(r, 'ext-StopType').some((e) => ['410546004', '385655000'].includes(e.valueCodeableConcept?.coding?.[0]?.code)))
          .map((r) => ext(r, 'ext-PharmaceuticalTreatment.Identifier')[0].valueIdentifier.value as string),
      );
      assert.deepEqual([...mbhs].sort(), [...stoppedMbhs].sort());
    });

    it('patient compartment scopes MP9 searches and their includes', async () => {
      const patient = of('MedicationRequest')[0].subject.reference.split('/')[1] as string;
      const got = await search(engine, 'MedicationRequest', '_count=1000&_include=MedicationRequest:subject&_include=MedicationRequest:medication', { compartment: { type: 'Patient', id: patient } });
      const want = of('MedicationRequest').filter((r) => r.subject?.reference === `Patient/${patient}`).map((r) => `MedicationRequest/${r.id}`).sort();
      assert.deepEqual(refs(got.matches), want);
      assert.deepEqual(refs(got.includes).filter((r) => r.startsWith('Patient/')), [`Patient/${patient}`]);
      assert.ok(got.includes.some((i) => i.type === 'Medication'));
    });
  });
}
