/**
 * Registry of the profiles and extension definitions the project knows, with snapshots on demand.
 *
 * Sources (in /work/shared, read in place), newest content first when the same canonical URL occurs twice:
 * nictiz-zib2020 (zib + nl-core, XML differentials), nictiz-mp9 (XML differentials), IPS (JSON snapshots),
 * the published nictiz zib2020 package (JSON extensions), and the older hl7nl ig-build (JSON snapshots).
 * Differentials get a generated snapshot, cached on disk (`.tmp/snapshot-cache/`, ignored by git) under a key
 * that hashes every source file, the core definitions and the generator source, so a changed input or
 * generator never serves a stale snapshot and a second process start skips both XML parsing and generation.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StructureDefinition } from 'fhir/r4';
import { parseFhirXml } from '../format/xml.ts';
import { REPO_ROOT, sharedPath } from '../../paths.ts';
import { R4_DIR, coreDefinitions, coreProfileDefinitions } from './core-definitions.ts';
import { generateSnapshot } from './snapshot.ts';

interface Source {
  dir: string[];
  format: 'json' | 'xml';
  /** File-name filter. */
  match: RegExp;
}

/** Earlier sources win for a URL defined more than once (they are the newer releases). */
const SOURCES: Source[] = [
  { dir: ['fhir', 'nictiz-zib2020', 'resources', 'nl-core'], format: 'xml', match: /\.xml$/ },
  { dir: ['fhir', 'nictiz-zib2020', 'resources', 'zib'], format: 'xml', match: /\.xml$/ },
  { dir: ['fhir', 'nictiz-mp9', 'Profiles'], format: 'xml', match: /\.xml$/ },
  { dir: ['fhir', 'ips', 'package'], format: 'json', match: /^StructureDefinition-.*\.json$/ },
  { dir: ['fhir', 'nictiz-zib2020-package-0.11.0-beta.1', 'package'], format: 'json', match: /^(ext|pattern)-.*\.json$/ },
  { dir: ['fhir', 'hl7nl-zib2020-ig-build', 'package'], format: 'json', match: /^StructureDefinition-.*\.json$/ },
];

interface Entry {
  url: string;
  file: string;
  format: 'json' | 'xml';
  /** Parsed JSON, kept for JSON sources (already parsed while indexing). */
  sd?: StructureDefinition;
}

export const CACHE_DIR = process.env.SCHAKEL_SNAPSHOT_CACHE ?? join(REPO_ROOT, '.tmp', 'snapshot-cache');

let index: Map<string, Entry> | undefined;
const contentHashes = new Map<string, string>();

function registry(): Map<string, Entry> {
  if (index) return index;
  index = new Map();
  for (const src of SOURCES) {
    const dir = sharedPath(...src.dir);
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => src.match.test(f));
    } catch {
      continue; // a missing source folder only means fewer profiles
    }
    for (const f of files.sort()) {
      const file = join(dir, f);
      const text = readFileSync(file, 'utf8');
      contentHashes.set(file, sha(text));
      if (src.format === 'json') {
        const sd = JSON.parse(text) as StructureDefinition;
        if (sd.resourceType !== 'StructureDefinition' || !sd.url || sd.kind === 'logical') continue;
        if (!index.has(sd.url)) index.set(sd.url, { url: sd.url, file, format: 'json', sd });
      } else {
        // XML is parsed only when the profile is needed; the canonical URL is the only top-level <url> element
        // (Extension.url is an attribute in XML).
        if (!/<StructureDefinition[\s>]/.test(text.slice(0, 2000))) continue;
        if (/<kind value="logical"/.test(text)) continue;
        const url = /<url value="([^"]+)"/.exec(text)?.[1];
        if (url && !index.has(url)) index.set(url, { url, file, format: 'xml' });
      }
    }
  }
  return index;
}

/** Canonical URLs of every known profile and extension definition (not the R4 core ones). */
export function listKnownProfiles(): string[] {
  return [...registry().keys()].sort();
}

const snapshots = new Map<string, StructureDefinition>();
const inProgress = new Set<string>();

let generatorVersion: string | undefined;
function genVersion(): string {
  generatorVersion ??= sha(readFileSync(fileURLToPath(new URL('./snapshot.ts', import.meta.url)), 'utf8'));
  return generatorVersion;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const stripVersion = (url: string): string => url.split('|')[0];

/** Problems the generator reported per profile (differential elements it could not place). */
export const snapshotProblems = new Map<string, string[]>();

/** StructureDefinition with a snapshot for a canonical URL: core, known profile, or undefined. */
export function getSnapshot(canonical: string): StructureDefinition | undefined {
  const url = stripVersion(canonical);
  const core = coreDefinitions().byUrl.get(url) ?? coreProfileDefinitions().get(url);
  if (core) return core;
  const hit = snapshots.get(url);
  if (hit) return hit;
  const entry = registry().get(url);
  if (!entry || inProgress.has(url)) return undefined;
  inProgress.add(url);
  try {
    const sd = load(entry);
    if (sd) snapshots.set(url, sd);
    return sd;
  } finally {
    inProgress.delete(url);
  }
}

function load(entry: Entry): StructureDefinition | undefined {
  if (entry.sd?.snapshot) return entry.sd;
  const key = cacheKey(entry);
  const cacheFile = join(CACHE_DIR, `${key}.json`);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { sd: StructureDefinition; problems: string[] };
    if (cached.problems.length) snapshotProblems.set(entry.url, cached.problems);
    return cached.sd;
  } catch {
    // not cached yet
  }
  const sd = source(entry);
  const { elements, problems } = generateSnapshot(sd, getSnapshot);
  const out: StructureDefinition = { ...sd, snapshot: { element: elements } };
  if (problems.length) snapshotProblems.set(entry.url, problems);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written under a temporary name then renamed, so a concurrent process never reads half a file.
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ sd: out, problems }));
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only checkout still validates; it only regenerates on every start.
  }
  return out;
}

const sources = new Map<string, StructureDefinition>();
function source(entry: Entry): StructureDefinition {
  if (entry.sd) return entry.sd;
  let sd = sources.get(entry.url);
  if (!sd) {
    sd = parseFhirXml(readFileSync(entry.file, 'utf8')) as StructureDefinition;
    sources.set(entry.url, sd);
  }
  return sd;
}

/**
 * One key per profile over the whole corpus: a generated snapshot also depends on the extension and datatype
 * profiles it unfolds, so any change to any source file, the generator or the core definitions invalidates all.
 */
function cacheKey(entry: Entry): string {
  return sha(`${corpusHash()}\n${entry.url}`);
}

let corpus: string | undefined;
function corpusHash(): string {
  if (corpus) return corpus;
  const h = createHash('sha256');
  h.update(genVersion());
  h.update(readFileSync(join(R4_DIR, '..', '..', '..', 'package.json')));
  for (const e of [...registry().values()].sort((a, b) => a.url.localeCompare(b.url))) h.update(`${e.url}\n${contentHashes.get(e.file)}\n`);
  corpus = h.digest('hex');
  return corpus;
}
