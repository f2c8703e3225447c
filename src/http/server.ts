/** Starts a provider node behind HTTP; used by `schakel serve`, `schakel demo` and the tests. */
import type { FastifyInstance } from 'fastify';
import { openNode, type NodeOptions, type ProviderNode } from '../node/provider-node.ts';
import type { Dialect } from '../storage/schema.ts';
import type { EnforcementDeps } from '../gf/authorisation/enforce.ts';
import { registerBulkRoutes } from '../bulk/routes.ts';
import { bulkFileAuthorizer } from '../gf/authorisation/bulk-files.ts';
import type { Registry } from 'prom-client';
import { createLoggers, securitySink, type LogOptions, type Loggers } from '../ops/logging.ts';
import { createMetricsRegistry, httpMetrics, registerMetricsRoute } from '../ops/metrics.ts';
import { buildApp } from './app.ts';
import { loadQualificationTokens } from './qualification.ts';

export interface ServerOptions {
  port: number;
  host: string;
  db: Dialect;
  dataDir?: string;
  dbUrl?: string;
  sqliteFile?: string;
  qualificationTokens?: string;
  /** Tenants to create if missing (tests, demo). */
  tenants?: string[];
  /**
   * The operations and security streams (src/ops/logging.ts). Absent or true: ops on stdout, security on
   * stderr; an object: other destinations or level; false: neither (benchmarks).
   */
  logger?: boolean | LogOptions;
  /** Streams the caller made already (createLoggers), e.g. to hand securitySink(loggers.security) to roles built before the server; wins over `logger`. */
  loggers?: Loggers;
  /** The registry served at /metrics (default: a new one); pass one to add counters of mounted roles, e.g. nviMetrics(registry). */
  metrics?: Registry;
  /**
   * Serve over mutual TLS: the server's key and certificate, and the CAs whose client certificates it asks for.
   * Connections without a client certificate are still accepted (rejectUnauthorized false): the token server and
   * the verifier refuse what needs one, with an error the caller can read instead of a failed handshake.
   */
  tls?: { keyPem: string; certPem: string; caPems: string[] };
  /** Mounts further roles (national services, auth servers…) on the same app before it listens. */
  plugins?: (app: FastifyInstance, node: ProviderNode, url: () => string) => void | Promise<void>;
  /** The enforcement point's dependencies; absent = an open node (development, --no-auth). */
  enforcement?: (node: ProviderNode, url: () => string) => EnforcementDeps;
}

export interface RunningServer {
  url: string;
  node: ProviderNode;
  app: FastifyInstance;
  /** The streams (absent with logger: false); `security` feeds EnforcementDeps.security via securitySink. */
  loggers?: Loggers;
  metrics: Registry;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const nodeOpts: NodeOptions = { db: opts.db, dataDir: opts.dataDir, dbUrl: opts.dbUrl, sqliteFile: opts.sqliteFile };
  const node = await openNode(nodeOpts);
  for (const t of opts.tenants ?? []) await node.tenants.ensure({ tenant: t });
  // The public URL is known once listening; roles mounted before that read it through this function.
  let url = '';
  const urlOf = () => url;
  const loggers = opts.loggers ?? (opts.logger === false ? undefined : createLoggers(opts.logger === true ? {} : opts.logger));
  const security = loggers && securitySink(loggers.security);
  const metrics = opts.metrics ?? createMetricsRegistry();
  const enforcement = opts.enforcement?.(node, urlOf);
  // The enforcement point reports refusals and emergency access here unless its deps bring their own sink.
  if (enforcement && security) enforcement.security ??= security;
  const app = buildApp({
    enforcement,
    dispatch: node.dispatch,
    tenants: node.tenants,
    audit: node.audit,
    patientContext: opts.qualificationTokens ? loadQualificationTokens(opts.qualificationTokens) : undefined,
    ops: loggers?.ops,
    security,
    metrics: httpMetrics(metrics),
    https: opts.tls ? { key: opts.tls.keyPem, cert: opts.tls.certPem, ca: opts.tls.caPems, requestCert: true, rejectUnauthorized: false } : undefined,
  });
  registerMetricsRoute(app, metrics);
  // Bulk export downloads live beside /fhir/{tenant} (streamed files, outside the dispatcher).
  registerBulkRoutes(app, node, {}, enforcement ? bulkFileAuthorizer(enforcement) : undefined);
  if (opts.plugins) await opts.plugins(app, node, urlOf);
  await app.listen({ port: opts.port, host: opts.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;
  loggers?.ops.info({ event: 'start', url, db: opts.db, tenants: node.tenants.list().length }, 'node started');
  if (!enforcement) security?.({ event: 'auth-disabled', reason: 'no enforcement point: every request is served without a token' });
  return {
    url,
    node,
    app,
    loggers,
    metrics,
    close: async () => {
      await app.close();
      await node.close();
      loggers?.ops.info({ event: 'stop' }, 'node stopped');
    },
  };
}
