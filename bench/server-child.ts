/**
 * The Schakel server as a benchmark child process (so the load generator and the server do not share an
 * event loop). Prints one JSON line {"url": …, "pid": …} on stdout when it listens; stops on SIGTERM/SIGINT.
 *
 * Usage: node --import tsx bench/server-child.ts [--root DIR] [--tenant a,b] [--bulk-dir DIR]
 *                                               --db sqlite --data DIR | --db postgres --db-url URL
 *
 * --root runs the server of another checkout (the baseline worktree of `npm run bench -- --compare REF`); the
 * default is the checkout this file is in. --tenant lists tenants to create when missing (default 'bench';
 * '' for none). --bulk-dir mounts bulk export ($export files) when that checkout has src/bulk/routes.ts.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const root = resolve(flag('root') ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
type ServerModule = typeof import('../src/http/server.ts');
type BulkModule = typeof import('../src/bulk/routes.ts');
const { startServer } = (await import(pathToFileURL(join(root, 'src/http/server.ts')).href)) as ServerModule;
const bulkDir = flag('bulk-dir');
const bulkRoutes = join(root, 'src/bulk/routes.ts');
const bulk = bulkDir && existsSync(bulkRoutes) ? ((await import(pathToFileURL(bulkRoutes).href)) as BulkModule) : undefined;

const db = flag('db') === 'postgres' ? 'postgres' : 'sqlite';
const tenants = (flag('tenant') ?? 'bench').split(',').filter((t) => t);
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  db,
  dataDir: flag('data'),
  dbUrl: flag('db-url'),
  tenants,
  logger: false,
  plugins: bulk ? (app: FastifyInstance, node) => bulk.registerBulkRoutes(app, node, { dir: bulkDir! }) : undefined,
});
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  server.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
