/** The PRS over HTTP with the client and the recipient helper: determinism, unlinkability, single use, expiry, rotation, errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { PseudonymClient, createBlindedInput } from '../../../src/gf/pseudonym/client.ts';
import { bsnIdentifier, hkdfInput, type Recipient } from '../../../src/gf/pseudonym/identifier.ts';
import { PrsKeyStore } from '../../../src/gf/pseudonym/keys.ts';
import { b64u, directElement } from '../../../src/gf/pseudonym/oprf.ts';
import { PseudonymRecipient, PseudonymRejected, decodeNviIdentifier } from '../../../src/gf/pseudonym/recipient.ts';
import { PRS_ISSUER } from '../../../src/gf/pseudonym/service.ts';
import { makeRecipient, postJson, startPrs, type TestPrs } from './_support.ts';

const NVI: Recipient = { organization: 'ura:90000901', scope: 'nationale-verwijsindex' };
const OTHER: Recipient = { organization: 'ura:90000902', scope: 'nationale-verwijsindex' };
const NVI_OTHER_SCOPE: Recipient = { organization: 'ura:90000901', scope: 'research' };
const PATIENT = bsnIdentifier('999911120');
const PATIENT2 = bsnIdentifier('999911132');

let prs: TestPrs;
let nvi: Awaited<ReturnType<typeof makeRecipient>>;
let other: Awaited<ReturnType<typeof makeRecipient>>;
let client: PseudonymClient;
let dir: string;
const clock = Date.now();

const recipientFor = (r: Awaited<ReturnType<typeof makeRecipient>>, extra: Partial<ConstructorParameters<typeof PseudonymRecipient>[0]> = {}) =>
  new PseudonymRecipient({ organization: r.recipient.organization, scopes: r.recipient.scopes, privateKey: r.recipient.privateKey, issuer: PRS_ISSUER, ...extra });

async function pseudonymFor(id = PATIENT, target: Recipient = NVI, r = nvi, keyVersion?: number) {
  const parts = await client.evaluate(id, target, { keyVersion });
  return (await recipientFor(r).open(parts.evaluated_output, parts.blind_factor)).pseudonym;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'schakel-prs-'));
  nvi = await makeRecipient(NVI.organization, [NVI.scope, NVI_OTHER_SCOPE.scope]);
  other = await makeRecipient(OTHER.organization, [OTHER.scope], 'RSA-OAEP');
  prs = await startPrs({
    recipients: [nvi, other],
    keyFile: join(dir, 'prs-keys.json'),
    projects: [{ id: 'study-1', pseudonymisers: ['11111111'], depseudonymisers: ['22222222'] }, { id: 'study-2', pseudonymisers: ['11111111'], depseudonymisers: [] }],
    now: () => clock,
  });
  client = new PseudonymClient({ prsUrl: prs.url, token: () => 'node-a' });
});
after(async () => {
  await prs.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('evaluate', () => {
  test('same recipient + scope ⇒ same pseudonym across separate blindings; equals k·H(HKDF(id)) computed directly', async () => {
    const a = await pseudonymFor();
    const b = await pseudonymFor();
    assert.equal(a, b);
    const direct = b64u.encode(directElement(prs.keys.oprfKey(prs.keys.currentVersion, NVI), hkdfInput(PATIENT, NVI)));
    assert.equal(a, direct);
    assert.notEqual(a, await pseudonymFor(PATIENT2), 'different patients differ');
  });

  test('the JWE: RSA-OAEP-256 + A256GCM for the recipient key, aud/iss/scope, exp − iat ≤ 60 s, unique jti, no-store', async () => {
    const input = createBlindedInput(PATIENT, NVI);
    const r1 = await postJson(`${prs.url}/evaluate`, { ...input, recipient_organization: NVI.organization, recipient_scope: NVI.scope }, 'node-a');
    const r2 = await postJson(`${prs.url}/evaluate`, { ...input, recipient_organization: NVI.organization, recipient_scope: NVI.scope }, 'node-a');
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(r1.json), ['evaluated_output']);
    const h = decodeProtectedHeader(r1.json.evaluated_output);
    assert.equal(h.alg, 'RSA-OAEP-256');
    assert.equal(h.enc, 'A256GCM');
    assert.equal(h.kid, 'ura:90000901-1');
    assert.equal(r1.json.evaluated_output.split('.').length, 5, 'compact JWE');
    assert.throws(() => decodeJwt(r1.json.evaluated_output), 'the claims are encrypted, not readable by the client');
    const opened = await recipientFor(nvi).open(r1.json.evaluated_output, input.blind_factor);
    assert.equal(opened.scope, NVI.scope);
    assert.equal(opened.keyVersion, prs.keys.currentVersion);
    // A second evaluation of the very same blinded input is a different token (fresh jti), same pseudonym.
    assert.notEqual(r1.json.evaluated_output, r2.json.evaluated_output);
    assert.equal((await recipientFor(nvi).open(r2.json.evaluated_output, input.blind_factor)).pseudonym, opened.pseudonym);
    // RSA-OAEP recipients get RSA-OAEP.
    const o = await client.evaluate(PATIENT, OTHER);
    assert.equal(decodeProtectedHeader(o.evaluated_output).alg, 'RSA-OAEP');
  });

  test('single use: the recipient helper refuses a second use of the same JWE', async () => {
    const parts = await client.evaluate(PATIENT, NVI);
    const rec = recipientFor(nvi);
    await rec.open(parts.evaluated_output, parts.blind_factor);
    await assert.rejects(rec.open(parts.evaluated_output, parts.blind_factor), (e: unknown) => e instanceof PseudonymRejected && e.reason === 'replayed');
  });

  test('expiry: refused after 60 s', async () => {
    const parts = await client.evaluate(PATIENT, NVI);
    const late = recipientFor(nvi, { now: () => clock + 61_000 });
    await assert.rejects(late.open(parts.evaluated_output, parts.blind_factor), (e: unknown) => e instanceof PseudonymRejected && e.reason === 'expired');
    // Within the lifetime it opens.
    await recipientFor(nvi, { now: () => clock + 30_000 }).open(parts.evaluated_output, parts.blind_factor);
  });

  test('a JWE for one recipient cannot be opened by another, nor used for another scope', async () => {
    const parts = await client.evaluate(PATIENT, NVI);
    await assert.rejects(recipientFor(other).open(parts.evaluated_output, parts.blind_factor), (e: unknown) => e instanceof PseudonymRejected && e.reason === 'decrypt');
    const scoped = await client.evaluate(PATIENT, NVI_OTHER_SCOPE);
    const nviOnly = new PseudonymRecipient({ organization: NVI.organization, scopes: [NVI.scope], privateKey: nvi.recipient.privateKey });
    await assert.rejects(nviOnly.open(scoped.evaluated_output, scoped.blind_factor), (e: unknown) => e instanceof PseudonymRejected && e.reason === 'scope');
  });

  test('NVI identifier encoding: base64url JSON {evaluated_output, blind_factor}', async () => {
    const value = await client.nviIdentifier(PATIENT, NVI);
    assert.match(value, /^[A-Za-z0-9_-]+$/);
    const parts = decodeNviIdentifier(value)!;
    assert.deepEqual(Object.keys(JSON.parse(Buffer.from(value, 'base64url').toString())), ['evaluated_output', 'blind_factor']);
    assert.equal((await recipientFor(nvi).openNviIdentifier(value)).pseudonym, await pseudonymFor());
    assert.ok(parts.blind_factor.length > 0);
  });
});

describe('unlinkability', () => {
  test('one patient, two recipients (other organisation, or same organisation other scope) ⇒ different pseudonyms', async () => {
    const atNvi = await pseudonymFor(PATIENT, NVI, nvi);
    const atOther = await pseudonymFor(PATIENT, OTHER, other);
    const otherScope = await pseudonymFor(PATIENT, NVI_OTHER_SCOPE, nvi);
    assert.equal(new Set([atNvi, atOther, otherScope]).size, 3);
  });

  test('no key-ratio link: even knowing both recipient keys, N_B ≠ (k_B / k_A)·N_A because the OPRF inputs differ', async () => {
    const { ristretto255 } = await import('@noble/curves/ed25519.js');
    const Fn = ristretto255.Point.Fn;
    const v = prs.keys.currentVersion;
    const kA = Fn.fromBytes(prs.keys.oprfKey(v, NVI));
    const kB = Fn.fromBytes(prs.keys.oprfKey(v, OTHER));
    assert.notEqual(kA, kB, 'per-recipient OPRF keys');
    for (const id of [PATIENT, PATIENT2]) {
      const nA = ristretto255.Point.fromBytes(b64u.decode(await pseudonymFor(id, NVI, nvi))!);
      const nB = b64u.encode(ristretto255.Point.fromBytes(b64u.decode(await pseudonymFor(id, OTHER, other))!).toBytes());
      const mapped = b64u.encode(nA.multiply(Fn.mul(kB, Fn.inv(kA))).toBytes());
      assert.notEqual(mapped, nB);
    }
  });

  test('the PRS sees only blinded inputs: two requests for one patient share no bytes with each other or the BSN', async () => {
    const a = createBlindedInput(PATIENT, NVI);
    const b = createBlindedInput(PATIENT, NVI);
    assert.notEqual(a.blinded_input, b.blinded_input);
    const logs = prs.logs.join('');
    assert.ok(!logs.includes(PATIENT.value) && !logs.includes(PATIENT2.value), 'no BSN in PRS logs');
    assert.ok(logs.includes('prs.evaluate'), 'logs were captured');
    assert.ok(!/blinded_input|evaluated_output|blind_factor/.test(logs), 'no OPRF values in PRS logs');
  });
});

describe('keys', () => {
  test('rotation: new default version, the old one still evaluates when asked; file is 0600 and survives a restart', async () => {
    const v1 = prs.keys.currentVersion;
    const before1 = await pseudonymFor();
    const rot = await postJson(`${prs.url}/keys/rotate`, {}, 'admin');
    assert.equal(rot.status, 200);
    assert.equal(rot.json.current, v1 + 1);
    const after2 = await pseudonymFor();
    assert.notEqual(after2, before1, 'new default key ⇒ new pseudonym');
    assert.equal(await pseudonymFor(PATIENT, NVI, nvi, v1), before1, 'old version on request');
    const mode = statSync(join(dir, 'prs-keys.json')).mode & 0o777;
    assert.equal(mode, 0o600);
    const reopened = PrsKeyStore.open({ file: join(dir, 'prs-keys.json') });
    assert.equal(reopened.currentVersion, v1 + 1);
    assert.deepEqual(reopened.oprfKey(v1, NVI), prs.keys.oprfKey(v1, NVI));
    assert.equal(JSON.stringify(reopened).includes('Seed'), false, 'JSON form shows versions only');
    const bad = await postJson(`${prs.url}/keys/rotate`, {}, 'node-a');
    assert.equal(bad.status, 403);
  });

  test('sealed key file with a key-encryption key: no seed readable without the KEK', () => {
    const kek = new Uint8Array(32).fill(9);
    const file = join(dir, 'sealed.json');
    const ks = PrsKeyStore.open({ file, kek });
    ks.rotate();
    const text = readFileSync(file, 'utf8');
    assert.match(text, /\+sealed/);
    assert.doesNotMatch(text, /oprfSeed/);
    assert.throws(() => PrsKeyStore.open({ file }), /sealed/);
    assert.deepEqual(PrsKeyStore.open({ file, kek }).oprfKey(2, NVI), ks.oprfKey(2, NVI));
  });
});

describe('errors', () => {
  const good = () => ({ ...createBlindedInput(PATIENT, NVI), recipient_organization: NVI.organization, recipient_scope: NVI.scope });
  const cases: [string, (b: Record<string, unknown>) => unknown, number, string][] = [
    ['missing blinded_input', (b) => ({ ...b, blinded_input: undefined }), 400, 'blinded_input'],
    ['blinded_input not base64url', (b) => ({ ...b, blinded_input: 'a+b/c' }), 400, 'blinded_input'],
    ['blinded_input wrong length', (b) => ({ ...b, blinded_input: b64u.encode(new Uint8Array(16)) }), 400, 'blinded_input'],
    ['blinded_input the identity', (b) => ({ ...b, blinded_input: b64u.encode(new Uint8Array(32)) }), 400, 'blinded_input'],
    ['blinded_input not an element', (b) => ({ ...b, blinded_input: b64u.encode(new Uint8Array(32).fill(0xff)) }), 400, 'blinded_input'],
    ['recipient_organization without ura:', (b) => ({ ...b, recipient_organization: '90000901' }), 400, 'recipient_organization'],
    ['recipient_scope missing', (b) => ({ ...b, recipient_scope: '' }), 400, 'recipient_scope'],
    ['key_version unknown', (b) => ({ ...b, key_version: 99 }), 400, 'key_version'],
    ['unregistered recipient', (b) => ({ ...b, recipient_organization: 'ura:12345678' }), 404, 'recipient_organization'],
    ['unregistered scope', (b) => ({ ...b, recipient_scope: 'elsewhere' }), 404, 'recipient_scope'],
  ];
  for (const [name, mutate, status, field] of cases) {
    test(`${name} → ${status} naming ${field}`, async () => {
      const r = await postJson(`${prs.url}/evaluate`, mutate(good()), 'node-a');
      assert.equal(r.status, status);
      assert.equal(r.json.resourceType, 'OperationOutcome');
      assert.deepEqual(r.json.issue[0].expression, [field]);
      assert.match(r.json.issue[0].diagnostics, new RegExp(field));
    });
  }
  test('not JSON → 400; no token → 401; token without prs:read → 403; other content type → 415', async () => {
    assert.equal((await postJson(`${prs.url}/evaluate`, '{', 'node-a')).status, 400);
    const noTok = await postJson(`${prs.url}/evaluate`, good());
    assert.equal(noTok.status, 401);
    assert.equal(noTok.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await postJson(`${prs.url}/evaluate`, good(), 'ttp')).status, 403);
    const r = await fetch(`${prs.url}/evaluate`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: 'Bearer node-a' }, body: 'x' });
    assert.equal(r.status, 415);
  });
  test('recipient registration via the admin API validates the key', async () => {
    const bad = await fetch(`${prs.url}/recipients/ura:90000903`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer admin' }, body: JSON.stringify({ scopes: ['x'], publicJwk: { kty: 'EC' } }) });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as { issue: { expression: string[] }[] }).issue[0].expression, ['publicJwk']);
    const r = await makeRecipient('ura:90000903', ['x']);
    const ok = await fetch(`${prs.url}/recipients/ura:90000903`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer admin' }, body: JSON.stringify({ scopes: ['x'], publicJwk: r.entry.publicJwk }) });
    assert.equal(ok.status, 201);
    const p = await client.evaluate(PATIENT, { organization: 'ura:90000903', scope: 'x' });
    assert.ok((await recipientFor(r).open(p.evaluated_output, p.blind_factor)).pseudonym);
  });
});

describe('secondary use', () => {
  const pseudo = (body: unknown, tok = 'node-a') => postJson(`${prs.url}/secondary/pseudonymise`, body, tok);
  test('reversible: deterministic per project, reversible only by the project’s authorised caller', async () => {
    const a = await pseudo({ project: 'study-1', mode: 'reversible', identifiers: [PATIENT, PATIENT2] });
    const b = await pseudo({ project: 'study-1', mode: 'reversible', identifiers: [PATIENT] });
    assert.equal(a.status, 200);
    assert.equal(a.json.pseudonyms[0], b.json.pseudonyms[0]);
    assert.notEqual(a.json.pseudonyms[0], a.json.pseudonyms[1]);
    assert.ok(!a.text.includes(PATIENT.value));
    const other = await pseudo({ project: 'study-2', mode: 'reversible', identifiers: [PATIENT] });
    assert.notEqual(other.json.pseudonyms[0], a.json.pseudonyms[0], 'projects are unlinkable');
    const back = await postJson(`${prs.url}/secondary/depseudonymise`, { project: 'study-1', pseudonyms: [...a.json.pseudonyms, other.json.pseudonyms[0]] }, 'ttp');
    assert.equal(back.status, 200);
    assert.deepEqual(back.json.identifiers, [PATIENT, PATIENT2, null]);
    // The pseudonymiser itself may not reverse; nor anyone for a project without depseudonymisers.
    assert.equal((await postJson(`${prs.url}/secondary/depseudonymise`, { project: 'study-1', pseudonyms: a.json.pseudonyms }, 'node-a')).status, 403);
    assert.equal((await postJson(`${prs.url}/secondary/depseudonymise`, { project: 'study-2', pseudonyms: other.json.pseudonyms }, 'ttp')).status, 403);
    // Tampering is detected.
    const t = a.json.pseudonyms[0] as string;
    // Change the second-to-last character (a whole 6-bit group; the last may only carry padding bits) to another one.
    const tampered = t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.slice(-1);
    assert.notEqual(tampered, t);
    assert.deepEqual((await postJson(`${prs.url}/secondary/depseudonymise`, { project: 'study-1', pseudonyms: [tampered] }, 'ttp')).json.identifiers, [null]);
  });

  test('irreversible: deterministic, versioned, no way back', async () => {
    const a = await pseudo({ project: 'study-1', mode: 'irreversible', identifiers: [PATIENT] });
    const b = await pseudo({ project: 'study-1', mode: 'irreversible', identifiers: [PATIENT], key_version: 1 });
    assert.match(a.json.pseudonyms[0], /^i\d+\./);
    assert.equal(b.json.key_version, 1);
    assert.deepEqual((await postJson(`${prs.url}/secondary/depseudonymise`, { project: 'study-1', pseudonyms: [a.json.pseudonyms[0], b.json.pseudonyms[0]] }, 'ttp')).json.identifiers, [null, null]);
  });

  test('bad secondary input names the field', async () => {
    const r = await pseudo({ project: 'study-1', mode: 'reversible', identifiers: [{ landCode: 'NL', type: 'BSN' }] });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json.issue[0].expression, ['identifiers[0].value']);
    assert.deepEqual((await pseudo({ project: 'nope', mode: 'reversible', identifiers: [PATIENT] })).json.issue[0].expression, ['project']);
    assert.deepEqual((await pseudo({ project: 'study-1', mode: 'both', identifiers: [PATIENT] })).json.issue[0].expression, ['mode']);
  });
});

