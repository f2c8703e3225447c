/** Two registry processes on one store: the second picks up the first one's writes through refresh() (history _since). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openNode } from '../../../src/node/provider-node.ts';
import { ConsentRegistry } from '../../../src/gf/consent/registry.ts';
import { engineNames, freshEngine } from '../../helpers/engines.ts';
import { consent, testBsn } from './helpers.ts';

for (const db of engineNames()) {
  describe(`consent index refresh across processes (${db})`, () => {
    it('applies creates, revocations and deletes written elsewhere; stale versions are ignored', async () => {
      const target = await freshEngine(db);
      const a = await openNode(target.opts);
      const b = await openNode(target.opts);
      const ra = await ConsentRegistry.open({ dispatch: a.dispatch, tenants: a.tenants });
      await b.tenants.load();
      const rb = await ConsentRegistry.open({ dispatch: b.dispatch, tenants: b.tenants });
      try {
        const bsn = testBsn(40);
        const q = { patient: { bsn }, holder: { ura: '00000001', category: 'RPZAC001' }, consulter: { ura: '00000002', category: 'RPZAC104' }, dataCategory: 'GGC002' };
        const who = { ura: '90000001', role: 'pgo', patient: bsn };
        const created = await ra.create(consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' } }), who);
        const id = (created.body as { id: string }).id;
        assert.equal(ra.decide(q).decision, 'Permit');
        assert.equal(rb.decide(q).decision, 'NotApplicable', 'B has not seen it yet');
        assert.ok((await rb.refresh()) >= 1);
        assert.equal(rb.decide(q).decision, 'Permit');

        await ra.update(id, { ...(created.body as object), status: 'inactive' }, who);
        await rb.refresh();
        assert.equal(rb.decide(q).decision, 'NotApplicable', 'revocation seen by B after refresh');

        const obj = await ra.create(consent({ bsn, type: 'deny' }), who);
        await rb.refresh();
        assert.equal(rb.decide(q).decision, 'Deny');
        await ra.delete((obj.body as { id: string }).id, who);
        await rb.refresh();
        assert.equal(rb.decide(q).decision, 'NotApplicable');
        // A second refresh re-reads the overlap window: versions already applied change nothing.
        await rb.refresh();
        assert.equal(rb.decide(q).decision, 'NotApplicable');
        // Subscriptions registered in one process are known to the other after refresh.
        const sub = await rb.subscribe({ resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: `Consent?patientid=${bsn}`, channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/' } }, { ura: '00000002', role: 'node' });
        const subId = (sub.body as { id: string }).id;
        assert.equal(ra.notifier.get(subId), undefined);
        await ra.refresh();
        assert.ok(ra.notifier.get(subId));
        await rb.unsubscribe(subId, { ura: '00000002', role: 'node' });
        await ra.refresh();
        assert.equal(ra.notifier.get(subId), undefined);
      } finally {
        ra.close();
        rb.close();
        await a.close();
        await b.close();
        await target.cleanup();
      }
    });
  });
}
