import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { sharedPath } from '../../src/paths.ts';
import { generateSnapshot, getSnapshot, listKnownProfiles } from '../../src/fhir/validation/index.ts';
import { coreDefinitions, coreProfileDefinitions } from '../../src/fhir/validation/core-definitions.ts';
import { CACHE_DIR } from '../../src/fhir/validation/profiles.ts';

function loadDir(...dir: string[]): Map<string, StructureDefinition> {
  const d = sharedPath(...dir);
  const out = new Map<string, StructureDefinition>();
  for (const f of readdirSync(d)) {
    if (!f.startsWith('StructureDefinition-')) continue;
    const sd = JSON.parse(readFileSync(join(d, f), 'utf8')) as StructureDefinition;
    out.set(sd.url, sd);
  }
  return out;
}

/** Regenerates the published snapshots from their differentials and compares element ids and cardinality. */
function compareWithPublished(sds: Map<string, StructureDefinition>): { compared: number; diffs: string[] } {
  const resolve = (url: string): StructureDefinition | undefined => coreDefinitions().byUrl.get(url) ?? coreProfileDefinitions().get(url) ?? sds.get(url);
  const diffs: string[] = [];
  let compared = 0;
  for (const sd of sds.values()) {
    if (sd.derivation !== 'constraint' || !sd.differential || !resolve(sd.baseDefinition!)) continue;
    compared++;
    const { elements, problems } = generateSnapshot(sd, resolve);
    diffs.push(...problems.map((p) => `${sd.url}: ${p}`));
    const got = new Map(elements.map((e) => [e.id, e]));
    const want = sd.snapshot!.element;
    for (const w of want) {
      const g = got.get(w.id);
      if (!g) diffs.push(`${sd.url}: missing ${w.id}`);
      else if (g.min !== w.min || g.max !== w.max) diffs.push(`${sd.url}: ${w.id} ${g.min}..${g.max}, published ${w.min}..${w.max}`);
    }
    if (elements.length !== want.length) diffs.push(`${sd.url}: ${elements.length} elements, published ${want.length}`);
  }
  return { compared, diffs };
}

describe('snapshot generation matches published snapshots', () => {
  it('IPS 2.0.0 profiles (base: R4 core)', () => {
    const { compared, diffs } = compareWithPublished(loadDir('fhir', 'ips', 'package'));
    assert.ok(compared >= 25, `compared ${compared}`);
    assert.deepEqual(diffs, []);
  });
  it('hl7nl ig-build extensions and patterns (base: R4 core and core extensions)', () => {
    const { compared, diffs } = compareWithPublished(loadDir('fhir', 'hl7nl-zib2020-ig-build', 'package'));
    assert.ok(compared >= 35, `compared ${compared}`);
    assert.deepEqual(diffs, []);
  });
});

