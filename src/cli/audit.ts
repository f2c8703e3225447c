/** `schakel audit verify`: recomputes the audit log's hash chain and reports the first broken event. */
import { openNode } from '../node/provider-node.ts';
import { auditChainBroken, createLoggers, securitySink } from '../ops/logging.ts';
import { UsageError, dbKind, parse } from './args.ts';

export const AUDIT_HELP = `Usage: schakel audit verify [--data DIR | --db postgres --db-url URL]

Checks the NEN 7513 audit log for tampering: every event must link to the previous one by its hash.
Exit code 0 when intact, 1 when the chain is broken (the first broken event is named).
`;

export async function auditCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, db: { type: 'string' }, 'db-url': { type: 'string' } }, true);
  if (values.help) {
    process.stdout.write(AUDIT_HELP);
    return 0;
  }
  if (positionals[0] !== 'verify' || positionals.length !== 1) throw new UsageError(`expected 'verify', got '${positionals.join(' ')}'`);
  const db = dbKind(values.db);
  if (db === 'postgres' && !values['db-url']) throw new UsageError('--db postgres needs --db-url');
  const node = await openNode({ db, dataDir: values.data ?? 'data', dbUrl: values['db-url'] });
  try {
    const result = await node.audit.verify();
    if (result.ok) {
      process.stdout.write(`Audit log intact: ${result.checked} events verified\n`);
      return 0;
    }
    process.stdout.write(`Audit log BROKEN at event ${result.brokenAt}: ${result.reason} (${result.checked} events verified before it)\n`);
    // Tampering is a security event too: the security stream (stderr) is what a SIEM watches.
    auditChainBroken(securitySink(createLoggers({ ops: process.stdout }).security), result);
    return 1;
  } finally {
    await node.close();
  }
}
