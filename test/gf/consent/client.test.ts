/** The node-side client: fails closed, caches decisions, and drops them when the registry notifies a change. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConsentClient } from '../../../src/gf/consent/client.ts';
import { engineNames } from '../../helpers/engines.ts';
import { call, consent, startConsentServer, testBsn, type ConsentServer } from './helpers.ts';

const GP = '00000001';
const HOSPITAL = '00000002';

for (const db of engineNames()) {
  describe(`consent client (${db})`, { timeout: 60_000 }, () => {
    let s: ConsentServer;
    before(async () => {
      s = await startConsentServer(db, { notifier: { backoffMs: 20, attempts: 3 } });
    });
    after(async () => {
      await s?.stop();
    });

    it('unreachable registry → Deny, saying so', async () => {
      const c = new ConsentClient({ base: 'http://127.0.0.1:9/national/consent', authorization: () => 'Bearer x', timeoutMs: 500 });
      const d = await c.check({ patient: { bsn: testBsn(50) }, holder: { ura: GP, organizationType: 'Z3' }, consulter: { ura: HOSPITAL, organizationType: 'V4' }, dataCategory: 'GGC002' });
      assert.equal(d.decision, 'Deny');
      assert.equal(d.basis.code, 'registry-unavailable');
      assert.match(d.reason, /fail closed/);
    });

    it('a registry that accepts the question but never answers → Deny after timeoutMs', async () => {
      const stalled = createServer(() => undefined); // reads the request, never answers
      await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
      try {
        const port = (stalled.address() as { port: number }).port;
        const c = new ConsentClient({ base: `http://127.0.0.1:${port}/national/consent`, authorization: () => 'Bearer x', timeoutMs: 200 });
        const d = await c.check({ patient: { bsn: testBsn(52) }, holder: { ura: GP }, consulter: { ura: HOSPITAL }, dataCategory: 'GGC002' });
        assert.equal(d.decision, 'Deny');
        assert.equal(d.basis.code, 'registry-unavailable');
        assert.match(d.reason, /unreachable: TimeoutError.*fail closed/);
      } finally {
        stalled.closeAllConnections();
        await new Promise((r) => stalled.close(r));
      }
    });

    it('a rejected token → Deny (fail closed), not an exception', async () => {
      const c = new ConsentClient({ base: s.base, authorization: () => 'Bearer nope' });
      const d = await c.check({ patient: { bsn: testBsn(51) }, holder: { ura: GP }, consulter: { ura: HOSPITAL }, dataCategory: 'GGC002' });
      assert.equal(d.decision, 'Deny');
      assert.match(d.reason, /HTTP 401/);
    });

    it('cached decision is dropped by the change notification; the next check sees the revocation', async () => {
      const bsn = testBsn(52);
      const client = new ConsentClient({ base: s.base, authorization: () => `Bearer provider:${GP}`, ttlMs: 3_600_000 });
      let dropped = -1;
      let notified!: () => void;
      const gotNotification = new Promise<void>((r) => (notified = r));
      const hook = createServer((req, res) => {
        let t = '';
        req.on('data', (x) => (t += x));
        req.on('end', () => {
          dropped = client.onNotification(JSON.parse(t));
          res.writeHead(200).end();
          if (dropped > 0) notified();
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      try {
        const addr = hook.address();
        const endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
        const sub = await call(`${s.base}/Subscription`, { token: `provider:${GP}`, body: { resourceType: 'Subscription', status: 'requested', reason: 'cache', criteria: `Consent?providerid=${GP}&providertype=Z3`, channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' } } });
        assert.equal(sub.status, 201, sub.text);
        const pgo = `pgo:90000001:${bsn}`;
        const created = await call(`${s.base}/Consent`, { token: pgo, body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }) });
        const q = { patient: { bsn }, holder: { ura: GP, organizationType: 'Z3' }, consulter: { ura: HOSPITAL, organizationType: 'V4' }, dataCategory: 'GGC012' };
        assert.equal((await client.check(q)).decision, 'Permit');
        assert.equal(client.size, 1);
        await s.registry.notifier.idle(); // the create's own notification (nothing cached then)
        await call(`${s.base}/Consent/${created.json.id}`, { method: 'PUT', token: pgo, body: { ...created.json, status: 'inactive' } });
        await gotNotification;
        assert.equal(dropped, 1);
        assert.equal((await client.check(q)).decision, 'NotApplicable');
      } finally {
        hook.close();
      }
    });
  });
}
