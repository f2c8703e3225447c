/** Shared fixtures for the gf/auth tests: an in-memory test PKI, a node with the auth server, HTTPS requests with client certificates. */
import { request as httpsRequest } from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import { createCa, issueCertificate, publicJwk, type CaMaterial, type CertifiedKey } from '../../../src/gf/auth/pki.ts';
import { peerCertificateOf } from '../../../src/gf/auth/mtls.ts';
import { createClientAssertion, generateSigningKey, registerAuthServer, staticClientRegistry, tokenRequestBody, type AuthServerOptions, type RegisteredClient, type SigningKey } from '../../../src/gf/auth/token-server.ts';
import { TokenError, createTokenVerifier } from '../../../src/gf/auth/verify.ts';

export const URA_A = '11111111';
export const URA_B = '22222222';
export const URA_NODE = '99999999';

export interface Pki {
  ca: CaMaterial;
  node: CertifiedKey;
  a1: CertifiedKey;
  a2: CertifiedKey;
  b1: CertifiedKey;
}

let pkiPromise: Promise<Pki> | undefined;
/** One PKI per test file (key generation is the slow part). */
export function testPki(): Promise<Pki> {
  pkiPromise ??= (async () => {
    const ca = await createCa();
    const org = (ura: string, name: string) => ({ ura, name, uziSys: '9' + ura, agb: '0' + ura.slice(1) });
    return {
      ca,
      node: await issueCertificate(ca, org(URA_NODE, 'Schakel test node')),
      a1: await issueCertificate(ca, org(URA_A, 'Huisartsenpraktijk A')),
      a2: await issueCertificate(ca, org(URA_A, 'Huisartsenpraktijk A')),
      b1: await issueCertificate(ca, org(URA_B, 'Ziekenhuis B')),
    };
  })();
  return pkiPromise;
}

export function clientsOf(pki: Pki): RegisteredClient[] {
  return [
    { clientId: 'client-a', ura: URA_A, jwks: { keys: [publicJwk(pki.a1.certPem), publicJwk(pki.a2.certPem)] } },
    { clientId: 'client-b', ura: URA_B, jwks: { keys: [publicJwk(pki.b1.certPem)] }, scopes: ['system/Patient.read', 'system/Observation.rs'] },
  ];
}

export interface TestNode {
  app: FastifyInstance;
  url: string;
  signingKey: SigningKey;
  issuer(tenant?: string): string;
  tokenEndpoint(tenant?: string): string;
  audience(tenant?: string): string;
  close(): Promise<void>;
}

/**
 * A node on 127.0.0.1:0 with the auth server for tenant 'huisarts' (and 'ziekenhuis'), plus a protected test
 * resource at GET /fhir/:tenant/whoami that runs the token verifier like the enforcement point will.
 */
export async function startNode(pki: Pki, opts: { https?: boolean; server?: Partial<AuthServerOptions> } = {}): Promise<TestNode> {
  const app = (
    opts.https ? Fastify({ https: { key: pki.node.keyPem, cert: pki.node.certPem, ca: [pki.ca.certPem], requestCert: true, rejectUnauthorized: false } }) : Fastify()
  ) as FastifyInstance;
  let url = '';
  const signingKey = generateSigningKey();
  await registerAuthServer(app, {
    baseUrl: () => url,
    hasTenant: (t) => t === 'huisarts' || t === 'ziekenhuis',
    resolveClient: staticClientRegistry(clientsOf(pki)),
    signingKeys: [signingKey],
    trustedCaPems: [pki.ca.certPem],
    ...opts.server,
  });
  app.get('/fhir/:tenant/whoami', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    const verify = createTokenVerifier({ issuer: `${url}/auth/${tenant}`, audience: `${url}/fhir/${tenant}`, jwks: { keys: [signingKey.publicJwk] } });
    try {
      const claims = await verify(req.headers.authorization, peerCertificateOf(req.raw));
      return { ura: claims.ura, clientId: claims.clientId, bound: claims.boundCertificate ?? null };
    } catch (e) {
      if (!(e instanceof TokenError)) throw e;
      return reply.code(e.status).header('www-authenticate', e.wwwAuthenticate()).send({ code: e.code, message: e.message });
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  url = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    app,
    url,
    signingKey,
    issuer: (t = 'huisarts') => `${url}/auth/${t}`,
    tokenEndpoint: (t = 'huisarts') => `${url}/auth/${t}/token`,
    audience: (t = 'huisarts') => `${url}/fhir/${t}`,
    close: () => app.close(),
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** An HTTPS request to 127.0.0.1 with an optional client certificate (a new connection each time). */
export function httpsCall(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; caPem: string; client?: { keyPem: string; certPem: string } },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...opts.headers },
        ca: [opts.caPem],
        key: opts.client?.keyPem,
        cert: opts.client?.certPem,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A token request body for `client-a` signed with `key` (default a1). */
export async function assertionBody(node: TestNode, key: CertifiedKey, o: { clientId?: string; scope?: string; tenant?: string; now?: number; lifetime?: number; jti?: string; aud?: string; person?: { uziNr: string; uziRolcode: string }; purposeOfUse?: 'treatment' | 'emergency' | 'patient-access' | 'secondary-use' } = {}): Promise<string> {
  const assertion = await createClientAssertion({
    clientId: o.clientId ?? 'client-a',
    tokenEndpoint: o.aud ?? node.tokenEndpoint(o.tenant),
    privateKey: key.keyPem,
    kid: key.kid,
    now: o.now,
    lifetime: o.lifetime,
    jti: o.jti,
    person: o.person,
    purposeOfUse: o.purposeOfUse,
  });
  return tokenRequestBody(assertion, o.scope ?? 'system/*.read');
}
