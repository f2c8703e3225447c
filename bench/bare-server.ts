/**
 * The ceiling for read-by-id: a bare node:http server (no framework, no FHIR logic) that answers
 * GET /fhir/{tenant}/{type}/{id} with the stored JSON from the same database, by primary key:
 *   SELECT content FROM resources WHERE tenant=? AND type=? AND id=?
 * It is what the read path would cost with zero overhead of our own; the benchmark reports Schakel's read
 * throughput as a fraction of it. Same protocol as server-child.ts (one JSON line with the URL on stdout).
 *
 * Usage: node --import tsx bench/bare-server.ts --db sqlite --data DIR | --db postgres --db-url URL [--pool 10]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const QUERY = 'SELECT content FROM resources WHERE tenant = $1 AND type = $2 AND id = $3';
type Lookup = (tenant: string, type: string, id: string) => Promise<string | undefined>;

let lookup: Lookup;
let closeDb: () => Promise<void>;
if (flag('db') === 'postgres') {
  const url = flag('db-url');
  if (!url) throw new Error('--db-url is required with --db postgres');
  // Same pool size as the Schakel engine's default (src/storage/engine.ts).
  const pool = new pg.Pool({ connectionString: url, max: Number(flag('pool') ?? 10) });
  lookup = async (tenant, type, id) => {
    const res = await pool.query<{ content: string }>({ name: 'bare-read', text: QUERY, values: [tenant, type, id] });
    return res.rows[0]?.content;
  };
  closeDb = () => pool.end();
} else {
  const sqlite = new BetterSqlite3(join(flag('data') ?? 'data', 'schakel.db'), { readonly: true, fileMustExist: true });
  sqlite.pragma('cache_size = -65536'); // as the Schakel engine
  const stmt = sqlite.prepare<[string, string, string], { content: string }>(QUERY.replace(/\$\d/g, '?'));
  lookup = (tenant, type, id) => Promise.resolve(stmt.get(tenant, type, id)?.content);
  closeDb = () => {
    sqlite.close();
    return Promise.resolve();
  };
}

const PATH = /^\/fhir\/([^/?]+)\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\?.*)?$/;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const m = req.method === 'GET' ? PATH.exec(req.url ?? '') : null;
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  lookup(m[1], m[2], m[3]).then(
    (content) => {
      if (content === undefined || content === '') res.writeHead(404).end();
      else res.writeHead(200, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Content-Length': Buffer.byteLength(content) }).end(content);
    },
    (e: unknown) => {
      console.error(e);
      res.writeHead(500).end();
    },
  );
}

const server = createServer(handle);
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  server.close();
  server.closeAllConnections();
  closeDb().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
