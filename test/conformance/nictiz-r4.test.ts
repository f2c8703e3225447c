/**
 * The R4 Nictiz sets against the real server (SQLite in a temp dir, qualification tokens on). The test
 * asserts that the runner completes and reports counts for every set and format; the counts themselves
 * are printed (they measure the server, and the failures are the server team's work list).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runConformance } from '../../src/conformance/index.ts';
import { sharedPath } from '../../src/paths.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SETS = [
  { name: 'Immunization-2-0', tenant: 'imm', dir: sharedPath('fhir/nictiz-testscripts/r4/Immunization-2-0/MedMij/Test') },
  { name: 'MP9-3-0-0-beta', tenant: 'mp9', dir: sharedPath('fhir/nictiz-testscripts/r4/MP9-3-0-0-beta/MedMij/Test') },
];

describe('Nictiz R4 TestScripts against the real server', () => {
  let server: TestServer;
  let reports: string;

  before(async () => {
    reports = await mkdtemp(join(tmpdir(), 'schakel-conformance-r4-'));
    server = await startTestServer('sqlite', {
      tenants: SETS.map((s) => s.tenant),
      qualificationTokens: sharedPath('fhir/nictiz-testscripts/Configuration/QualificationTokens.json'),
    });
  });
  after(async () => {
    await server?.stop();
    await rm(reports, { recursive: true, force: true });
  });

  for (const set of SETS) {
    for (const format of ['json', 'xml'] as const) {
      it(`${set.name} ${format}`, async () => {
        const lines: string[] = [];
        const r = await runConformance({
          base: server.base(set.tenant),
          set: set.dir,
          // Load once per set; the xml run reads the same data.
          load: format === 'json',
          format,
          report: join(reports, `${set.name}-${format}`),
          log: (l) => lines.push(l),
        });
        const failures = lines.filter((l) => l.startsWith('FAIL') || l.startsWith('LOAD FAIL'));
        console.log(`# ${set.name} ${format}: ${r.passed} passed, ${r.failed} failed`);
        for (const f of failures) console.log(`#   ${f.slice(0, 400)}`);
        assert.equal(lines.at(-1), `${r.passed} passed, ${r.failed} failed`);
        assert.ok(r.passed + r.failed > 0, 'no server scripts were run');
        assert.equal(r.reports.length, r.passed + r.failed + (format === 'json' ? 1 : 0));
      });
    }
  }
});
