/** The `schakel` command: dispatches to subcommands; usage errors print a message naming the problem. */
import { UsageError } from './args.ts';
import { demoCommand } from './demo.ts';
import { serveCommand } from './serve.ts';
import { tenantCommand } from './tenant.ts';

const HELP = `Usage: schakel <command> [options]

Commands:
  demo          start a demo node with example data on the embedded database
  serve         serve the FHIR API of every tenant
  tenant        add or list tenants (care organisations)
  conformance   run Nictiz TestScripts against a FHIR server
  synth         generate a synthetic Dutch region
  import        bulk-load a generated region or NDJSON files into the database
  audit         verify the audit log's hash chain (tamper detection)
  keys          test PKI: organisation keys and UZI-style certificates, rotation
  token         get an access token as an organisation (to try the secured API with curl)

Run 'schakel <command> --help' for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => demoCommand,
  serve: async () => serveCommand,
  tenant: async () => tenantCommand,
  conformance: async () => (await import('../conformance/cli.ts')).conformanceCommand,
  synth: async () => (await import('../synth/cli.ts')).synthCommand,
  import: async () => (await import('./import.ts')).importCommand,
  audit: async () => (await import('./audit.ts')).auditCommand,
  keys: async () => (await import('../gf/auth/keys-cli.ts')).keysCommand,
  token: async () => (await import('./token.ts')).tokenCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`schakel: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`schakel ${name}: ${e.message}\nRun 'schakel ${name} --help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`schakel ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}
