import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../../src/cli/args.ts';
import { keysCommand } from '../../../src/gf/auth/keys-cli.ts';
import { KeyStore, certificateIdentity, jwkMatchesCertificate } from '../../../src/gf/auth/pki.ts';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const code = await keysCommand(argv, (t) => chunks.push(t));
  return { code, out: chunks.join('') };
}

describe('schakel keys', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'schakel-keys-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('init creates the test CA once', async () => {
    const first = await run(['init', '--data', dir]);
    assert.equal(first.code, 0);
    assert.match(first.out, /Created test CA/);
    assert.equal(statSync(join(dir, 'keys/ca/ca.key.pem')).mode & 0o777, 0o600);
    const ca = new X509Certificate(readFileSync(join(dir, 'keys/ca/ca.cert.pem')));
    assert.equal(ca.ca, true);
    const again = await run(['init', '--data', dir]);
    assert.match(again.out, /exists already/);
    assert.equal(readFileSync(join(dir, 'keys/ca/ca.cert.pem'), 'utf8'), ca.toString(), 'unchanged');
  });

  it('issue writes a 0600 key and a certificate with the URA, signed by the CA', async () => {
    const r = await run(['issue', '--org', '12345678', '--name', 'Huisarts De Linden', '--uzi', '900012345', '--agb', '01234567', '--dns', 'huisarts.test,localhost', '--data', dir]);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.out, /PRIVATE KEY/);
    const files = readdirSync(join(dir, 'keys/orgs/12345678'));
    const keyFile = files.find((f) => f.endsWith('.key.pem'))!;
    assert.equal(statSync(join(dir, 'keys/orgs/12345678', keyFile)).mode & 0o777, 0o600);
    const certPem = readFileSync(join(dir, 'keys/orgs/12345678', keyFile.replace('.key.pem', '.cert.pem')), 'utf8');
    const id = certificateIdentity(certPem);
    assert.equal(id.ura, '12345678');
    assert.equal(id.uziSys, '900012345');
    assert.equal(id.agb, '01234567');
    assert.equal(id.otherName, '2.16.528.1.1007.99.2110-1-900012345-S-12345678-00.000-01234567');
    assert.deepEqual(id.dnsNames, ['huisarts.test', 'localhost']);
    assert.match(id.subject, /O=Huisarts De Linden/);
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(readFileSync(join(dir, 'keys/ca/ca.cert.pem')));
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
    assert.ok(cert.checkHost('huisarts.test'));
    assert.ok(cert.checkIP('127.0.0.1'));
    assert.match(cert.keyUsage?.join(' ') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/, 'serverAuth');
    assert.match(cert.keyUsage?.join(' ') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/, 'clientAuth');
  });

  it('rotate adds a key; both are in the JWKS with their kids, the new one is current', async () => {
    const r = await run(['rotate', '--org', '12345678', '--data', dir]);
    assert.equal(r.code, 0);
    assert.match(r.out, /still valid until expiry/);
    const store = new KeyStore(dir);
    const rec = store.org('12345678')!;
    assert.equal(rec.keys.length, 2);
    const jwks = JSON.parse((await run(['jwks', '--org', '12345678', '--data', dir])).out) as { keys: { kid: string; d?: string; x5c: string[] }[] };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), rec.keys.map((k) => k.kid).sort());
    for (const k of jwks.keys) {
      assert.equal(k.d, undefined);
      assert.ok(jwkMatchesCertificate(k, store.credential('12345678', { kid: k.kid }).certPem));
    }
    assert.equal(store.credential('12345678').kid, rec.keys[1].kid);
    const list = await run(['list', '--data', dir]);
    assert.match(list.out, new RegExp(`${rec.keys[1].kid}\\tcurrent`));
    assert.match(list.out, new RegExp(`${rec.keys[0].kid}\\tvalid`));
  });

  it('names the problem in usage errors', async () => {
    await assert.rejects(run(['issue', '--org', '1234', '--name', 'X', '--data', dir]), (e: Error) => e instanceof UsageError && /not a URA/.test(e.message));
    await assert.rejects(run(['issue', '--org', '12345678', '--data', dir]), (e: Error) => e instanceof UsageError && /--name/.test(e.message));
    await assert.rejects(run(['issue', '--org', '12345678', '--name', 'X', '--data', dir]), (e: Error) => e instanceof UsageError && /rotate/.test(e.message));
    await assert.rejects(run(['rotate', '--org', '87654321', '--data', dir]), (e: Error) => e instanceof UsageError && /no keys/.test(e.message));
    await assert.rejects(run(['frobnicate', '--data', dir]), (e: Error) => e instanceof UsageError && /Unknown keys action/.test(e.message));
    await assert.rejects(run(['issue', '--org', '12345678', '--name', 'X', '--days', '0', '--data', dir]), UsageError);
    const empty = mkdtempSync(join(tmpdir(), 'schakel-keys-empty-'));
    try {
      await assert.rejects(run(['issue', '--org', '12345678', '--name', 'X', '--data', empty]), (e: Error) => /keys init/.test(e.message));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    assert.equal((await run(['--help'])).code, 0);
    assert.equal((await run([])).code, 2);
  });
});
