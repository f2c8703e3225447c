/** Every organisation of a small generated region (src/synth) is published and found again through ITI-90. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateRegion, type RegionSummary } from '../../../src/synth/index.ts';
import { entriesFromRegionTenant } from '../../../src/gf/addressing/region.ts';
import { publish } from '../../../src/gf/addressing/publisher.ts';
import { URA_SYSTEM } from '../../../src/gf/addressing/constants.ts';
import { call, startTestDirectory, tokenFor, type TestDirectory } from './support.ts';

describe('a generated region in the directory', () => {
  let dir: TestDirectory;
  let out: string;
  let region: RegionSummary;

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'schakel-addr-region-'));
    await generateRegion({ patients: 1, seed: 'addressing', outDir: out });
    region = JSON.parse(readFileSync(join(out, 'region.json'), 'utf8')) as RegionSummary;
    dir = await startTestDirectory();
  });
  after(async () => {
    await dir.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('publishes every organisation of region.json, each with its own token', async () => {
    assert.ok(region.tenants.length >= 8, `tenants: ${region.tenants.length}`);
    for (const t of region.tenants) {
      const r = await publish(dir.base, entriesFromRegionTenant(t, 'http://node.example'), { authorization: () => tokenFor(t.ura) });
      assert.equal(r.locations.length, t.organisations.length + t.endpoints.length + t.healthcareServices.length, t.id);
    }
  });

  it('finds each of them through ITI-90: Organization by URA with its endpoint, departments, services', async () => {
    for (const t of region.tenants) {
      const r = await call(`${dir.base}/Organization?identifier=${URA_SYSTEM}|${t.ura}&_include=Organization:endpoint`, { ura: '99999999' });
      assert.equal(r.status, 200);
      const org = r.json.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Organization')?.resource;
      assert.equal(org?.name, t.name, t.id);
      const ep = r.json.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Endpoint')?.resource;
      assert.equal(ep?.address, `http://node.example/fhir/${t.id}`);
      const depts = await call(`${dir.base}/Organization?partof=Organization/${org.id}`, { ura: '99999999' });
      assert.deepEqual(
        (depts.json.entry ?? []).map((e: { resource: { name: string } }) => e.resource.name).sort(),
        t.organisations.filter((o) => o.partOf).map((o) => o.name).sort(),
      );
      const services = await call(`${dir.base}/HealthcareService?organization=Organization/${org.id}`, { ura: '99999999' });
      assert.deepEqual((services.json.entry ?? []).map((e: { resource: { name: string } }) => e.resource.name).sort(), t.healthcareServices.map((s) => s.name).sort());
    }
    const all = await call(`${dir.base}/Organization?_count=1000&_total=accurate`, { ura: '99999999' });
    assert.equal(all.json.entry.length, region.tenants.reduce((n, t) => n + t.organisations.length, 0));
  });
});
