/** `schakel synth`: generate a synthetic Dutch region as per-tenant NDJSON. */
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/args.ts';
import { DEFAULT_AS_OF, generateRegion, MAX_PATIENTS } from './generate.ts';
import { progressReporter } from './progress.ts';

const HELP = `Usage: schakel synth --patients N --out DIR [--seed S] [--region NAME] [--as-of YYYY-MM-DD] [--quiet]

Generates a synthetic Dutch care region: GP practices, a hospital, pharmacies, a lab, nursing care (VVT),
mental health care (GGZ), a GP out-of-hours post and an ambulance service, each a tenant with its own
nl-core/MP9 data for the patients it treated.

Options:
  --patients N      number of patients, 1..${MAX_PATIENTS} (the number of valid 999xxxxxx test BSNs)
  --out DIR         output directory: DIR/region.json and DIR/<tenant>/<ResourceType>.ndjson
  --seed S          random seed (default "schakel"); the same seed gives byte-identical output
  --region NAME     Utrecht (default), Groningen or Zuid-Limburg; other names reuse Utrecht's geography
  --as-of DATE      the day the histories run up to (default ${DEFAULT_AS_OF})
  --quiet           no progress output
  -h, --help        show this help
`;

export async function synthCommand(argv: string[]): Promise<number> {
  let values: { patients?: string; out?: string; seed?: string; region?: string; 'as-of'?: string; quiet?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        patients: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        region: { type: 'string' },
        'as-of': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const patients = parsePatients(values.patients);
    if (!values.out) throw new UsageError('--out DIR is required');
    const asOf = values['as-of'];
    if (asOf !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`)))) {
      throw new UsageError(`--as-of '${asOf}' is not a date (YYYY-MM-DD)`);
    }
    if (values.seed === '') throw new UsageError('--seed must not be empty');
    const started = Date.now();
    const summary = await generateRegion({
      patients,
      seed: values.seed ?? 'schakel',
      region: values.region,
      outDir: values.out,
      asOf,
      onProgress: values.quiet ? undefined : progressReporter(),
    });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `Generated region ${summary.region}: ${summary.patients} patients, ${summary.tenants.length} tenants, ` +
        `${summary.totalResources} resources in ${values.out} (${secs}s)\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    throw e;
  }
}

function usage(message: string): number {
  process.stderr.write(`schakel synth: ${message}\nRun 'schakel synth --help' for usage.\n`);
  return 2;
}

function parsePatients(value: string | undefined): number {
  if (value === undefined) throw new UsageError('--patients N is required');
  if (!/^\d+$/.test(value)) throw new UsageError(`--patients '${value}' is not a whole number`);
  const n = Number(value);
  if (n < 1 || n > MAX_PATIENTS) throw new UsageError(`--patients must be between 1 and ${MAX_PATIENTS}, got ${value}`);
  return n;
}
