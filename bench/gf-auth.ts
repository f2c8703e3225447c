/**
 * Token issuance benchmark (src/gf/auth/token-server.ts).
 *
 * The token server runs in a child process (this file with `--serve`): plain HTTP and HTTPS with client
 * certificates (mTLS, certificate-bound tokens), both on 127.0.0.1, with a registered client key; and the national
 * services' token server as src/roles/national.ts registers it (`certificateClientRegistry()`: no registered keys,
 * the client's certificate travels in the assertion's `x5c` header and is checked against the trusted CA and its
 * URA; plain HTTP, service scopes), as `OrganisationTokens` (src/gf/auth/token-client.ts) asks it. The parent pre-signs one client assertion per
 * request (fresh jti each: replay protection is on), then posts them over keep-alive connections and counts
 * 200 answers per second. Every answer is checked (status 200, token present); failures are reported.
 * A last in-process step times the resource-server side: `createTokenVerifier` on one token.
 *
 * Usage: node --import tsx bench/gf-auth.ts [--requests 6000] [--connections 16]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { availableParallelism, cpus, loadavg } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { certificateClientRegistry } from '../src/gf/auth/client-registries.ts';
import { createCa, issueCertificate, pemToDer, publicJwk, type CaMaterial, type CertifiedKey } from '../src/gf/auth/pki.ts';
import { createClientAssertion, generateSigningKey, registerAuthServer, staticClientRegistry, tokenRequestBody } from '../src/gf/auth/token-server.ts';
import { createTokenVerifier } from '../src/gf/auth/verify.ts';
import { NATIONAL_SERVICES, SERVICE_SCOPES } from '../src/roles/national.ts';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

interface Setup {
  ca: CaMaterial;
  node: CertifiedKey;
  client: CertifiedKey;
}

const URA_CLIENT = '11111111';

async function serve(): Promise<void> {
  const setup = await new Promise<Setup>((resolve) => process.once('message', (m) => resolve(m as Setup)));
  const signingKey = generateSigningKey();
  const resolveClient = staticClientRegistry([{ clientId: 'client-a', ura: URA_CLIENT, jwks: { keys: [publicJwk(setup.client.certPem)] } }]);
  const start = async (app: FastifyInstance, scheme: string) => {
    let url = '';
    await registerAuthServer(app, { baseUrl: () => url, resolveClient, signingKeys: [signingKey], trustedCaPems: [setup.ca.certPem] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `${scheme}://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    return url;
  };
  const http = await start(Fastify(), 'http');
  const https = await start(
    Fastify({ https: { key: setup.node.keyPem, cert: setup.node.certPem, ca: [setup.ca.certPem], requestCert: true, rejectUnauthorized: false } }) as unknown as FastifyInstance,
    'https',
  );
  // The national token server as src/roles/national.ts registers it: plain, and with `serve --tls` (mTLS required).
  const national = async (mtls: boolean) => {
    const app = mtls
      ? (Fastify({ https: { key: setup.node.keyPem, cert: setup.node.certPem, ca: [setup.ca.certPem], requestCert: true, rejectUnauthorized: false } }) as unknown as FastifyInstance)
      : Fastify();
    let url = '';
    await registerAuthServer(app, {
      prefix: '/national/auth/:tenant',
      baseUrl: () => url,
      hasTenant: (s) => (NATIONAL_SERVICES as readonly string[]).includes(s),
      audience: (service, base) => `${base}/national/${service}`,
      resolveClient: certificateClientRegistry(),
      signingKeys: [signingKey],
      trustedCaPems: [setup.ca.certPem],
      serviceScopes: Object.values(SERVICE_SCOPES).flat(),
      requireClientCertificate: mtls,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `${mtls ? 'https' : 'http'}://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    return url;
  };
  process.send!({ http, https, national: await national(false), nationalMtls: await national(true), jwk: signingKey.publicJwk });
}

interface RunResult {
  ok: number;
  failed: number;
  seconds: number;
  firstFailure?: string;
}

async function load(url: string, bodies: string[], connections: number, tls?: { ca: string; key: string; cert: string }): Promise<RunResult> {
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: connections, ca: [tls.ca], key: tls.key, cert: tls.cert })
    : new HttpAgent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const post = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) {
        const r = await post(bodies[next++]);
        if (r.status === 200 && r.text.includes('"access_token"')) ok++;
        else {
          failed++;
          firstFailure ??= `${r.status} ${r.text.slice(0, 200)}`;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return { ok, failed, seconds, firstFailure };
}

async function main(): Promise<void> {
  const requests = flag('requests', 6000);
  const connections = flag('connections', 16);
  const ca = await createCa();
  const setup: Setup = {
    ca,
    node: await issueCertificate(ca, { ura: '99999999', name: 'Bench node', uziSys: '999999999', agb: '0' }),
    client: await issueCertificate(ca, { ura: URA_CLIENT, name: 'Bench client', uziSys: '911111111', agb: '0' }),
  };
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--serve'], { execArgv: ['--import', 'tsx'] });
  try {
    child.send(setup);
    const urls = await new Promise<{ http: string; https: string; national: string; nationalMtls: string; jwk: Record<string, string> }>((resolve) => child.once('message', (m) => resolve(m as never)));
    const bodies = async (base: string, n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const a = await createClientAssertion({ clientId: 'client-a', tokenEndpoint: `${base}/auth/huisarts/token`, privateKey: setup.client.keyPem, kid: setup.client.kid, person: { uziNr: '900012345', uziRolcode: '01.015' }, purposeOfUse: 'treatment' });
        out.push(tokenRequestBody(a, 'system/*.read'));
      }
      return out;
    };
    // As OrganisationTokens asks the national token server: client_id = URA, the certificate in x5c, a service scope.
    const x5c = [pemToDer(setup.client.certPem).toString('base64')];
    const x5cBodies = async (endpoint: string, n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const a = await createClientAssertion({ clientId: URA_CLIENT, tokenEndpoint: endpoint, privateKey: setup.client.keyPem, kid: setup.client.kid, x5c });
        out.push(tokenRequestBody(a, 'consent:check'));
      }
      return out;
    };
    const warm = Math.min(500, requests / 10);
    const report: string[] = [];
    const clientTls = { ca: ca.certPem, key: setup.client.keyPem, cert: setup.client.certPem };
    const modes = [
      ['HTTP', `${urls.http}/auth/huisarts/token`, (n: number) => bodies(urls.http, n), undefined],
      ['HTTPS mTLS (bound tokens)', `${urls.https}/auth/huisarts/token`, (n: number) => bodies(urls.https, n), clientTls],
      ['x5c, national, HTTP', `${urls.national}/national/auth/consent/token`, (n: number) => x5cBodies(`${urls.national}/national/auth/consent/token`, n), undefined],
      ['x5c, national, HTTPS mTLS', `${urls.nationalMtls}/national/auth/consent/token`, (n: number) => x5cBodies(`${urls.nationalMtls}/national/auth/consent/token`, n), clientTls],
    ] as const;
    for (const [name, endpoint, make, tls] of modes) {
      await load(endpoint, await make(warm), connections, tls);
      const r = await load(endpoint, await make(requests), connections, tls);
      report.push(`${name.padEnd(28)} ${(r.ok / r.seconds).toFixed(0).padStart(6)} tokens/s  (${r.ok} ok, ${r.failed} failed, ${r.seconds.toFixed(2)} s, ${connections} connections)`);
      if (r.firstFailure) report.push(`  first failure: ${r.firstFailure}`);
    }
    // resource-server side, in process
    const a = await createClientAssertion({ clientId: 'client-a', tokenEndpoint: `${urls.http}/auth/huisarts/token`, privateKey: setup.client.keyPem, kid: setup.client.kid });
    const res = await fetch(`${urls.http}/auth/huisarts/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenRequestBody(a, 'system/*.read') });
    const token = (await res.json()) as { access_token: string };
    const verify = createTokenVerifier({ issuer: `${urls.http}/auth/huisarts`, audience: `${urls.http}/fhir/huisarts`, jwks: { keys: [urls.jwk] } });
    const n = 20_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await verify(`Bearer ${token.access_token}`);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    report.push(`${'verify (in process)'.padEnd(28)} ${(n / s).toFixed(0).padStart(6)} verifications/s`);
    console.log(`gf-auth benchmark — ${new Date().toISOString()} — node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`token issuance: client_credentials + private_key_jwt (ES256), person claims, replay check, ES256 access token; ${requests} requests after ${warm} warm-up`);
    console.log('(HTTP, HTTPS: registered client key; x5c: the certificate in the assertion, checked against the CA and the URA, no person claims)');
    for (const line of report) console.log(line);
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--serve')) void serve();
else await main();
