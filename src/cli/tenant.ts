/** `schakel tenant add|list`: manage the tenants (care organisations) of a node's database. */
import { openNode } from '../node/provider-node.ts';
import { checkTenantName, checkUra } from '../tenants/registry.ts';
import { UsageError, dbKind, parse } from './args.ts';

export const TENANT_HELP = `Usage:
  schakel tenant add NAME [--ura N] [--name TEXT] [--validate-profiles] [--data DIR | --db postgres --db-url URL]
  schakel tenant list [--data DIR | --db postgres --db-url URL]

A tenant is one care organisation's FHIR store, served at /fhir/NAME.

Options:
  --ura N                 the organisation's URA (8 digits)
  --name TEXT             display name (default NAME)
  --validate-profiles     writes must also conform to the profiles they declare in meta.profile
                          (nl-core/zib2020, MP9, IPS); violations are refused with 422
  --data DIR              data directory of the embedded SQLite database (default ./data)
  --db sqlite|postgres    storage engine (default sqlite)
  --db-url URL            PostgreSQL connection URL
  -h, --help              show this help
`;

export async function tenantCommand(argv: string[]): Promise<number> {
  const { values, flags, positionals } = parse(
    argv,
    { ura: { type: 'string' }, name: { type: 'string' }, data: { type: 'string' }, db: { type: 'string' }, 'db-url': { type: 'string' }, 'validate-profiles': { type: 'boolean' } },
    true,
  );
  if (values.help || positionals.length === 0) {
    process.stdout.write(TENANT_HELP);
    return values.help ? 0 : 2;
  }
  const [action, name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'`);
  if (action === 'add') {
    if (!name) throw new UsageError('tenant add needs a NAME');
    const problem = checkTenantName(name) ?? (values.ura ? checkUra(values.ura) : undefined);
    if (problem) throw new UsageError(problem);
  } else if (action !== 'list') {
    throw new UsageError(`Unknown tenant action '${action}': use add or list`);
  }
  const db = dbKind(values.db);
  if (db === 'postgres' && !values['db-url']) throw new UsageError('--db postgres needs --db-url');
  const node = await openNode({ db, dataDir: values.data ?? 'data', dbUrl: values['db-url'] });
  try {
    if (action === 'add') {
      if (node.tenants.get(name!)) throw new UsageError(`Tenant '${name}' exists already`);
      const t = await node.tenants.add({ tenant: name!, ura: values.ura, name: values.name, settings: { validateProfilesOnWrite: Boolean(flags['validate-profiles']) } });
      process.stdout.write(`Added tenant ${t.tenant}${t.ura ? ` (URA ${t.ura})` : ''}: FHIR base /fhir/${t.tenant}\n`);
    } else {
      const list = node.tenants.list();
      if (list.length === 0) process.stdout.write('No tenants.\n');
      for (const t of list) process.stdout.write(`${t.tenant}\t${t.ura ?? '-'}\t${t.name}${t.settings.validateProfilesOnWrite ? '\t(profile validation on write)' : ''}\n`);
    }
  } finally {
    await node.close();
  }
  return 0;
}
