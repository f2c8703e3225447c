/** Precedence rules of the closed question (decide.ts), the catalogue, and Consent checking — no database. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatalogueIndex, DEFAULT_CATALOGUE, nlGfCategoryOfResource, type ConsentCatalogue } from '../../../src/gf/consent/catalogue.ts';
import { decide, openQuestion, type ClosedQuestion } from '../../../src/gf/consent/decide.ts';
import { compileConsent, type ConsentRule } from '../../../src/gf/consent/model.ts';
import { FhirError } from '../../../src/fhir/outcome.ts';
import { consent, testBsn } from './helpers.ts';

const cat = new CatalogueIndex(DEFAULT_CATALOGUE);
const BSN = testBsn(0);
const GP = { ura: '00000001', category: 'RPZAC001' };
const HOSPITAL = { ura: '00000002', category: 'RPZAC104' };
const PHARMACY = { ura: '00000003', category: 'RPZAC005' };
const AT = Date.parse('2025-06-15T12:00:00Z');

let n = 0;
function rules(...cs: Parameters<typeof consent>[0][]): ConsentRule[] {
  return cs.flatMap((c) => compileConsent({ ...consent(c), id: c.id ?? `c${++n}` }, cat, 1).rules);
}
const q = (o: Partial<ClosedQuestion> = {}): ClosedQuestion => ({ holder: GP, consulter: HOSPITAL, dataCategory: 'GGC002', purpose: 'TREAT', at: AT, ...o });

describe('decide: precedence', () => {
  it('no choice recorded → NotApplicable', () => {
    const d = decide([], q(), cat);
    assert.equal(d.decision, 'NotApplicable');
    assert.equal(d.basis.code, 'none');
  });

  it('a generic consent (holder category → consulter category) permits and names the consent', () => {
    const d = decide(rules({ id: 'p1', bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }), q(), cat);
    assert.equal(d.decision, 'Permit');
    assert.equal(d.basis.code, 'explicit-consent');
    assert.deepEqual(d.consentIds, ['p1']);
  });

  it('the consent does not reach another consulter category', () => {
    const d = decide(rules({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }), q({ consulter: PHARMACY }), cat);
    assert.equal(d.decision, 'NotApplicable');
  });

  it('objection beats consent, even a specific one', () => {
    const r = rules(
      { id: 'permit-specific', bsn: BSN, type: 'permit', holder: { ura: GP.ura }, consulter: { ura: HOSPITAL.ura } },
      { id: 'objection', bsn: BSN, type: 'deny' },
    );
    const d = decide(r, q(), cat);
    assert.equal(d.decision, 'Deny');
    assert.equal(d.basis.code, 'objection');
    assert.deepEqual(d.consentIds, ['objection']);
  });

  it('specific (named URA) beats generic (category): a specific permit wins over a category deny', () => {
    const r = rules(
      { id: 'deny-hospitals', bsn: BSN, type: 'deny', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } },
      { id: 'permit-this-hospital', bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { ura: HOSPITAL.ura } },
    );
    assert.equal(decide(r, q(), cat).decision, 'Permit');
    assert.deepEqual(decide(r, q(), cat).consentIds, ['permit-this-hospital']);
    assert.equal(decide(r, q({ consulter: { ura: '00000099', category: 'RPZAC104' } }), cat).decision, 'Deny');
  });

  it('specific beats generic the other way too: a specific deny wins over a category permit', () => {
    const r = rules(
      { bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } },
      { id: 'deny-this-hospital', bsn: BSN, type: 'deny', holder: { category: 'RPZAC001' }, consulter: { ura: HOSPITAL.ura } },
    );
    const d = decide(r, q(), cat);
    assert.equal(d.decision, 'Deny');
    assert.equal(d.basis.code, 'explicit-deny');
    assert.deepEqual(d.consentIds, ['deny-this-hospital']);
  });

  it('within equal specificity deny wins', () => {
    const r = rules(
      { id: 'a', bsn: BSN, type: 'permit', holder: { ura: GP.ura }, consulter: { category: 'RPZAC104' } },
      { id: 'b', bsn: BSN, type: 'deny', holder: { category: 'RPZAC001' }, consulter: { ura: HOSPITAL.ura } },
    );
    const d = decide(r, q(), cat);
    assert.equal(d.decision, 'Deny');
    assert.deepEqual(d.consentIds, ['b']);
  });

  it('hierarchy: consent for GGC002 (Behandelgegevens) covers GGC012 (Uitslagen) and GGC013; GGC013 does not cover GGC002', () => {
    const high = rules({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' }, categories: ['GGC002'] });
    assert.equal(decide(high, q({ dataCategory: 'GGC012' }), cat).decision, 'Permit');
    assert.equal(decide(high, q({ dataCategory: 'GGC013' }), cat).decision, 'Permit');
    const low = rules({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' }, categories: ['GGC013'] });
    assert.equal(decide(low, q({ dataCategory: 'GGC013' }), cat).decision, 'Permit');
    assert.equal(decide(low, q({ dataCategory: 'GGC002' }), cat).decision, 'NotApplicable');
    assert.equal(decide(low, q({ dataCategory: 'GGC012' }), cat).decision, 'NotApplicable');
  });

  it('period: outside provision.period the consent is ignored; a date-only end runs to the end of that day', () => {
    const r = rules({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' }, period: { start: '2025-01-01', end: '2025-06-30' } });
    assert.equal(decide(r, q({ at: Date.parse('2024-12-31T23:59:59Z') }), cat).decision, 'NotApplicable');
    assert.equal(decide(r, q({ at: Date.parse('2025-01-01T00:00:00Z') }), cat).decision, 'Permit');
    assert.equal(decide(r, q({ at: Date.parse('2025-06-30T23:59:59Z') }), cat).decision, 'Permit');
    assert.equal(decide(r, q({ at: Date.parse('2025-07-01T00:00:00Z') }), cat).decision, 'NotApplicable');
  });

  it('an expired objection no longer blocks a consent', () => {
    const r = rules(
      { bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } },
      { bsn: BSN, type: 'deny', period: { end: '2025-03-01' } },
    );
    assert.equal(decide(r, q({ at: Date.parse('2025-02-01T00:00:00Z') }), cat).decision, 'Deny');
    assert.equal(decide(r, q(), cat).decision, 'Permit');
  });

  it('a revoked (inactive) consent is not in force', () => {
    const c = compileConsent({ ...consent({ bsn: BSN, type: 'permit', status: 'inactive' }), id: 'x' }, cat, 2);
    assert.equal(c.active, false);
  });

  it('legal basis: emergency treatment without a recorded choice is permitted, and the basis is on record', () => {
    const d = decide([], q({ purpose: 'ETREAT', dataCategory: 'GGC013' }), cat);
    assert.equal(d.decision, 'Permit');
    assert.equal(d.basis.code, 'emergency');
    assert.match(d.basis.source ?? '', /WGBO/);
    assert.match(d.reason, /legal basis 'emergency'/);
    // not for ordinary treatment
    assert.equal(decide([], q({ purpose: 'TREAT' }), cat).decision, 'NotApplicable');
  });

  it('legal basis: an objection still wins unless the basis is configured to override it', () => {
    const r = rules({ id: 'obj', bsn: BSN, type: 'deny' });
    assert.equal(decide(r, q({ purpose: 'ETREAT' }), cat).decision, 'Deny');
    const strict: ConsentCatalogue = { ...DEFAULT_CATALOGUE, legalBases: DEFAULT_CATALOGUE.legalBases.map((b) => ({ ...b, overridesObjection: true })) };
    const d = decide(r, q({ purpose: 'ETREAT' }), new CatalogueIndex(strict));
    assert.equal(d.decision, 'Permit');
    assert.equal(d.basis.code, 'emergency');
    assert.deepEqual(d.consentIds, ['obj'], 'the overridden objection is on record');
  });

  it('legal basis limited to consulter categories applies only to them', () => {
    const c: ConsentCatalogue = { ...DEFAULT_CATALOGUE, legalBases: [{ ...DEFAULT_CATALOGUE.legalBases[0], consulterCategories: ['RPZAC104'] }] };
    const ci = new CatalogueIndex(c);
    assert.equal(decide([], q({ purpose: 'ETREAT' }), ci).decision, 'Permit');
    assert.equal(decide([], q({ purpose: 'ETREAT', consulter: PHARMACY }), ci).decision, 'NotApplicable');
  });

  it('purpose: a permit without purpose covers treatment (and emergency treatment) only; a deny without purpose covers all', () => {
    const p = rules({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } });
    assert.equal(decide(p, q({ purpose: 'TREAT' }), cat).decision, 'Permit');
    assert.equal(decide(p, q({ purpose: 'ETREAT' }), cat).basis.code, 'explicit-consent');
    assert.equal(decide(p, q({ purpose: 'HRESCH' }), cat).decision, 'NotApplicable');
    const research = rules({ bsn: BSN, type: 'permit', purposes: ['HRESCH'], holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } });
    assert.equal(decide(research, q({ purpose: 'HRESCH' }), cat).decision, 'Permit');
    const d = rules({ bsn: BSN, type: 'deny', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } });
    assert.equal(decide([...research, ...d], q({ purpose: 'HRESCH' }), cat).decision, 'Deny', 'a deny without purpose covers research');
    const lessSpecific = rules({ bsn: BSN, type: 'deny', holder: { category: 'RPZAC001' } });
    assert.equal(decide([...research, ...lessSpecific], q({ purpose: 'HRESCH' }), cat).decision, 'Permit', 'a less specific deny loses');
  });
});

describe('openQuestion', () => {
  const r = rules(
    { id: 'gp-to-hosp', bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } },
    { id: 'not-this-gp', bsn: BSN, type: 'deny', holder: { ura: '00000077' }, consulter: { category: 'RPZAC104' } },
    { id: 'pharmacy-x', bsn: BSN, type: 'permit', holder: { ura: PHARMACY.ura }, consulter: { ura: HOSPITAL.ura }, categories: ['GGC013'] },
  );
  it('summarises permitted categories and named holders', () => {
    const a = openQuestion(r, { consulter: HOSPITAL, dataCategory: 'GGC013', purpose: 'TREAT', at: AT }, cat);
    assert.deepEqual(a.permitted.map((p) => p.ura ?? p.category).sort(), ['00000003', 'RPZAC001']);
    assert.deepEqual(a.denied.map((p) => p.ura), ['00000077']);
  });
  it('answers candidates exactly (localisation results with their categories)', () => {
    const a = openQuestion(r, { consulter: HOSPITAL, dataCategory: 'GGC002', purpose: 'TREAT', at: AT, holders: [GP, { ura: '00000077', category: 'RPZAC001' }, PHARMACY] }, cat);
    assert.deepEqual(a.permitted.map((p) => p.ura), [GP.ura]);
    assert.deepEqual(a.denied.map((p) => p.ura), ['00000077', PHARMACY.ura]);
  });
});

describe('catalogue', () => {
  it('maps organisation types to consulter categories', () => {
    assert.equal(cat.categoryOfOrganizationType('Z3'), 'RPZAC001');
    assert.equal(cat.categoryOfOrganizationType('N6'), 'RPZAC001');
    assert.equal(cat.categoryOfOrganizationType('G5'), 'RPZAC003');
    assert.equal(cat.categoryOfOrganizationType('J8'), 'RPZAC005');
    assert.equal(cat.categoryOfOrganizationType('V4'), 'RPZAC104');
    assert.equal(cat.categoryOfOrganizationType('V6'), 'RPZAC104');
    assert.equal(cat.categoryOfOrganizationType('NOPE'), undefined);
  });
  it('maps nl-gf data categories and resource types to GGC codes', () => {
    assert.equal(cat.dataCategoryOfNlGf('ObservationLaboratory'), 'GGC012');
    assert.equal(cat.dataCategoryOfNlGf('MedicationRequest'), 'GGC013');
    assert.equal(cat.dataCategoryOfNlGf('Condition'), 'GGC002');
    assert.equal(nlGfCategoryOfResource('Observation', 'laboratory'), 'ObservationLaboratory');
    assert.equal(nlGfCategoryOfResource('MedicationDispense'), 'MedicationUse');
    assert.ok(cat.nlGfCoveredBy('GGC002').includes('ObservationLaboratory'));
    assert.ok(!cat.nlGfCoveredBy('GGC013').includes('Condition'));
  });
  it('refuses an inconsistent catalogue', () => {
    assert.throws(() => new CatalogueIndex({ ...DEFAULT_CATALOGUE, legalBases: [{ ...DEFAULT_CATALOGUE.legalBases[0], dataCategories: ['GGC999'] }] }), /unknown data category/);
  });
});

describe('Consent checking', () => {
  const bad = (c: object, expression: string) => {
    assert.throws(
      () => compileConsent(c as never, cat),
      (e: unknown) => e instanceof FhirError && e.status === 400 && (e.issues[0].expression ?? []).includes(expression),
      expression,
    );
  };
  const ok = consent({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC001' } });
  it('names the offending element', () => {
    bad({ ...ok, patient: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '123456789' } } }, 'Consent.patient.identifier.value');
    bad({ ...ok, scope: undefined }, 'Consent.scope');
    bad({ ...ok, category: [] }, 'Consent.category');
    bad({ ...ok, provision: { ...ok.provision, type: 'maybe' } }, 'Consent.provision.type');
    bad({ ...ok, provision: { ...ok.provision, code: [{ coding: [{ system: 'x', code: 'y' }] }] } }, 'Consent.provision.code[0]');
    bad({ ...ok, provision: { ...ok.provision, purpose: [{ system: 'x', code: 'y' }] } }, 'Consent.provision.purpose[0]');
    bad({ ...ok, provision: { ...ok.provision, period: { start: '2025-02-01', end: '2025-01-01' } } }, 'Consent.provision.period');
    bad({ ...ok, provision: { ...ok.provision, actor: [{ role: { coding: [{ system: 'x', code: 'y' }] }, reference: {} }] } }, 'Consent.provision.actor[0].role');
    bad(consent({ bsn: BSN, type: 'permit', holder: { category: 'RPZAC999' } }), 'Consent.provision.actor[0].reference.identifier.value');
    bad(consent({ bsn: BSN, type: 'permit', consulter: { ura: '123' } }), 'Consent.provision.actor[0].reference.identifier.value');
    bad({ ...ok, provision: { ...ok.provision, provision: [{ type: 'deny' }] } }, 'Consent.provision.provision');
  });
  it('accepts nl-gf data-category codes for provision.code', () => {
    const c = compileConsent({ ...ok, provision: { ...ok.provision, code: [{ coding: [{ system: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs', code: 'ObservationLaboratory' }] }] } }, cat);
    assert.deepEqual(c.rules[0].categories, ['GGC012']);
  });
});
