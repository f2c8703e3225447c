/**
 * `schakel serve` as an operator would run it: secure by default, without national services — each hosted
 * organisation's own systems get tokens and data; nobody else gets a token; no token, no data.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyStore } from '../../src/gf/auth/pki.ts';
import { OrganisationTokens } from '../../src/gf/auth/token-client.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'schakel.js');
const HOSTED = '90000011';
const OUTSIDER = '90000012';

describe('schakel serve (secure by default, no national services)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schakel-serve-'));
  let child: ChildProcess;
  let url: string;
  let out = '';

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };

  before(async () => {
    cli('tenant', 'add', 'praktijk', '--ura', HOSTED);
    cli('keys', 'init');
    cli('keys', 'issue', '--org', HOSTED, '--name', 'Praktijk');
    cli('keys', 'issue', '--org', OUTSIDER, '--name', 'Buitenstaander');
    child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /server on (http:\/\/\S+)/.exec(out);
        if (m && out.includes('/fhir/praktijk')) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${out}\n${err}`)));
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('says that no national services are configured', () => {
    assert.match(out, /No national services/);
    assert.doesNotMatch(out, /NO AUTHENTICATION/);
  });

  it('no token: 401 with an OperationOutcome', async () => {
    const res = await fetch(`${url}/fhir/praktijk/Patient`, { headers: { accept: 'application/fhir+json' } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
  });

  it("the hosted organisation's own system writes and reads with its token", async () => {
    const authorization = await new OrganisationTokens(new KeyStore(dir)).authorization({ ura: HOSTED, tokenEndpoint: `${url}/auth/praktijk/token`, scope: 'system/*.*' });
    const created = await fetch(`${url}/fhir/praktijk/Patient`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Jansen' }] }),
    });
    assert.equal(created.status, 201);
    const res = await fetch(`${url}/fhir/praktijk/Patient?family=jansen`, { headers: { authorization, accept: 'application/fhir+json' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { entry?: unknown[] }).entry?.length, 1);
  });

  it('an organisation that is neither hosted here nor in the directory gets no token', async () => {
    await assert.rejects(new OrganisationTokens(new KeyStore(dir)).token({ ura: OUTSIDER, tokenEndpoint: `${url}/auth/praktijk/token`, scope: 'system/*.read' }), /not registered/);
  });
});
