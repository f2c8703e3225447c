/**
 * Starts a node with its roles: the provider role (every tenant behind the enforcement point) and, optionally, the
 * national role in the same process. Used by `schakel serve`, `schakel demo` and the end-to-end tests.
 *
 * Secure by default: without `noAuth` every tenant requires a token. `noAuth` is the explicit local-development
 * switch: it is refused together with the national role and on any address other than loopback.
 */
import { isIP } from 'node:net';
import { KeyStore } from '../gf/auth/pki.ts';
import { OrganisationTokens } from '../gf/auth/token-client.ts';
import type { EnforcementDeps } from '../gf/authorisation/enforce.ts';
import { startServer, type RunningServer, type ServerOptions } from '../http/server.ts';
import type { ProviderNode } from '../node/provider-node.ts';
import { createLoggers } from '../ops/logging.ts';
import { createMetricsRegistry } from '../ops/metrics.ts';
import { registrarMetrics } from '../gf/localisation/metrics.ts';
import type { Dialect } from '../storage/schema.ts';
import { attachLocalisation, type AttachedLocalisation } from '../gf/localisation/node-registration.ts';
import { NVI_RECIPIENT, mountNationalServices, nationalPaths, type NationalServices } from './national.ts';
import { ProviderSecurity } from './provider.ts';
import type { CitizenLoginOptions } from './citizen-login.ts';
import { registerDemoPgo } from './demo-pgo.ts';

export interface NetworkNodeOptions {
  port: number;
  host: string;
  db: Dialect;
  dataDir: string;
  dbUrl?: string;
  sqliteFile?: string;
  /** Also run the national services (directory, consent, NVI, PRS, their token server) in this process. */
  national?: boolean;
  /** Origin of the national services when they run elsewhere (default: this node, with `national`). */
  nationalUrl?: string;
  /**
   * Serve mutual TLS with this organisation's certificate (the node operator's, from the key store): every call
   * between nodes and to the national services then presents the calling organisation's certificate, and tokens
   * are bound to it (RFC 8705).
   */
  tls?: { ura: string };
  /** Local development only: no tokens, no enforcement. */
  noAuth?: boolean;
  qualificationTokens?: string;
  /** Directory replica refresh interval (default 60 s; 0 = manual). */
  syncEveryMs?: number;
  security?: EnforcementDeps['security'];
  /** The operations and security log streams (see startServer). */
  logger?: ServerOptions['logger'];
  /** With `national`: the citizen test IdP's citizens and relying parties. */
  citizenLogin?: CitizenLoginOptions;
  /** Serve the demo PGO (/demo-pgo/login, /demo-pgo/callback); register it as a client in `citizenLogin`. */
  demoPgo?: boolean;
}

export interface NetworkNode {
  server: RunningServer;
  url: string;
  keys: KeyStore;
  tokens: OrganisationTokens;
  provider?: ProviderSecurity;
  national?: NationalServices;
  /** Registration at the localisation index (when national services are configured). */
  localisation?: AttachedLocalisation;
  close(): Promise<void>;
}

export class ConfigurationError extends Error {}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** Why these options may not run together, or undefined. */
export function configurationProblem(o: Pick<NetworkNodeOptions, 'noAuth' | 'national' | 'host' | 'nationalUrl' | 'tls'>): string | undefined {
  if (o.noAuth && o.tls) return '--tls and --no-auth do not go together';
  if (o.tls && !/^\d{8}$/.test(o.tls.ura)) return `--tls '${o.tls.ura}' is not a URA (8 digits)`;
  if (o.noAuth && o.national) return '--no-auth cannot be combined with the national role: national services always require tokens';
  if (o.noAuth && !isLoopback(o.host)) return `--no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost), not on '${o.host}'`;
  if (o.nationalUrl !== undefined && o.national) return '--national-url names national services elsewhere; leave it out with --national';
  if (o.nationalUrl !== undefined && !/^https?:\/\/[^/]+$/.test(o.nationalUrl)) return `--national-url '${o.nationalUrl}' must be an origin like https://national.example:8443 (no path)`;
  return undefined;
}

