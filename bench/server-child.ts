/**
 * The Schakel server as a benchmark child process (so the load generator and the server do not share an
 * event loop). Prints one JSON line {"url": …} on stdout when it listens; stops on SIGTERM/SIGINT.
 *
 * Usage: node --import tsx bench/server-child.ts --db sqlite --data DIR | --db postgres --db-url URL
 */
import { startServer } from '../src/http/server.ts';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const db = flag('db') === 'postgres' ? 'postgres' : 'sqlite';
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  db,
  dataDir: flag('data'),
  dbUrl: flag('db-url'),
  tenants: [flag('tenant') ?? 'bench'],
  logger: false,
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
