/** `schakel conformance …`: argument parsing and exit codes around runConformance. */
import { parseArgs } from 'node:util';
import { runConformance } from './run.ts';

export const USAGE = `Usage: schakel conformance --base URL --set DIR [--load] [--format json|xml|both] [--report DIR]

Runs the server-side Nictiz TestScripts under DIR against the FHIR base URL.

  --base URL        FHIR base of the server under test, e.g. http://127.0.0.1:8080/fhir/default
  --set DIR         a TestScript set, e.g. ../shared/fhir/nictiz-testscripts/r4/Immunization-2-0/MedMij/Test
  --load            first run the set's _LoadResources script(s): purge the test patients, PUT every fixture
  --format F        json, xml or both (default): which script variants to run
  --report DIR      directory for one TestReport (JSON) per script; default a new temp directory
  -h, --help        this text

Prints a line per script and finally "N passed, N failed". Exit code 0 when all passed, 1 when some
failed, 2 for bad arguments or when the run could not start.`;

/** Runs the command; returns the process exit code (0 all passed, 1 failures, 2 usage/setup error). */
export async function conformanceCommand(
  argv: string[],
  io: { out?: (line: string) => void; err?: (line: string) => void } = {},
): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  let values: { base?: string; set?: string; load?: boolean; format?: string; report?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        base: { type: 'string' },
        set: { type: 'string' },
        load: { type: 'boolean' },
        format: { type: 'string' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`schakel conformance: ${(e as Error).message}`);
    err(USAGE);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const problems: string[] = [];
  if (!values.base) problems.push('--base URL is required');
  else if (!/^https?:\/\//i.test(values.base)) problems.push(`--base must be an http(s) URL, got "${values.base}"`);
  if (!values.set) problems.push('--set DIR is required');
  const format = values.format ?? 'both';
  if (format !== 'json' && format !== 'xml' && format !== 'both') problems.push(`--format must be json, xml or both, got "${format}"`);
  if (problems.length) {
    for (const p of problems) err(`schakel conformance: ${p}`);
    err('Run "schakel conformance --help" for usage.');
    return 2;
  }
  try {
    const r = await runConformance({
      base: values.base as string,
      set: values.set as string,
      load: values.load ?? false,
      format: format as 'json' | 'xml' | 'both',
      report: values.report,
      log: out,
    });
    return r.failed === 0 ? 0 : 1;
  } catch (e) {
    err(`schakel conformance: ${(e as Error).message}`);
    return 2;
  }
}
