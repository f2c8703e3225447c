/**
 * Throughput of core validation on real examples: `node --import tsx bench/validation.ts [seconds]`.
 * Prints validations/s and µs per resource for a typical Observation and for the whole example mix.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { sharedPath } from '../src/paths.ts';
import { validateCore, warmUpCore } from '../src/fhir/validation/core.ts';

const seconds = Number(process.argv[2] ?? 2);
const dir = sharedPath('fhir', 'hl7nl-zib2020-ig-build', 'package', 'example');
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { resourceType: string; id?: string });

const t0 = performance.now();
warmUpCore();
console.log(`compile all core models: ${(performance.now() - t0).toFixed(0)} ms`);

function run(label: string, resources: unknown[]): void {
  let n = 0;
  let issues = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) issues += validateCore(resources[n++ % resources.length]).length;
  }
  const elapsed = performance.now() - (end - seconds * 1000);
  console.log(`${label}: ${Math.round((n / elapsed) * 1000)} validations/s, ${((elapsed * 1000) / n).toFixed(1)} µs each (${issues} issues)`);
}

const obs = all.find((r) => r.id === 'nl-core-LaboratoryTestResult-01') ?? all.find((r) => r.resourceType === 'Observation')!;
console.log(`typical Observation: ${obs.id}, ${JSON.stringify(obs).length} bytes JSON`);
run('Observation', [obs]);
run(`ig-build example mix (${all.length} resources)`, all);

// Profile validation (core + declared nl-core profiles): not on the write path, measured for $validate.
const { validateResource } = await import('../src/fhir/validation/index.ts');
const t1 = performance.now();
for (const r of all) validateResource(r);
console.log(`first profile validation of all examples (load, snapshots, terminology): ${(performance.now() - t1).toFixed(0)} ms`);
{
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < end) validateResource(all[n++ % all.length]);
  const ms = performance.now() - start;
  console.log(`profile validation, example mix: ${Math.round((n / ms) * 1000)} validations/s, ${((ms * 1000) / n).toFixed(0)} µs each`);
}