export async function startNetworkNode(o: NetworkNodeOptions): Promise<NetworkNode> {
  const problem = configurationProblem(o);
  if (problem) throw new ConfigurationError(problem);
  const keys = new KeyStore(o.dataDir);
  // The test PKI stands in for the UZI register: made on first start, reused afterwards.
  if (!o.noAuth && !keys.hasCa()) await keys.initCa({ name: 'Schakel test UZI CA' });
  const caPems = o.tls ? [keys.caCertPem()] : [];
  const tokens = new OrganisationTokens(keys, { tls: o.tls ? { caPems } : undefined });
  const serverCredential = o.tls ? keys.credential(o.tls.ura) : undefined;
  let url = '';
  const nationalBase = () => o.nationalUrl ?? url;
  const provider = o.noAuth ? undefined : new ProviderSecurity({ dataDir: o.dataDir, keys, tokens, nationalBase, syncEveryMs: o.syncEveryMs, security: o.security, mtls: o.tls !== undefined });
  let national: NationalServices | undefined;
  let localisation: AttachedLocalisation | undefined;
  // The streams are made here so the roles built before the server can log to them too.
  const loggers = o.logger === false ? undefined : createLoggers(o.logger === true || o.logger === undefined ? {} : o.logger);
  // One registry for /metrics: HTTP, and the localisation counters of the node and (with the national role) the NVI.
  const metrics = createMetricsRegistry();
  const server = await startServer({
    port: o.port,
    host: o.host,
    db: o.db,
    dataDir: o.dataDir,
    dbUrl: o.dbUrl,
    sqliteFile: o.sqliteFile,
    qualificationTokens: o.qualificationTokens,
    logger: o.logger,
    loggers,
    metrics,
    tls: serverCredential ? { keyPem: serverCredential.keyPem, certPem: serverCredential.certPem, caPems } : undefined,
    enforcement: provider ? (node, u) => provider.enforcement(node, u) : undefined,
    plugins: async (app, node, u) => {
      if (o.national) national = await mountNationalServices(app, { node, url: u, keys, dataDir: o.dataDir, metrics, citizenLogin: o.citizenLogin, mtls: o.tls !== undefined });
      if (o.demoPgo) registerDemoPgo(app, { url: u });
      if (provider) await provider.mount(app, node, u);
      // Every write of a tenant with a URA is registered at the NVI, as that organisation (its own tokens;
      // List.source is the client id the NVI sees, which for an organisation's token is its URA). Attached before
      // the server listens, so no accepted write goes unregistered.
      if (!o.noAuth && (o.national || o.nationalUrl)) localisation = await registerAtNvi(node);
    },
  });
  url = server.url;

  async function registerAtNvi(node: ProviderNode): Promise<AttachedLocalisation> {
    const uraOf = (tenant: string) => {
      const ura = node.tenants.get(tenant)?.ura;
      if (!ura) throw new Error(`tenant '${tenant}' has no URA`);
      return ura;
    };
    return attachLocalisation(node, {
      nviBase: () => nationalPaths(nationalBase()).nvi,
      prsBase: () => nationalPaths(nationalBase()).prs,
      nviRecipient: NVI_RECIPIENT,
      authorization: (service, tenant) =>
        tokens.authorization({ ura: uraOf(tenant), tokenEndpoint: nationalPaths(nationalBase()).token(service), scope: service === 'nvi' ? 'nvi:write' : 'prs:read' }),
      clientId: uraOf,
      fetchFor: (tenant) => tokens.fetchFor(uraOf(tenant)),
      logger: loggers?.ops,
      tuning: { metrics: registrarMetrics(metrics) },
    });
  }
  return {
    server,
    url,
    keys,
    tokens,
    provider,
    national,
    localisation,
    close: async () => {
      await localisation?.close();
      provider?.stop();
      national?.close();
      await server.close();
    },
  };
}
