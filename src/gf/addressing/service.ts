/**
 * The directory as a component of its own: a node (storage + FHIR core) with the reserved tenant
 * `national-directory`, and an HTTP server carrying only the directory routes. Used by tests, and by
 * `schakel serve` for the national role until `startServer` takes plugins (see the module README).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { openNode, type NodeOptions, type ProviderNode } from '../../node/provider-node.ts';
import { DIRECTORY_PREFIX, NATIONAL_DIRECTORY_TENANT } from './constants.ts';
import { registerDirectoryRoutes, type DirectoryRoutesOptions } from './directory.ts';

export interface DirectoryServiceOptions extends NodeOptions {
  port: number;
  host: string;
  verifyToken: DirectoryRoutesOptions['verifyToken'];
  prefix?: string;
  logger?: boolean;
}

export interface RunningDirectory {
  /** Server root, e.g. http://127.0.0.1:41234 */
  url: string;
  /** FHIR base of the directory, e.g. http://127.0.0.1:41234/national/directory/fhir */
  base: string;
  node: ProviderNode;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startDirectory(opts: DirectoryServiceOptions): Promise<RunningDirectory> {
  const node = await openNode({ db: opts.db, dataDir: opts.dataDir, dbUrl: opts.dbUrl, sqliteFile: opts.sqliteFile });
  await node.tenants.ensure({ tenant: NATIONAL_DIRECTORY_TENANT, name: 'National addressing directory (mCSD)' });
  const app = Fastify({ logger: opts.logger ?? false, routerOptions: { maxParamLength: 2048 }, bodyLimit: 64 * 1024 * 1024 });
  const prefix = opts.prefix ?? DIRECTORY_PREFIX;
  await registerDirectoryRoutes(app, { prefix, dispatch: node.dispatch, verifyToken: opts.verifyToken });
  app.get('/health', async () => ({ status: 'ok' }));
  await app.listen({ port: opts.port, host: opts.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  return {
    url,
    base: `${url}${prefix}`,
    node,
    app,
    close: async () => {
      await app.close();
      await node.close();
    },
  };
}
