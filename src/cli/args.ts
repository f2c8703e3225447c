/** Argument parsing shared by the subcommands: node's parseArgs, with messages that name the problem. */
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export interface Parsed {
  /** String options (`--name value`). */
  values: Record<string, string | undefined> & { help?: boolean };
  /** Boolean options (`--flag`). */
  flags: Record<string, boolean | undefined>;
  positionals: string[];
}

/** Parses `--name value` string options (plus -h/--help); unknown options are a UsageError. */
export function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    const strings: Record<string, string | undefined> = {};
    const flags: Record<string, boolean | undefined> = {};
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === 'boolean') flags[k] = v;
      else if (typeof v === 'string') strings[k] = v;
    }
    return { values: Object.assign(strings, { help: flags.help }) as Parsed['values'], flags, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function port(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port '${value}' is not a port number (0-65535)`);
  return n;
}

export function dbKind(value: string | undefined): 'sqlite' | 'postgres' {
  if (value === undefined || value === 'sqlite') return 'sqlite';
  if (value === 'postgres' || value === 'postgresql') return 'postgres';
  throw new UsageError(`--db '${value}' is not supported: use sqlite or postgres`);
}