describe('snapshot generation, targeted', () => {
  const core = (url: string): StructureDefinition | undefined => coreDefinitions().byUrl.get(url) ?? coreProfileDefinitions().get(url);
  const profile = (diff: ElementDefinition[]): ElementDefinition[] =>
    generateSnapshot(
      {
        resourceType: 'StructureDefinition',
        url: 'http://example.org/sd',
        name: 'T',
        status: 'draft',
        kind: 'resource',
        abstract: false,
        type: 'Observation',
        derivation: 'constraint',
        baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
        differential: { element: diff },
      },
      core,
    ).elements;

  it('renames a choice (valueQuantity → value[x] narrowed) and dives into the datatype', () => {
    const els = profile([
      { id: 'Observation.valueQuantity', path: 'Observation.valueQuantity', min: 1 },
      { id: 'Observation.valueQuantity.system', path: 'Observation.valueQuantity.system', fixedUri: 'http://unitsofmeasure.org' },
    ]);
    const v = els.find((e) => e.id === 'Observation.value[x]')!;
    assert.equal(v.min, 1);
    assert.deepEqual(v.type?.map((t) => t.code), ['Quantity']);
    const sys = els.find((e) => e.id === 'Observation.value[x].system')!;
    assert.equal(sys.fixedUri, 'http://unitsofmeasure.org');
    assert.equal(sys.path, 'Observation.value[x].system');
  });
  it('creates slices after earlier ones, inherits base constraints, narrows cardinality, adds constraints', () => {
    const els = profile([
      { id: 'Observation.identifier', path: 'Observation.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
      { id: 'Observation.identifier.value', path: 'Observation.identifier.value', min: 1 },
      { id: 'Observation.identifier:a', path: 'Observation.identifier', sliceName: 'a', max: '1' },
      { id: 'Observation.identifier:a.system', path: 'Observation.identifier.system', fixedUri: 'urn:a' },
      { id: 'Observation.identifier:b', path: 'Observation.identifier', sliceName: 'b', constraint: [{ key: 't-1', severity: 'error', human: 'h', expression: 'true' }] },
    ]);
    const ids = els.map((e) => e.id!);
    const a = ids.indexOf('Observation.identifier:a');
    const b = ids.indexOf('Observation.identifier:b');
    assert.ok(a > ids.indexOf('Observation.identifier.value') && b > ids.indexOf('Observation.identifier:a.system'), 'slice order');
    assert.equal(els[a].max, '1');
    assert.equal(els[a].sliceName, 'a');
    assert.equal(els.find((e) => e.id === 'Observation.identifier:a.value')!.min, 1, 'slice inherits the base child constraint');
    assert.ok(els[b].constraint!.some((c) => c.key === 't-1'));
    assert.equal(els.find((e) => e.id === 'Observation.identifier:b.system')?.fixedUri, undefined);
  });
  it('slices an extension by url without a declared slicing, and unfolds its definition', () => {
    const els = profile([
      {
        id: 'Observation.extension:bp',
        path: 'Observation.extension',
        sliceName: 'bp',
        max: '1',
        type: [{ code: 'Extension', profile: ['http://hl7.org/fhir/StructureDefinition/observation-bodyPosition'] }],
      },
      { id: 'Observation.extension:bp.value[x]', path: 'Observation.extension.value[x]', short: 'posture' },
    ]);
    const ext = els.find((e) => e.id === 'Observation.extension')!;
    assert.deepEqual(ext.slicing?.discriminator, [{ type: 'value', path: 'url' }]);
    assert.equal(els.find((e) => e.id === 'Observation.extension:bp.url')?.fixedUri, 'http://hl7.org/fhir/StructureDefinition/observation-bodyPosition');
    assert.equal(els.find((e) => e.id === 'Observation.extension:bp.value[x]')?.short, 'posture');
  });
});

describe('MP9 and nl-core snapshots from XML differentials', () => {
  it('mp-MedicationAgreement (MedicationRequest) has the expected elements', () => {
    const sd = getSnapshot('http://nictiz.nl/fhir/StructureDefinition/mp-MedicationAgreement');
    assert.ok(sd?.snapshot);
    const byId = new Map(sd.snapshot.element.map((e) => [e.id, e]));
    const el = (id: string): ElementDefinition => {
      const e = byId.get(id);
      assert.ok(e, `missing ${id}`);
      return e;
    };
    assert.equal(sd.type, 'MedicationRequest');
    assert.equal(el('MedicationRequest').path, 'MedicationRequest');
    // every R4 MedicationRequest element is there
    for (const core of coreDefinitions().byType.get('MedicationRequest')!.snapshot!.element) assert.ok(byId.has(core.id), core.id);
    assert.equal(el('MedicationRequest.category').min, 1);
    assert.deepEqual(el('MedicationRequest.category:medicationAgreementCode').patternCodeableConcept?.coding?.[0], {
      system: 'http://snomed.info/sct',
      code: '33633005',
    });
    assert.equal(el('MedicationRequest.extension:periodOfUse').max, '1');
    assert.deepEqual(el('MedicationRequest.extension:periodOfUse').type?.[0].profile, ['http://nictiz.nl/fhir/StructureDefinition/ext-TimeInterval.Period']);
    assert.equal(el('MedicationRequest.extension:periodOfUse.url').fixedUri, 'http://nictiz.nl/fhir/StructureDefinition/ext-TimeInterval.Period');
    el('MedicationRequest.extension:periodOfUse.value[x].extension:condition');
    assert.deepEqual(el('MedicationRequest.dosageInstruction').type?.[0].profile, ['http://nictiz.nl/fhir/StructureDefinition/mp-InstructionsForUse.DosageInstructions']);
    el('MedicationRequest.medication[x]:medicationReference');
    el('MedicationRequest.basedOn.extension:relationAdministrationAgreement');
    el('MedicationRequest.modifierExtension:stopType');
    assert.equal(el('MedicationRequest.reasonCode').max, '1');
    // paths never carry slice names; ids are unique
    for (const e of sd.snapshot.element) assert.ok(!e.path.includes(':'), e.path);
    assert.equal(byId.size, sd.snapshot.element.length);
  });
  it('every known profile gets a snapshot, and generated ones are cached on disk', () => {
    const urls = listKnownProfiles();
    assert.ok(urls.length > 400, `${urls.length} profiles`);
    const missing = urls.filter((u) => !getSnapshot(u)?.snapshot?.element.length);
    assert.deepEqual(missing, []);
    assert.ok(existsSync(CACHE_DIR) && readdirSync(CACHE_DIR).some((f) => f.endsWith('.json')));
  });
  it('latest nl-core snapshots keep the element ids of the older published build for unchanged profiles', () => {
    const published = loadDir('fhir', 'hl7nl-zib2020-ig-build', 'package');
    const same = [...published.values()]
      .filter((sd) => sd.url.includes('/nl-core-'))
      .filter((sd) => {
        const gen = new Set(getSnapshot(sd.url)!.snapshot!.element.map((e) => e.id));
        return sd.snapshot!.element.every((e) => gen.has(e.id)) && gen.size === sd.snapshot!.element.length;
      });
    // The others differ because the profiles changed between releases (0.9 → 0.12), not because of the generator.
    assert.ok(same.length >= 70, `${same.length} identical`);
  });
});
