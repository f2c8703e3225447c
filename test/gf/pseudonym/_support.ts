/** A PRS on 127.0.0.1 (free port) with a test verifier, one or more registered recipients and captured logs. */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { PrsKeyStore } from '../../../src/gf/pseudonym/keys.ts';
import { RecipientRegistry } from '../../../src/gf/pseudonym/recipients.ts';
import { PseudonymService, registerPseudonymRoutes, type Caller, type SecondaryProject } from '../../../src/gf/pseudonym/service.ts';

export interface TestRecipient {
  organization: string;
  scopes: string[];
  privateKey: CryptoKey;
}

export const TOKENS: Record<string, Caller> = {
  'Bearer node-a': { ura: '11111111', scopes: ['prs:read', 'prs:secondary'] },
  'Bearer ttp': { ura: '22222222', scopes: ['prs:depseudonymise'] },
  'Bearer nvi-search': { ura: '33333333', scopes: ['nvi:read'] },
  'Bearer admin': { ura: '99999999', scopes: ['prs:admin'] },
};
export const testVerifier = (authorization: string | undefined): Caller | undefined => (authorization ? TOKENS[authorization] : undefined);

export async function makeRecipient(organization: string, scopes: string[], alg: 'RSA-OAEP-256' | 'RSA-OAEP' = 'RSA-OAEP-256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { modulusLength: 2048, extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: `${organization}-1` };
  return { entry: { organization, scopes, publicJwk, alg }, recipient: { organization, scopes, privateKey } as TestRecipient };
}

export interface TestPrs {
  url: string;
  service: PseudonymService;
  keys: PrsKeyStore;
  logs: string[];
  stop(): Promise<void>;
}

export async function startPrs(o: { recipients: Awaited<ReturnType<typeof makeRecipient>>[]; projects?: SecondaryProject[]; keyFile?: string; kek?: Uint8Array; now?: () => number; ttlSeconds?: number }): Promise<TestPrs> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const keys = PrsKeyStore.open({ file: o.keyFile, kek: o.kek });
  const service = new PseudonymService({ keys, recipients: new RecipientRegistry({ entries: o.recipients.map((r) => r.entry) }), projects: o.projects, now: o.now, ttlSeconds: o.ttlSeconds });
  const app = Fastify({ logger: { level: 'trace', stream } });
  await registerPseudonymRoutes(app, { service, verifyToken: testVerifier });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/national/prs`, service, keys, logs, stop: () => app.close() };
}

export async function postJson(url: string, body: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are checked field by field
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}
