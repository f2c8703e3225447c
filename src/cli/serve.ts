/** `schakel serve`: a provider node with the FHIR REST API of every tenant. */
import { startServer } from '../http/server.ts';
import { UsageError, dbKind, parse, port } from './args.ts';

export const SERVE_HELP = `Usage: schakel serve [options]

Serves the FHIR R4 API of every tenant at http://HOST:PORT/fhir/{tenant}.

Options:
  --port N                    port to listen on (default 8080; 0 = any free port)
  --host H                    address to bind (default 127.0.0.1)
  --data DIR                  data directory for the embedded SQLite database (default ./data)
  --db sqlite|postgres        storage engine (default sqlite)
  --db-url URL                PostgreSQL connection URL (with --db postgres)
  --qualification-tokens F    test-only: scope each request to the patient its bearer token names (Nictiz
                              QualificationTokens.json format)
  -h, --help                  show this help
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    db: { type: 'string' },
    'db-url': { type: 'string' },
    'qualification-tokens': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const db = dbKind(values.db);
  if (db === 'postgres' && !values['db-url']) throw new UsageError('--db postgres needs --db-url postgres://USER@HOST:PORT/DB');
  const server = await startServer({
    port: port(values.port, 8080),
    host: values.host ?? '127.0.0.1',
    db,
    dataDir: values.data ?? 'data',
    dbUrl: values['db-url'],
    qualificationTokens: values['qualification-tokens'],
  });
  const tenants = server.node.tenants.list().map((t) => t.tenant);
  process.stdout.write(`Schakel FHIR server on ${server.url}\n`);
  process.stdout.write(tenants.length ? tenants.map((t) => `  ${server.url}/fhir/${t}\n`).join('') : '  no tenants yet: add one with `schakel tenant add NAME`\n');
  await waitForSignal();
  await server.close();
  return 0;
}

export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
