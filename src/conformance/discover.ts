/**
 * Finding the TestScripts of a set: the server-SUT scripts to run and the `_LoadResources` scripts that
 * put the test data in place. Everything is read in place from the shared (test-only licensed) tree.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { TestScript } from 'fhir/r4';
import { parseResource, sniffFormat } from './resources.ts';

export const SUT_EXTENSION = 'http://fhir.interoplab.eu/fhir/StructureDefinition/Interoplab-CL-ext-SUT';

export type FormatFilter = 'json' | 'xml' | 'both';

export interface DiscoveredSet {
  /** `_LoadResources` scripts, in path order. */
  load: string[];
  /** Candidate scripts (format-filtered, not yet SUT-filtered: that needs parsing). */
  scripts: string[];
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      // Fixture folders hold resources, not scripts.
      if (e.name.startsWith('_reference')) continue;
      await walk(p, out);
    } else if (/\.(xml|json)$/i.test(e.name) && e.name !== 'properties.json') {
      out.push(p);
    }
  }
}

/** `json`/`xml` for `…-json.xml` / `…-xml.xml` variants, undefined for format-neutral scripts. */
export function scriptVariant(path: string): 'json' | 'xml' | undefined {
  const m = /-(json|xml)\.(xml|json)$/i.exec(basename(path));
  return m ? (m[1].toLowerCase() as 'json' | 'xml') : undefined;
}

export function matchesFormat(path: string, format: FormatFilter): boolean {
  const v = scriptVariant(path);
  return format === 'both' || v === undefined || v === format;
}

const isLoadScript = (p: string): boolean => p.split(/[\\/]/).includes('_LoadResources');

/**
 * Lists the scripts under dir. When dir is a sub-folder of a set (e.g. `…/Test/XIS-Server`), the
 * `_LoadResources` of the enclosing set is found by looking upwards, so `--load` works there too.
 */
export async function discoverSet(dir: string, format: FormatFilter): Promise<DiscoveredSet> {
  const root = resolve(dir);
  const files: string[] = [];
  await walk(root, files);
  const load = files.filter(isLoadScript);
  const scripts = files.filter((p) => !isLoadScript(p) && matchesFormat(p, format));
  if (load.length === 0) {
    for (let d = dirname(root), i = 0; i < 4 && d !== dirname(d); d = dirname(d), i++) {
      const candidate = join(d, '_LoadResources');
      const found: string[] = [];
      try {
        await walk(candidate, found);
      } catch {
        continue;
      }
      load.push(...found);
      break;
    }
  }
  return { load, scripts };
}

export async function isTestScriptFile(path: string): Promise<boolean> {
  const head = (await readFile(path, 'utf8')).slice(0, 400);
  return /<(\w+:)?TestScript[\s>]/.test(head) || /"resourceType"\s*:\s*"TestScript"/.test(head);
}

/** Reads a TestScript file (XML or JSON); not cached, as scripts are read once per run. */
export async function readTestScript(path: string): Promise<TestScript> {
  const text = await readFile(path, 'utf8');
  const r = await parseResource(text, sniffFormat(text) ?? 'xml');
  if (r.resourceType !== 'TestScript') throw new Error(`${path}: not a TestScript but ${r.resourceType}`);
  return r as TestScript;
}

/** A server test: the destination (the system under test) carries the Interoplab SUT flag = true. */
export function isServerSut(script: TestScript): boolean {
  return (script.destination ?? []).some((d) =>
    (d.extension ?? []).some((e) => e.url === SUT_EXTENSION && e.valueBoolean === true),
  );
}
