/**
 * `schakel demo`: the first start generates and loads a region (creating its tenants), onboards its organisations
 * and runs the consent walkthrough; the next start reuses it all (keys, directory, data).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyStore } from '../../src/gf/auth/pki.ts';
import { OrganisationTokens } from '../../src/gf/auth/token-client.ts';

const REPO = join(import.meta.dirname, '..', '..');
const data = mkdtempSync(join(tmpdir(), 'schakel-demo-test-'));
after(() => rmSync(data, { recursive: true, force: true }));

/** Starts the demo, waits until it serves, runs `fn` against its URL, then stops it with SIGTERM. */
async function withDemo(fn: (url: string, out: string) => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'schakel.js'), 'demo', '--port', '0', '--data', data, '--patients', '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Schakel demo on (http:\/\/\S+)/.exec(out);
      if (m && out.includes('Press Ctrl+C')) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`demo exited (${code}): ${out}\n${err}`)));
  });
  try {
    await fn(url, out);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return out + err;
}

describe('schakel demo', () => {
  it('loads a generated region on first start and reuses it on the next', { timeout: 300_000 }, async () => {
    const first = await withDemo(async (url, out) => {
      assert.match(out, /Loaded region \w+: \d+ resources into 9 tenants/);
      const region = JSON.parse(readFileSync(join(data, 'region-25', 'region.json'), 'utf8')) as { tenants: { id: string; resources: Record<string, number> }[] };
      const gp = region.tenants.find((t) => t.id === 'gp-01')! as { id: string; ura: string; resources: Record<string, number> };
      assert.equal((await fetch(`${url}/fhir/gp-01/Patient`)).status, 401, 'secure by default: no token, no data');
      // The GP's own system, with the key the demo issued it.
      const tokens = new OrganisationTokens(new KeyStore(data));
      const authorization = await tokens.authorization({ ura: gp.ura, tokenEndpoint: `${url}/auth/gp-01/token`, scope: 'system/*.read' });
      const res = await fetch(`${url}/fhir/gp-01/Patient?_summary=count`, { headers: { accept: 'application/fhir+json', authorization } });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { total: number }).total, gp.resources.Patient);
      assert.equal((await fetch(`${url}/fhir/huisarts/metadata`)).status, 200, 'the demo tenants are still there');
      // The walkthrough ran for real: refused, consent registered, data, withdrawn, refused.
      assert.match(out, /403 hospital asks the GP without consent[\s\S]*201 GP registers[\s\S]*200 hospital asks again, with consent — [1-9]\d* conditions[\s\S]*403 hospital asks after the withdrawal/);
    });
    assert.match(first, /loading region/);
    const second = await withDemo(async (_url, out) => {
      assert.match(out, /already loaded/);
      assert.match(out, /200 hospital asks again, with consent/);
    });
    assert.doesNotMatch(second, /Generating a synthetic region/);
  });
});
