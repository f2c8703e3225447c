/** Shared by the synth tests: generate into a temp dir and read the NDJSON back. */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { generateRegion, type RegionSummary } from '../../src/synth/generate.ts';

export interface Generated {
  dir: string;
  summary: RegionSummary;
}

const cache = new Map<string, Promise<Generated>>();

/** Generate once per (patients, seed) within a test process. */
export function generated(patients: number, seed: string): Promise<Generated> {
  const key = `${patients}/${seed}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'schakel-synth-'));
      const summary = await generateRegion({ patients, seed, outDir: dir });
      return { dir, summary };
    })();
    cache.set(key, p);
  }
  return p;
}

export function tenantsOf(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory())
    .sort();
}

export function readTenant(dir: string, tenant: string): Map<string, Resource[]> {
  const out = new Map<string, Resource[]>();
  for (const f of readdirSync(join(dir, tenant)).sort()) {
    const type = f.replace(/\.ndjson$/, '');
    const lines = readFileSync(join(dir, tenant, f), 'utf8').split('\n').filter(Boolean);
    out.set(type, lines.map((l) => JSON.parse(l) as Resource));
  }
  return out;
}

/** All relative references (`Type/id`) anywhere in a resource, plus attachment URLs pointing at a Binary. */
export function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'reference' || (k === 'url' && typeof v === 'string' && v.startsWith('Binary/'))) && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}
