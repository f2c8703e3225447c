/**
 * ValueSets and CodeSystems of the profile packages (nictiz zib2020 package and terminology folders, MP9,
 * IPS) layered over the R4 core terminology. XML sources are parsed once and cached on disk as one JSON file
 * keyed by the hash of all source files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFhirXml } from '../format/xml.ts';
import { sharedPath } from '../../paths.ts';
import { CACHE_DIR } from './profiles.ts';
import { Terminology, coreTerminology } from './terminology.ts';

const DIRS: { dir: string[]; format: 'json' | 'xml' }[] = [
  { dir: ['fhir', 'nictiz-zib2020', 'resources', 'zib', 'terminology'], format: 'xml' },
  { dir: ['fhir', 'nictiz-zib2020', 'resources', 'zib', 'terminology', 'manual'], format: 'xml' },
  { dir: ['fhir', 'nictiz-zib2020', 'resources', 'nl-core', 'terminology'], format: 'xml' },
  { dir: ['fhir', 'nictiz-mp9', 'Profiles', 'terminology'], format: 'xml' },
  { dir: ['fhir', 'nictiz-zib2020-package-0.11.0-beta.1', 'package'], format: 'json' },
  { dir: ['fhir', 'ips', 'package'], format: 'json' },
];

const WANTED = /^(ValueSet|CodeSystem)-/;

let terminology: Terminology | undefined;

export function profileTerminology(): Terminology {
  if (terminology) return terminology;
  const files: { file: string; format: 'json' | 'xml'; text: string }[] = [];
  const h = createHash('sha256');
  for (const d of DIRS) {
    let names: string[];
    try {
      names = readdirSync(sharedPath(...d.dir)).filter((f) => WANTED.test(f) && f.endsWith(`.${d.format}`));
    } catch {
      continue;
    }
    for (const f of names.sort()) {
      const file = join(sharedPath(...d.dir), f);
      const text = readFileSync(file, 'utf8');
      h.update(`${file}\n${text}`);
      files.push({ file, format: d.format, text });
    }
  }
  const cacheFile = join(CACHE_DIR, `terminology-${h.digest('hex')}.json`);
  let resources: { resourceType?: string }[] | undefined;
  try {
    resources = JSON.parse(readFileSync(cacheFile, 'utf8')) as { resourceType?: string }[];
  } catch {
    resources = [];
    for (const f of files) {
      try {
        resources.push(f.format === 'json' ? (JSON.parse(f.text) as { resourceType?: string }) : parseFhirXml(f.text));
      } catch {
        // One malformed file must not take the others down; its ValueSet is then simply unknown.
      }
    }
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      writeFileSync(`${cacheFile}.${process.pid}.tmp`, JSON.stringify(resources));
      renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
    } catch {
      // read-only checkout: parse again next time
    }
  }
  const t = new Terminology(coreTerminology());
  for (const r of resources) t.add(r);
  terminology = t;
  return t;
}
