/**
 * Every shared example instance (nl-core zib2020 XML, the ig-build JSON examples, IPS, the MP9 fixtures) loads
 * over HTTP, reads back equal apart from meta, is found by a search on its own indexed values, and survives
 * JSON → XML → JSON through the server. Runs on every engine.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Resource } from 'fhir/r4';
import { expandTree } from '../../src/conformance/placeholders.ts';
import { parseFhirXml } from '../../src/fhir/format/xml.ts';
import { sharedPath } from '../../src/paths.ts';
import { extractIndexRows } from '../../src/search/extract.ts';
import { engineNames } from '../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

interface Example {
  file: string;
  resource: Resource;
}

function load(dir: string, kind: 'json' | 'xml', filter: (f: string) => boolean = () => true): Example[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(`.${kind}`) && filter(f))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      const resource = kind === 'json' ? (JSON.parse(text) as Resource) : parseFhirXml(text);
      return { file: f, resource };
    });
}

const SETS: Record<string, () => Example[]> = {
  'nictiz-zib2020 examples (XML)': () => load(sharedPath('fhir', 'nictiz-zib2020', 'examples'), 'xml'),
  'hl7nl-zib2020 ig-build examples': () => load(sharedPath('fhir', 'hl7nl-zib2020-ig-build', 'package', 'example'), 'json'),
  'IPS examples': () => load(sharedPath('fhir', 'ips', 'package', 'example'), 'json'),
  'MP9 fixtures': () =>
    load(sharedPath('fhir', 'nictiz-testscripts', 'r4', 'MP9-3-0-0-beta', 'MedMij', 'Test', '_reference-medmij', 'fixtures'), 'xml').map((e) => ({
      file: e.file,
      resource: expandTree(e.resource, { now: new Date() }),
    })),
};

/** Drop meta (server-managed) for comparison; also ids are the same since we PUT with the example's id. */
function withoutMeta(r: Resource): unknown {
  const { meta: _m, ...rest } = r as Resource & { meta?: unknown };
  return rest;
}

/** FHIR search escaping (search.html#escaping): \\ , $ | are escaped with a backslash inside values. */
const esc = (v: string) => v.replace(/[\\,$|]/g, (c) => `\\${c}`);

/** One indexed token or string value of the resource, as a search query that must find it. */
function searchFor(r: Resource): string | undefined {
  const rows = extractIndexRows(r);
  const tok = rows.idx_token.find((t) => t.code && !t.param.startsWith('_') && t.code.length < 200);
  if (tok) return `${tok.param}=${encodeURIComponent(tok.system ? `${esc(tok.system)}|${esc(tok.code!)}` : esc(tok.code!))}`;
  const str = rows.idx_string.find((s) => s.exact && !s.param.startsWith('_') && s.exact.length < 100);
  if (str) return `${str.param}:exact=${encodeURIComponent(esc(str.exact))}`;
  return undefined;
}

for (const engine of engineNames()) {
  describe(`shared examples round-trip (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine, { tenants: ['examples'] });
    });
    after(() => s.stop());

    for (const [name, loader] of Object.entries(SETS)) {
      it(name, async () => {
        const examples = loader().filter((e) => e.resource.id);
        assert.ok(examples.length > 0, `${name}: no examples found`);
        const base = s.base('examples');
        const failures: string[] = [];
        let searched = 0;
        for (const { file, resource } of examples) {
          const url = `${base}/${resource.resourceType}/${resource.id}`;
          const put = await fhir(url, { method: 'PUT', body: resource });
          if (put.status !== 200 && put.status !== 201) {
            failures.push(`${file}: PUT ${put.status} ${JSON.stringify(put.json?.issue?.slice(0, 2))}`);
            continue;
          }
          const read = await fhir(url);
          try {
            assert.deepEqual(withoutMeta(read.json), withoutMeta(resource));
          } catch {
            failures.push(`${file}: read back differs`);
            continue;
          }
          const xml = await fetch(`${url}?_format=xml`).then((r) => r.text());
          try {
            assert.deepEqual(withoutMeta(parseFhirXml(xml)), withoutMeta(read.json));
          } catch (e) {
            failures.push(`${file}: JSON→XML→JSON differs (${(e as Error).message.slice(0, 120)})`);
            continue;
          }
          const q = searchFor(resource);
          if (q) {
            searched++;
            const found = await fhir(`${base}/${resource.resourceType}?${q}&_id=${resource.id}`);
            if (found.json?.entry?.length !== 1) failures.push(`${file}: not found by ${q} (${found.status} ${found.text.slice(0, 200)})`);
          }
        }
        assert.deepEqual(failures, [], `${failures.length} of ${examples.length} failed`);
        assert.ok(searched > examples.length / 2, `only ${searched} of ${examples.length} had a searchable value`);
      });
    }
  });
}
