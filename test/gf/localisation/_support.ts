/**
 * One process with the national roles (PRS + NVI, mounted on the node's own Fastify app) and a provider
 * node with tenant gp1 (URA 12345678); logs captured; talks HTTP only, like separate machines would.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Resource } from 'fhir/r4';
import { buildApp } from '../../../src/http/app.ts';
import { openNode, type ProviderNode } from '../../../src/node/provider-node.ts';
import { PseudonymClient } from '../../../src/gf/pseudonym/client.ts';
import { PrsKeyStore } from '../../../src/gf/pseudonym/keys.ts';
import { PseudonymRecipient } from '../../../src/gf/pseudonym/recipient.ts';
import { RecipientRegistry } from '../../../src/gf/pseudonym/recipients.ts';
import { PRS_ISSUER, PseudonymService, registerPseudonymRoutes } from '../../../src/gf/pseudonym/service.ts';
import { registerLocalisationRoutes, type NviCaller } from '../../../src/gf/localisation/service.ts';
import { nviMetrics } from '../../../src/gf/localisation/metrics.ts';
import { freshEngine, type EngineTarget } from '../../helpers/engines.ts';
import { makeRecipient } from '../pseudonym/_support.ts';
import type { Dialect } from '../../../src/storage/schema.ts';

export const NVI = { organization: 'ura:90000901', scope: 'nationale-verwijsindex' };
export const GP_URA = '12345678';
export const TOKENS: Record<string, NviCaller> = {
  'Bearer node-a': { ura: GP_URA, scopes: ['prs:read', 'nvi:write', 'nvi:read'], clientId: 'schakel-node-a' },
  'Bearer node-b': { ura: '87654321', scopes: ['prs:read', 'nvi:write', 'nvi:read'], clientId: 'schakel-node-b' },
  'Bearer reader': { ura: '11112222', scopes: ['prs:read', 'nvi:read'] },
};
export const verify = (a: string | undefined) => (a ? TOKENS[a] : undefined);

export function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream, logger: pino({ level: 'trace' }, stream) };
}

export interface National {
  url: string;
  nviBase: string;
  prsUrl: string;
  node: ProviderNode;
  target: EngineTarget;
  logs: string[];
  nviMetrics: ReturnType<typeof nviMetrics>;
  client: PseudonymClient;
  fhir: (path: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test responses are checked field by field
  stop(): Promise<void>;
}

export async function startNational(db: Dialect, o: { port?: number } = {}): Promise<National> {
  const target = await freshEngine(db);
  const node = await openNode(target.opts);
  await node.tenants.ensure({ tenant: 'gp1', ura: GP_URA });
  const cap = capture();
  const nvi = await makeRecipient(NVI.organization, [NVI.scope]);
  const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
  // buildApp has no logger option for a stream; give the national plugins a captured logger via a child app.
  const national = Fastify({ loggerInstance: cap.logger as unknown as FastifyBaseLogger });
  const service = new PseudonymService({ keys: PrsKeyStore.open(), recipients: new RecipientRegistry({ entries: [nvi.entry] }) });
  const metrics = nviMetrics();
  await registerPseudonymRoutes(national, { service, verifyToken: verify });
  await registerLocalisationRoutes(national, {
    db: node.engine.db,
    recipient: new PseudonymRecipient({ organization: NVI.organization, scopes: [NVI.scope], privateKey: nvi.recipient.privateKey, issuer: PRS_ISSUER }),
    verifyToken: verify,
    metrics,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  await national.listen({ port: o.port ?? 0, host: '127.0.0.1' });
  const a = app.server.address();
  const n = national.server.address();
  const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const nurl = `http://127.0.0.1:${typeof n === 'object' && n ? n.port : 0}`;
  const prsUrl = `${nurl}/national/prs`;
  const fhirCall = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${url}/fhir/gp1/${path}`, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/fhir+json', ...(init.body ? { 'content-type': 'application/fhir+json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    url,
    nviBase: `${nurl}/national/nvi/fhir`,
    prsUrl,
    node,
    target,
    logs: cap.lines,
    nviMetrics: metrics,
    client: new PseudonymClient({ prsUrl, token: () => 'node-a' }),
    fhir: fhirCall,
    stop: async () => {
      await national.close();
      await app.close();
      await node.close();
      await target.cleanup();
    },
  };
}

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const patient = (bsn: string): Resource => ({ resourceType: 'Patient', identifier: [{ system: BSN_SYSTEM, value: bsn }], name: [{ family: 'Test' }] }) as Resource;
