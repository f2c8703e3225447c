/** Starts a provider node behind HTTP; used by `schakel serve`, `schakel demo` and the tests. */
import type { FastifyInstance } from 'fastify';
import { openNode, type NodeOptions, type ProviderNode } from '../node/provider-node.ts';
import type { Dialect } from '../storage/schema.ts';
import type { EnforcementDeps } from '../gf/authorisation/enforce.ts';
import { registerBulkRoutes } from '../bulk/routes.ts';
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
  logger?: boolean;
  /** Mounts further roles (national services, auth servers…) on the same app before it listens. */
  plugins?: (app: FastifyInstance, node: ProviderNode, url: () => string) => void | Promise<void>;
  /** The enforcement point's dependencies; absent = an open node (development, --no-auth). */
  enforcement?: (node: ProviderNode, url: () => string) => EnforcementDeps;
}

export interface RunningServer {
  url: string;
  node: ProviderNode;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const nodeOpts: NodeOptions = { db: opts.db, dataDir: opts.dataDir, dbUrl: opts.dbUrl, sqliteFile: opts.sqliteFile };
  const node = await openNode(nodeOpts);
  for (const t of opts.tenants ?? []) await node.tenants.ensure({ tenant: t });
  // The public URL is known once listening; roles mounted before that read it through this function.
  let url = '';
  const urlOf = () => url;
  const app = buildApp({
    enforcement: opts.enforcement?.(node, urlOf),
    dispatch: node.dispatch,
    tenants: node.tenants,
    audit: node.audit,
    patientContext: opts.qualificationTokens ? loadQualificationTokens(opts.qualificationTokens) : undefined,
    logger: opts.logger,
  });
  // Bulk export downloads live beside /fhir/{tenant} (streamed files, outside the dispatcher).
  registerBulkRoutes(app, node);
  if (opts.plugins) await opts.plugins(app, node, urlOf);
  await app.listen({ port: opts.port, host: opts.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  url = `http://${host}:${port}`;
  return {
    url,
    node,
    app,
    close: async () => {
      await app.close();
      await node.close();
    },
  };
}
