/**
 * Runs every test file with node's test runner (spec reporter on stdout) and closes with the plain line
 * "N passed, N failed" that CI reads. Exit code 1 when anything failed or no test ran.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const filter = process.argv.slice(2);
const files = findTests('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
let passed = 0;
let failed = 0;
let skipped = 0;
// Test files inherit this process's --import tsx, so they run as TypeScript.
const stream = run({ files, concurrency: 2 });
stream.on('test:pass', (data) => {
  if (data.details?.type === 'suite') return;
  if (data.skip || data.todo) skipped++;
  else passed++;
});
stream.on('test:fail', (data) => {
  if (data.details?.type === 'suite' && !data.details.error?.message?.includes('subtest')) {
    // A suite that failed by itself (e.g. its hook threw) counts once; failures of its tests count as tests.
    const cause = data.details.error?.cause as { code?: string } | undefined;
    if (cause?.code !== 'ERR_TEST_FAILURE') failed++;
    return;
  }
  if (data.details?.type !== 'suite') failed++;
});
stream.compose(new spec()).pipe(process.stdout);
stream.on('end', () => {
  // Let the reporter flush before the summary line.
  setImmediate(() => {
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
  });
});
