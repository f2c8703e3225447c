/** Parameter types, prefixes and modifiers against the hand-made data set, on every engine. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/storage/engine.ts';
import { openSearchDb, pgSkip, testDialects } from '../helpers/postgres.ts';
import { ids, put } from './_support.ts';
import { tenant1, tenant2, BSN } from './fixtures.ts';

for (const dialect of testDialects()) {
  describe(`search parameter types (${dialect})`, { skip: pgSkip(dialect) }, () => {
    let engine: Engine;
    let close: () => Promise<void>;
    before(async () => {
      ({ engine, close } = await openSearchDb(dialect));
      await put(engine, 't1', tenant1);
      await put(engine, 't2', tenant2);
    });
    after(async () => close());

    it('string: starts-with, case- and accent-insensitive; :exact; :contains', async () => {
      assert.deepEqual(await ids(engine, 'Patient', 'name=jans'), ['p1', 'p2']);
      assert.deepEqual(await ids(engine, 'Patient', 'name=JANSEN'), ['p1']);
      assert.deepEqual(await ids(engine, 'Patient', 'family=vries'), []);
      assert.deepEqual(await ids(engine, 'Patient', 'family:contains=vries'), ['p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'name:exact=Jánsen'), ['p1']);
      assert.deepEqual(await ids(engine, 'Patient', 'name:exact=jánsen'), []);
      assert.deepEqual(await ids(engine, 'Patient', 'given=piet,anne'), ['p2', 'p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'name=jan&name=jansm'), ['p2'], 'AND: Jansma starts with both');
      assert.deepEqual(await ids(engine, 'Patient', 'name=jans&given=jan'), ['p1']);
    });

    it('token: code, system|code, |code, system|, :not, :missing, :text, :of-type', async () => {
      assert.deepEqual(await ids(engine, 'Patient', 'gender=male'), ['p1']);
      assert.deepEqual(await ids(engine, 'Patient', 'gender:not=male'), ['p2', 'p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'gender:missing=true'), ['p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'gender:missing=false'), ['p1', 'p2']);
      assert.deepEqual(await ids(engine, 'Patient', `identifier=${BSN}|111`), ['p1']);
      assert.deepEqual(await ids(engine, 'Patient', 'identifier=http://other|111'), []);
      assert.deepEqual(await ids(engine, 'Patient', 'identifier=|111'), []);
      assert.deepEqual(await ids(engine, 'Patient', `identifier=${BSN}|`), ['p1']);
      assert.deepEqual(await ids(engine, 'Observation', 'status=|final'), ['obs1', 'obs2', 'obs4', 'obs6']);
      assert.deepEqual(await ids(engine, 'Observation', 'code=http://loinc.org|8867-4'), ['obs1', 'obs2', 'obs6']);
      assert.deepEqual(await ids(engine, 'Observation', 'code:text=heart'), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'code:text=uitslag'), ['obs5'], ':text matches a word inside the text');
      assert.deepEqual(await ids(engine, 'Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|111'), ['p1']);
      assert.deepEqual(await ids(engine, 'Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|111'), []);
      assert.deepEqual(await ids(engine, 'Observation', '_tag=http://example.org/tags|import'), ['obs1']);
      assert.deepEqual(await ids(engine, 'Patient', 'telecom=0611'), ['p1']);
      assert.deepEqual(await ids(engine, 'Observation', 'combo-code=http://loinc.org|29463-7'), ['obs3', 'obs4']);
    });

    it('date: implicit precision ranges and every prefix', async () => {
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=1970'), ['p1', 'p2']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=1970-05'), ['p1', 'p2']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=1970-05-06'), ['p1'], 'p2 (May 1970) is not within 6 May');
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=ne1970'), ['p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=lt1970-05-06'), ['p2']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=gt1970-05-06'), ['p2', 'p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=le1970-05-01'), ['p2']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=ge1985-06'), ['p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=sa1970-05-06'), ['p3']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=eb1980'), ['p1', 'p2']);
      assert.deepEqual(await ids(engine, 'Patient', 'birthdate=eb1970-05-31'), ['p1'], 'p2 ends on 31 May, not before it');
      // Periods and timezones
      assert.deepEqual(await ids(engine, 'Observation', 'date=2024'), ['obs1', 'obs2', 'obs3']);
      assert.deepEqual(await ids(engine, 'Observation', 'date=2023'), ['obs4']);
      assert.deepEqual(await ids(engine, 'Observation', 'date=2024-01-15'), [], 'a period of a month is not within a day');
      assert.deepEqual(await ids(engine, 'Observation', 'date=ge2024-01-15&date=le2024-01-20'), ['obs3'], 'overlap via ge/le');
      assert.deepEqual(await ids(engine, 'Observation', 'date=2024-01-01T00:30:00%2B01:00'), ['obs4'], 'minute precision in +01:00 is 23:30Z on the previous day');
      assert.deepEqual(await ids(engine, 'Observation', 'date=2024-03-15T11:00:00%2B01:00'), ['obs1'], 'same instant in +01:00');
      // ap widens by 10% of the distance to now, so the exact set depends on today; these hold for decades.
      const ap = await ids(engine, 'Observation', 'date=ap2024-03-16');
      assert.ok(ap.includes('obs1') && ap.includes('obs2') && !ap.includes('obs5'), ap.join());
      assert.deepEqual(await ids(engine, 'Observation', 'date=ap2000-01-01'), []);
      assert.deepEqual(await ids(engine, 'Observation', '_lastUpdated=gt2000-01-01&_id=obs1'), ['obs1']);
      assert.deepEqual(await ids(engine, 'Observation', '_lastUpdated=lt2000-01-01'), []);
    });

    it('number precision and quantity with/without system and code, canonical units, ap', async () => {
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=0.25'), ['ra1'], '0.255 is outside [0.245, 0.255)');
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=0.3'), ['ra1', 'ra2'], 'one decimal: [0.25, 0.35)');
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=0.30'), []);
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=gt0.25'), ['ra2', 'ra4'], 'ra4 is a range open upwards');
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=gt0.15&probability=lt0.12'), ['ra3'], 'range [0.1, 0.2]');
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=gt0.9'), ['ra4']);
      assert.deepEqual(await ids(engine, 'RiskAssessment', 'probability=lt0.05'), []);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=72'), ['obs1']);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=gt75'), ['obs2', 'obs4']);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=ap72'), ['obs1', 'obs3'], 'no unit given: 70 kg is within 10%');
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=ap75|http://unitsofmeasure.org|/min'), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=70|http://unitsofmeasure.org|kg'), ['obs3', 'obs4'], '70000 g = 70 kg');
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=70||kg'), ['obs3', 'obs4']);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=70||gram'), [], 'unit text gram matches obs4 unit only at 70000');
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=70000||gram'), ['obs4']);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=lt71||kg'), ['obs3', 'obs4']);
      assert.deepEqual(await ids(engine, 'Observation', 'value-quantity=le72|http://other|/min'), []);
    });

    it('reference: Type/id, id, :Type, :identifier, :missing, absolute URL', async () => {
      assert.deepEqual(await ids(engine, 'Observation', 'subject=Patient/p1'), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject=p1'), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject:Patient=p1'), ['obs1', 'obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject:Group=p1'), []);
      assert.deepEqual(await ids(engine, 'Observation', 'subject:Group=g1'), ['obs5']);
      assert.deepEqual(await ids(engine, 'Observation', 'patient=p2,Patient/p3'), ['obs3', 'obs4']);
      assert.deepEqual(await ids(engine, 'Observation', `subject:identifier=${BSN}|999`), ['obs6']);
      assert.deepEqual(await ids(engine, 'Patient', 'organization:missing=true'), ['p3']);
      assert.deepEqual(await ids(engine, 'Observation', 'subject=http://elsewhere.example/fhir/Patient/p1'), []);
      const baseUrl = 'https://schakel.example/fhir/t1';
      assert.deepEqual(await ids(engine, 'Observation', `subject=${baseUrl}/Patient/p1`, { baseUrl }), ['obs1', 'obs2'], 'own base = local');
      assert.deepEqual(await ids(engine, 'Observation', 'subject=http://elsewhere.example/fhir/Patient/p1', { baseUrl }), []);
    });

    it('uri with :below and :above; _profile', async () => {
      assert.deepEqual(await ids(engine, 'ValueSet', 'url=http://example.org/fhir/ValueSet/a'), ['vs1']);
      assert.deepEqual(await ids(engine, 'ValueSet', 'url=http://example.org/fhir'), []);
      assert.deepEqual(await ids(engine, 'ValueSet', 'url:below=http://example.org/fhir'), ['vs1']);
      assert.deepEqual(await ids(engine, 'ValueSet', 'url:below=http://example.org'), ['vs1', 'vs2']);
      assert.deepEqual(await ids(engine, 'ValueSet', 'url:above=http://example.org/fhir/ValueSet/a/extra'), ['vs1']);
      assert.deepEqual(await ids(engine, 'Patient', '_profile=http://nictiz.nl/fhir/StructureDefinition/nl-core-Patient'), ['p1']);
    });

    it('composite: code-value-quantity and component order', async () => {
      assert.deepEqual(await ids(engine, 'Observation', 'code-value-quantity=http://loinc.org|8867-4$gt75'), ['obs2']);
      assert.deepEqual(await ids(engine, 'Observation', 'code-value-quantity=8867-4$72'), ['obs1']);
      assert.deepEqual(await ids(engine, 'Observation', 'code-value-quantity=29463-7$72'), []);
    });

    it('every criterion gives the same result as driving id set and as per-row probe', async () => {
      // Adding `_id=<all ids>` (the most selective kind) turns the other criterion into an EXISTS probe.
      const queries: [string, string][] = [
        ['Patient', 'name=jans'], ['Patient', 'name:exact=Jánsen'], ['Patient', 'family:contains=vries'],
        ['Patient', 'identifier=http://fhir.nl/fhir/NamingSystem/bsn|111'], ['Patient', 'gender:not=male'], ['Patient', 'gender:missing=true'],
        ['Patient', 'birthdate=lt1970-05-06'], ['Observation', 'date=ge2024-01-15'], ['Observation', 'value-quantity=70||kg'],
        ['Observation', 'subject=p1'], ['Observation', 'code:text=heart'], ['ValueSet', 'url:below=http://example.org/fhir'],
        ['Observation', 'code-value-quantity=8867-4$72'], ['Observation', 'subject:Patient.organization.name=huisarts'],
        ['Patient', '_has:Observation:patient:code=29463-7'], ['RiskAssessment', 'probability=0.3'],
      ];
      for (const [type, q] of queries) {
        const all = (await ids(engine, type, '_count=1000')).join(',');
        assert.deepEqual(await ids(engine, type, `${q}&_id=${all}`), await ids(engine, type, q), `${type}?${q}`);
      }
    });

    it('_id and OR lists with escaped commas', async () => {
      assert.deepEqual(await ids(engine, 'Patient', '_id=p1,p3'), ['p1', 'p3']);
      assert.deepEqual(await ids(engine, 'Organization', 'name=Huisarts\\, Utrecht'), []);
      assert.deepEqual(await ids(engine, 'Organization', 'name=huisarts utrecht,umc'), ['o2', 'o3']);
    });
  });
}
