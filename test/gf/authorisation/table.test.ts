/** The authorisation table, a test per rule: what each role may and may not see, per purpose. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTHORISATION_TABLE, allowedCategories, authorise } from '../../../src/gf/authorisation/table.ts';
import { DATA_CATEGORIES } from '../../../src/gf/localisation/categories.ts';

const ALL = DATA_CATEGORIES.map((c) => c.code);
const allows = (role: string, purpose: Parameters<typeof authorise>[1], cat: string) => authorise(role, purpose, cat).allowed;

describe('authorisation table', () => {
  it('every rule names known categories', () => {
    for (const r of AUTHORISATION_TABLE) if (r.categories !== '*') for (const c of r.categories) assert.ok(ALL.includes(c), `${r.id}: ${c}`);
  });
  it('physician-treatment: a GP and a cardiologist see all clinical data, not the audit trail', () => {
    assert.ok(allows('01.015', 'treatment', 'ObservationLaboratory'));
    assert.ok(allows('01.010', 'emergency', 'Condition'));
    assert.ok(!allows('01.015', 'treatment', 'Logging'));
    assert.ok(!allows('01.015', 'secondary-use', 'Condition'));
  });
  it('pharmacist-medication: medication safety data only', () => {
    assert.ok(allows('17.075', 'treatment', 'MedicationUse'));
    assert.ok(allows('17.060', 'treatment', 'ObservationLaboratory'));
    assert.ok(!allows('17.075', 'treatment', 'Encounter'));
    assert.ok(!allows('17.075', 'treatment', 'ObservationSurvey'));
  });
  it('nurse-care: nursing data, not the lab', () => {
    assert.ok(allows('30.000', 'treatment', 'ObservationVitalSigns'));
    assert.ok(!allows('30.000', 'treatment', 'ObservationLaboratory'));
    assert.ok(!allows('30.000', 'treatment', 'Genomics'));
  });
  it('nurse-emergency: the professional summary in acute care', () => {
    assert.ok(allows('30.000', 'emergency', 'ObservationLaboratory'));
    assert.ok(!allows('30.000', 'emergency', 'ObservationSurvey'));
  });
  it('midwife-care: summary plus pregnancy care', () => {
    assert.ok(allows('03.000', 'treatment', 'ObservationExam'));
    assert.ok(!allows('03.000', 'treatment', 'Imaging'));
  });
  it('dentist-safety: allergies and medication, not the lab', () => {
    assert.ok(allows('02.000', 'treatment', 'AllergyIntolerance'));
    assert.ok(!allows('02.000', 'treatment', 'ObservationLaboratory'));
    assert.ok(!allows('02.000', 'emergency', 'AllergyIntolerance'));
  });
  it('patient-own-data: the patient sees everything, including who looked', () => {
    assert.ok(allows('patient', 'patient-access', 'Logging'));
    assert.ok(allows('patient', 'patient-access', 'Condition'));
    assert.ok(!allows('patient', 'treatment', 'Condition'));
  });
  it('denies by default: unknown role, missing role or purpose', () => {
    assert.equal(authorise('99.999', 'treatment', 'Condition').allowed, false);
    assert.match(authorise(undefined, 'treatment', 'Condition').reason, /no professional role/);
    assert.match(authorise('01.015', undefined, 'Condition').reason, /no purpose/);
    assert.equal(allowedCategories('17.075', 'treatment', ALL).size, 8);
  });
});
