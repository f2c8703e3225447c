/** `schakel demo`: the first start generates and loads a region (creating its tenants); the next start reuses it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

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
      if (m) resolve(m[1]);
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
      const gp = region.tenants.find((t) => t.id === 'gp-01')!;
      const res = await fetch(`${url}/fhir/gp-01/Patient?_summary=count`, { headers: { accept: 'application/fhir+json' } });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { total: number }).total, gp.resources.Patient);
      assert.equal((await fetch(`${url}/fhir/huisarts/metadata`)).status, 200, 'the demo tenants are still there');
    });
    assert.match(first, /loading region/);
    const second = await withDemo(async (_url, out) => {
      assert.match(out, /already loaded/);
    });
    assert.doesNotMatch(second, /Generating a synthetic region/);
  });
});
