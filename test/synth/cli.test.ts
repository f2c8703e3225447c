import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { synthCommand } from '../../src/synth/cli.ts';

/** Run the command with stdout/stderr captured. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await synthCommand(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

test('--help prints usage and exits 0', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /Usage: schakel synth --patients N --out DIR/);
});

test('bad arguments exit 2 with a message naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['--out', '/tmp/x'], /--patients N is required/],
    [['--patients', '10'], /--out DIR is required/],
    [['--patients', 'ten', '--out', '/tmp/x'], /'ten' is not a whole number/],
    [['--patients', '0', '--out', '/tmp/x'], /between 1 and 90909/],
    [['--patients', '100000', '--out', '/tmp/x'], /between 1 and 90909/],
    [['--patients', '5', '--out', '/tmp/x', '--as-of', '2025-13-45'], /not a date/],
    [['--patients', '5', '--out', '/tmp/x', '--bogus'], /Unknown option '--bogus'/],
    [['--patients', '5', '--out', '/tmp/x', 'extra'], /positional/],
  ];
  for (const [argv, msg] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, msg, argv.join(' '));
    assert.match(r.err, /schakel synth --help/);
  }
});

test('generates a region, reports on stdout, progress lines on a non-TTY stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'schakel-synth-cli-'));
  const r = await run(['--patients', '40', '--seed', '7', '--region', 'Groningen', '--out', dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Generated region Groningen: 40 patients/);
  assert.match(r.err, /synth: 40\/40 patients \(100%\)/);
  const region = JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8'));
  assert.equal(region.seed, '7');
  assert.equal(region.region, 'Groningen');
  assert.ok(existsSync(join(dir, 'gp-01', 'Patient.ndjson')));
  const quiet = await run(['--patients', '5', '--out', mkdtempSync(join(tmpdir(), 'schakel-synth-q-')), '--quiet']);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.err, '');
});
