/**
 * The fast-path evaluator must index exactly what HL7's fhirpath.js finds, on real Dutch resources
 * (MP9 MedMij fixtures and the zib2020 package examples, read in place from ../shared).
 * Known, intended differences: fhirpath.js returns nothing for `as` applied to a repeating element
 * (`Observation.component.value as Quantity`) and for `as(DateTime)` (not a FHIR type name); R4 servers
 * (HAPI included) index those values, and so do we. `resolve()` filters are skipped: fhirpath.js has no
 * resolver here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Resource } from 'fhir/r4';
import { parseFhirXml } from '../../src/fhir/format/xml.ts';
import { sharedPath } from '../../src/paths.ts';
import { extractIndexRows, extractParam, extractParamWithFhirpath, periodOfUse } from '../../src/search/extract.ts';
import { searchParamsFor } from '../../src/search/registry.ts';
import { tenant1 } from './fixtures.ts';

const MP9 = sharedPath('fhir/nictiz-testscripts/r4/MP9-3-0-0-beta/MedMij/Test/_reference-medmij/fixtures');
const ZIB = sharedPath('fhir/nictiz-zib2020-package-0.11.0-beta.1/package');
const CONFORMANCE = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'ConceptMap', 'SearchParameter', 'ImplementationGuide', 'NamingSystem', 'CapabilityStatement', 'OperationDefinition']);

/** Parameters where fhirpath.js (by design of its `as`) finds nothing and the fast path finds values. */
const FHIRPATH_EMPTY_OK = new Set(['combo-value-quantity', 'component-value-quantity', 'combo-value-concept', 'component-value-concept', 'code-value-date', 'ingredient-code']);

function load(): Resource[] {
  const out: Resource[] = [...structuredClone(tenant1)];
  if (existsSync(MP9)) {
    for (const f of readdirSync(MP9).filter((x) => x.endsWith('.xml'))) {
      out.push(parseFhirXml(readFileSync(`${MP9}/${f}`, 'utf8').replace(/\$\{DATE, T, [DMY], ?[+-]?\d+\}/g, '2026-06-15')));
    }
  }
  if (existsSync(ZIB)) {
    for (const f of readdirSync(ZIB).filter((x) => x.endsWith('.json') && x !== 'package.json' && !x.startsWith('.'))) {
      const r = JSON.parse(readFileSync(`${ZIB}/${f}`, 'utf8')) as Resource;
      if (r.resourceType && !CONFORMANCE.has(r.resourceType)) out.push(r);
    }
  }
  return out;
}

describe('index extraction', () => {
  const resources = load();

  it('fast path agrees with fhirpath.js on every parameter of every resource', () => {
    let compared = 0;
    const problems: string[] = [];
    for (const r of resources) {
      for (const p of searchParamsFor(r.resourceType)) {
        if (!p.expression || p.special !== 'none' || p.expression.includes('resolve()')) continue;
        const fast = JSON.stringify(extractParam(r, p.code));
        const ref = extractParamWithFhirpath(r, p.code);
        compared++;
        if (fast === JSON.stringify(ref)) continue;
        const refEmpty = Object.values(ref).every((rows) => rows.length === 0);
        if (refEmpty && FHIRPATH_EMPTY_OK.has(p.code)) continue;
        problems.push(`${r.resourceType}/${r.id} ${p.code}`);
      }
    }
    assert.ok(compared > 5000, `compared ${compared}`);
    assert.deepEqual(problems.slice(0, 20), []);
  });

  it('never throws, and indexes every resource with at least _lastUpdated-independent rows', () => {
    for (const r of resources) {
      const rows = extractIndexRows(r);
      const n = Object.values(rows).reduce((a, b) => a + b.length, 0);
      assert.ok(n > 0 || r.resourceType === 'Binary', `${r.resourceType}/${r.id} has no index rows`);
    }
  });

  it('resolve() filters keep only references of the named type', () => {
    const obs = { resourceType: 'Observation', id: 'x', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/g' } } as Resource;
    assert.deepEqual(extractParam(obs, 'patient').idx_reference, []);
    assert.equal(extractParam(obs, 'subject').idx_reference.length, 1);
    const abs = { ...obs, subject: { reference: 'https://other.example/fhir/Patient/p/_history/3' } } as Resource;
    const rows = extractParam(abs, 'patient').idx_reference;
    assert.deepEqual(rows.map((x) => [x.target_type, x.target_id, x.url]), [['Patient', null, 'https://other.example/fhir/Patient/p']]);
  });

  it('MP9 period-of-use: start + duration, end − duration, open ends', () => {
    const ext = (period: object) => ({
      resourceType: 'MedicationRequest',
      id: 'm',
      extension: [{ url: 'http://nictiz.nl/fhir/StructureDefinition/ext-TimeInterval.Period', valuePeriod: period }],
    }) as unknown as Resource;
    const dur = (value: number, code: string) => ({ extension: [{ url: 'http://nictiz.nl/fhir/StructureDefinition/ext-TimeInterval.Duration', valueDuration: { value, code, system: 'http://unitsofmeasure.org' } }] });
    assert.deepEqual(periodOfUse(ext({ start: '2024-01-01', ...dur(2, 'wk') })), [{ low: '2024-01-01T00:00:00.000Z', high: '2024-01-14T23:59:59.999Z' }]);
    assert.deepEqual(periodOfUse(ext({ end: '2024-01-14', ...dur(14, 'd') })), [{ low: '2024-01-01T00:00:00.000Z', high: '2024-01-14T23:59:59.999Z' }]);
    assert.deepEqual(periodOfUse(ext({ start: '2024-01-01' })), [{ low: '2024-01-01T00:00:00.000Z', high: '9999-12-31T23:59:59.999Z' }]);
    assert.deepEqual(periodOfUse(ext({ start: '2024-01-01', end: '2024-03-01', ...dur(1, 'wk') })), [{ low: '2024-01-01T00:00:00.000Z', high: '2024-03-01T23:59:59.999Z' }], 'explicit end wins');
  });
});
