/**
 * The Patient-compartment filter (every search on behalf of another organisation or a patient runs inside it)
 * must look up the patient's references by target, not walk every reference of the type in the tenant.
 * SQLite's plan is checked; PostgreSQL plans by statistics and is covered by the compartment tests' results.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inCompartment } from '../../src/search/compartment.ts';
import { openNode, type ProviderNode } from '../../src/node/provider-node.ts';
import { freshEngine, type EngineTarget } from '../helpers/engines.ts';

describe('compartment filter query plan (sqlite)', () => {
  let target: EngineTarget;
  let node: ProviderNode;
  before(async () => {
    target = await freshEngine('sqlite');
    node = await openNode(target.opts);
    await node.tenants.ensure({ tenant: 't' });
    const scope = { tenant: 't', base: 'http://x/fhir/t', strict: false };
    for (let i = 0; i < 20; i++) {
      await node.dispatch(scope, { method: 'PUT', path: `Patient/p${i}`, query: [], headers: {}, body: { resourceType: 'Patient', id: `p${i}` } });
      await node.dispatch(scope, { method: 'PUT', path: `Condition/c${i}`, query: [], headers: {}, body: { resourceType: 'Condition', id: `c${i}`, subject: { reference: `Patient/p${i}` } } });
    }
  });
  after(async () => {
    await node?.close();
    await target?.cleanup();
  });

  it('finds a patient’s references through the target index', async () => {
    const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT r.id FROM resources AS r WHERE r.tenant = ${'t'} AND r.type = ${'Condition'} AND ${inCompartment('t', 'r', 'Condition', 'p3')}`.execute(node.engine.db);
    const details = plan.rows.map((r) => r.detail).join('\n');
    assert.match(details, /idx_reference_target_id_target_type/, details);
    assert.doesNotMatch(details, /idx_reference_url/, details);
  });
});
