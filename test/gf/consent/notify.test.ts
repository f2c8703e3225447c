/** Change notifications: a node subscribes (rest-hook), a consent changes, the receiver gets the notification (with retry). */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { engineNames } from '../../helpers/engines.ts';
import { call, consent, startConsentServer, testBsn, type ConsentServer } from './helpers.ts';

const GP = '00000001';
const HOSPITAL = '00000002';
const PGO = '90000001';

interface Received {
  headers: IncomingMessage['headers'];
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- notification bundles are checked field by field
}

/** A test receiver: answers the first `failFirst` requests with 503, then 200. */
async function receiver(failFirst = 0): Promise<{ url: string; got: Received[]; attempts: number; server: Server; waitFor(n: number): Promise<void> }> {
  const got: Received[] = [];
  let attempts = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      attempts++;
      r.attempts = attempts;
      if (attempts <= failFirst) {
        res.writeHead(503).end();
        return;
      }
      got.push({ headers: req.headers, body: JSON.parse(text) });
      res.writeHead(200).end();
      for (const w of waiters.filter((x) => got.length >= x.n)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const r = {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`,
    got,
    attempts,
    server,
    waitFor: (n: number) => (got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
  };
  return r;
}

const subscription = (criteria: string, endpoint: string, o: { payload?: string; content?: string; header?: string[] } = {}) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'drop cached consent decisions',
  criteria,
  channel: {
    type: 'rest-hook',
    endpoint,
    ...(o.payload ? { payload: o.payload } : {}),
    ...(o.content ? { _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: o.content }] } } : {}),
    ...(o.header ? { header: o.header } : {}),
  },
});

for (const db of engineNames()) {
  describe(`consent change notifications (${db})`, { timeout: 60_000 }, () => {
    let s: ConsentServer;
    before(async () => {
      s = await startConsentServer(db, { notifier: { backoffMs: 20, attempts: 4, timeoutMs: 2000 } });
    });
    after(async () => {
      await s?.stop();
    });

    it('full-resource payload for a patient subscription, on create and on revocation', async () => {
      const rx = await receiver();
      try {
        const bsn = testBsn(30);
        const sub = await call(`${s.base}/Subscription`, {
          token: `node:${HOSPITAL}`,
          body: subscription(`Consent?patient:identifier=http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`, rx.url, { payload: 'application/fhir+json', header: ['Authorization: Bearer hook-secret'] }),
        });
        assert.equal(sub.status, 201, sub.text);
        assert.equal(sub.json.status, 'active');
        // Same owner, criteria and endpoint: the existing subscription comes back.
        const again = await call(`${s.base}/Subscription`, { token: `node:${HOSPITAL}`, body: subscription(`Consent?patient:identifier=http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`, rx.url, { payload: 'application/fhir+json', header: ['Authorization: Bearer hook-secret'] }) });
        assert.equal(again.status, 200);
        assert.equal(again.json.id, sub.json.id);

        const other = testBsn(31);
        await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${other}`, body: consent({ bsn: other, type: 'permit' }) });
        const c = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC104' } }) });
        assert.equal(c.status, 201);
        await rx.waitFor(1);
        const n1 = rx.got[0];
        assert.equal(n1.headers.authorization, 'Bearer hook-secret');
        assert.equal(n1.body.resourceType, 'Bundle');
        assert.equal(n1.body.type, 'history');
        const status = n1.body.entry[0].resource;
        assert.equal(status.resourceType, 'Parameters');
        assert.equal(status.parameter.find((p: { name: string }) => p.name === 'type').valueCode, 'event-notification');
        assert.equal(n1.body.entry[1].resource.id, c.json.id);
        assert.equal(n1.body.entry[1].resource.patient.identifier.value, bsn);

        await call(`${s.base}/Consent/${c.json.id}`, { method: 'PUT', token: `pgo:${PGO}:${bsn}`, body: { ...c.json, status: 'inactive' } });
        await rx.waitFor(2);
        assert.equal(rx.got[1].body.entry[1].resource.status, 'inactive');
        await s.registry.notifier.idle();
        assert.equal(rx.got.length, 2, 'the other patient\'s consent was not notified');
      } finally {
        rx.server.close();
      }
    });

    it('id-only payload for a provider subscription, retried after failures', async () => {
      const rx = await receiver(2);
      try {
        const sub = await call(`${s.base}/Subscription`, { token: `provider:${GP}`, body: subscription(`Consent?_query=otv&providerid=${GP}&providertype=Z3`, rx.url, { payload: 'application/fhir+json', content: 'id-only' }) });
        assert.equal(sub.status, 201, sub.text);
        const bsn = testBsn(32);
        // Affects GP via its category (holder RPZAC001).
        const c = await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'deny', holder: { category: 'RPZAC001' }, consulter: { category: 'RPZAC005' } }) });
        // Does not affect GP: pharmacy holder, hospital consulter.
        await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit', holder: { category: 'RPZAC005' }, consulter: { category: 'RPZAC104' } }) });
        await rx.waitFor(1);
        assert.equal(rx.attempts, 3, 'two failed attempts, then delivered');
        const e = rx.got[0].body.entry[1];
        assert.equal(e.resource, undefined, 'id-only carries no resource');
        assert.match(e.fullUrl, new RegExp(`/national/consent/Consent/${c.json.id}$`));
        await s.registry.notifier.idle();
        assert.equal(rx.got.length, 1);
      } finally {
        rx.server.close();
      }
    });

    it('gives up after the last attempt and marks the subscription error', async () => {
      const rx = await receiver(100);
      try {
        const bsn = testBsn(33);
        const sub = await call(`${s.base}/Subscription`, { token: `provider:${GP}`, body: subscription(`Consent?patientid=${bsn}`, rx.url) });
        assert.equal(sub.status, 201);
        await call(`${s.base}/Consent`, { token: `pgo:${PGO}:${bsn}`, body: consent({ bsn, type: 'permit' }) });
        await s.registry.notifier.idle();
        assert.equal(rx.attempts, 4);
        let status = '';
        for (let i = 0; i < 50 && status !== 'error'; i++) {
          status = (await call(`${s.base}/Subscription/${sub.json.id}`, { token: `provider:${GP}`, accept: 'application/fhir+json' })).json.status;
          if (status !== 'error') await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(status, 'error');
      } finally {
        rx.server.close();
      }
    });

    it('bad subscriptions → 400 with expression; other providers cannot subscribe for a URA or read the subscription', async () => {
      const cases: [unknown, string][] = [
        [subscription('Patient?x=1', 'http://127.0.0.1:1/'), 'Subscription.criteria'],
        [subscription('Consent?status=active', 'http://127.0.0.1:1/'), 'Subscription.criteria'],
        [subscription('Consent?patientid=123', 'http://127.0.0.1:1/'), 'Subscription.criteria'],
        [subscription('Consent?providerid=00000001&foo=bar', 'http://127.0.0.1:1/'), 'Subscription.criteria'],
        [subscription('Consent?providerid=00000001', 'ftp://x'), 'Subscription.channel.endpoint'],
        [{ ...subscription('Consent?providerid=00000001', 'http://127.0.0.1:1/'), channel: { type: 'websocket' } }, 'Subscription.channel.type'],
      ];
      for (const [body, expression] of cases) {
        const r = await call(`${s.base}/Subscription`, { token: `provider:${GP}`, body });
        assert.equal(r.status, 400, r.text);
        assert.deepEqual(r.json.issue[0].expression, [expression]);
      }
      assert.equal((await call(`${s.base}/Subscription`, { token: `provider:${HOSPITAL}`, body: subscription(`Consent?providerid=${GP}`, 'http://127.0.0.1:1/') })).status, 403);
      const mine = await call(`${s.base}/Subscription`, { token: `provider:${GP}`, body: subscription(`Consent?providerid=${GP}`, 'http://127.0.0.1:1/x') });
      assert.equal((await call(`${s.base}/Subscription/${mine.json.id}`, { token: `provider:${HOSPITAL}` })).status, 404);
      assert.equal((await call(`${s.base}/Subscription/${mine.json.id}`, { method: 'DELETE', token: `provider:${GP}` })).status < 300, true);
      assert.equal(s.registry.notifier.get(mine.json.id), undefined);
    });
  });
}
