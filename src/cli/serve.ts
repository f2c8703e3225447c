/** `schakel serve`: a provider node with the FHIR REST API of every tenant, secure by default. */
import { ConfigurationError, configurationProblem, startNetworkNode } from '../roles/network.ts';
import { isReservedTenant } from '../tenants/registry.ts';
import { UsageError, dbKind, parse, port } from './args.ts';

export const SERVE_HELP = `Usage: schakel serve [options]

Serves the FHIR R4 API of every tenant at http://HOST:PORT/fhir/{tenant}. Every tenant requires an access token
from its token server at /auth/{tenant}/token (OAuth client credentials with private_key_jwt, SMART Backend
Services); requests pass the enforcement point (token, registered organisation, authorisation table, consent).

Options:
  --port N                    port to listen on (default 8080; 0 = any free port)
  --host H                    address to bind (default 127.0.0.1)
  --data DIR                  data directory: embedded SQLite database, keys (default ./data)
  --db sqlite|postgres        storage engine (default sqlite)
  --db-url URL                PostgreSQL connection URL (with --db postgres)
  --national                  also run the national services (addressing directory, consent registry,
                              localisation index, pseudonym service) in this process, under /national/
  --national-url ORIGIN       where the national services run, when elsewhere (e.g. https://national.example)
  --tls URA                   serve mutual TLS (https) with organisation URA's certificate from DIR/keys; clients
                              present their organisation's certificate and tokens are bound to it
  --no-auth                   LOCAL DEVELOPMENT ONLY: no tokens, no enforcement; refused with --national and
                              on any address other than loopback
  --qualification-tokens F    test-only: scope each request to the patient its bearer token names (Nictiz
                              QualificationTokens.json format); implies --no-auth's rules
  -h, --help                  show this help
`;

const NO_AUTH_WARNING = `
  ************************************************************************************
  *  WARNING: --no-auth — every tenant is open WITHOUT authentication or consent.    *
  *  Local development only. Never use this with real or realistic patient data.     *
  ************************************************************************************
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, flags } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    db: { type: 'string' },
    'db-url': { type: 'string' },
    national: { type: 'boolean' },
    'national-url': { type: 'string' },
    'no-auth': { type: 'boolean' },
    tls: { type: 'string' },
    'qualification-tokens': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const db = dbKind(values.db);
  if (db === 'postgres' && !values['db-url']) throw new UsageError('--db postgres needs --db-url postgres://USER@HOST:PORT/DB');
  const host = values.host ?? '127.0.0.1';
  // Qualification tokens are the TestScripts' own (unsigned) tokens: the same local-only rules as --no-auth.
  const noAuth = flags['no-auth'] === true || values['qualification-tokens'] !== undefined;
  const tls = values.tls === undefined ? undefined : { ura: values.tls };
  const problem = configurationProblem({ noAuth, national: flags.national, host, nationalUrl: values['national-url'], tls });
  if (problem) throw new UsageError(problem);
  if (noAuth) process.stderr.write(NO_AUTH_WARNING);
  let net;
  try {
    net = await startNetworkNode({
      port: port(values.port, 8080),
      host,
      db,
      dataDir: values.data ?? 'data',
      dbUrl: values['db-url'],
      national: flags.national,
      nationalUrl: values['national-url'],
      noAuth,
      tls,
      qualificationTokens: values['qualification-tokens'],
    });
  } catch (e) {
    if (e instanceof ConfigurationError) throw new UsageError(e.message);
    throw e;
  }
  if (!flags.national && !values['national-url'] && !noAuth) {
    process.stdout.write('No national services (--national or --national-url): only each organisation\'s own systems can reach its tenant.\n');
  } else if (net.provider) await net.provider.startDirectorySync().catch((e: Error) => process.stderr.write(`directory sync: ${e.message}\n`));
  const hosted = net.server.node.tenants.list().filter((t) => !isReservedTenant(t.tenant));
  const tenants = hosted.map((t) => t.tenant);
  // A hosted organisation acts at the national services (NVI registration, consent questions) with its own keys.
  for (const t of hosted) {
    if (!noAuth && t.ura && !net.keys.org(t.ura)) process.stderr.write(`note: organisation ${t.ura} (tenant ${t.tenant}) has no keys here yet: schakel keys issue --org ${t.ura} --name NAME\n`);
  }
  process.stdout.write(`Schakel FHIR server on ${net.url}${noAuth ? ' (NO AUTHENTICATION)' : ''}\n`);
  if (flags.national) process.stdout.write(`  national services: ${net.url}/national/{directory/fhir,consent,nvi/fhir,prs}\n`);
  process.stdout.write(tenants.length ? tenants.map((t) => `  ${net.url}/fhir/${t}\n`).join('') : '  no tenants yet: add one with `schakel tenant add NAME`\n');
  await waitForSignal();
  await net.close();
  return 0;
}

export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
