/**
 * The operations and security streams and /metrics of a real server carry what operators need — the
 * interaction, resource type, tenant, status — and no personal data: no BSN (those used, nor any other
 * elfproef-valid nine-digit number), no patient ids, no names, even when BSNs are in URLs, queries, bodies,
 * tokens and error messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isValidBsn } from '../../src/gf/pseudonym/identifier.ts';
import { createLoggers, securitySink } from '../../src/ops/logging.ts';
import { bsnLike, redactBsn } from '../../src/ops/redact.ts';
import { engineNames } from '../helpers/engines.ts';
import { fhir, startTestServer, type TestServer } from '../helpers/server.ts';

const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
// Test BSNs (999… range), each passing the eleven-test.
const BSNS = ['999000548', '999000822', '999001644'];
const FAMILY = 'Vermeulen-Oosterhout';

/** A destination that keeps every line (what a log shipper would receive). */
function capture() {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
}

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every place a BSN, patient id or name could hide; `labelsOnly` for metrics (sample values are byte counts, times). */
function assertClean(where: string, text: string, ids: string[], o: { labelsOnly?: boolean } = {}): void {
  for (const bsn of BSNS) assert.ok(!text.includes(bsn), `BSN ${bsn} in ${where}`);
  for (const id of ids) assert.ok(!text.includes(id), `patient id ${id} in ${where}`);
  assert.ok(!text.includes(FAMILY), `patient name in ${where}`);
  const scanned = o.labelsOnly
    ? text
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .map((l) => l.replace(/\s\S+$/, ''))
        .join('\n')
    : text;
  assert.deepEqual(bsnLike(scanned), [], `elfproef-valid number in ${where}`);
}

test('the test BSNs are valid (else the scan would prove nothing)', () => {
  for (const b of BSNS) assert.ok(isValidBsn(b), b);
});

for (const engine of engineNames()) {
  describe(`ops and security streams, /metrics (${engine})`, () => {
    const ops = capture();
    const security = capture();
    let s: TestServer;
    let base: string;
    const ids: string[] = [];

    before(async () => {
      s = await startTestServer(engine, { logger: { ops, security } });
      base = s.base('t1');
      for (const bsn of BSNS) {
        const res = await fhir(`${base}/Patient`, {
          method: 'POST',
          body: { resourceType: 'Patient', identifier: [{ system: BSN_SYSTEM, value: bsn }], name: [{ family: FAMILY, given: ['Anouk'] }], birthDate: '1980-02-03' },
        });
        assert.equal(res.status, 201, res.text);
        ids.push(res.json.id as string);
      }
      // Searches by BSN (GET and POST _search), a read, a vread, an Observation search by patient.
      for (const bsn of BSNS) {
        const res = await fhir(`${base}/Patient?identifier=${encodeURIComponent(`${BSN_SYSTEM}|${bsn}`)}`);
        assert.equal(res.status, 200);
        assert.equal(res.json.total ?? res.json.entry?.length, 1);
      }
      const post = await fetch(`${base}/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/fhir+json' },
        body: `identifier=${encodeURIComponent(`${BSN_SYSTEM}|${BSNS[0]}`)}&family=${FAMILY}`,
      });
      assert.equal(post.status, 200);
      assert.equal((await fhir(`${base}/Patient/${ids[0]}`)).status, 200);
      assert.equal((await fhir(`${base}/Patient/${ids[1]}/_history/1`)).status, 200);
      assert.equal((await fhir(`${base}/Observation?subject=Patient/${ids[2]}`)).status, 200);
      // Errors with BSNs in them: bad JSON, an invalid resource, unknown id / tenant / type / route.
      const badJson = await fhir(`${base}/Patient`, { method: 'POST', body: `{"resourceType":"Patient","identifier":[{"value":"${BSNS[0]}"` });
      assert.equal(badJson.status, 400);
      const invalid = await fhir(`${base}/Patient`, { method: 'POST', body: { resourceType: 'Patient', birthDate: BSNS[1], identifier: [{ system: BSN_SYSTEM, value: BSNS[1] }] } });
      assert.equal(invalid.status, 400, invalid.text);
      assert.ok(invalid.text.includes(BSNS[1]), 'the error message itself names the value (so the streams had the chance to leak it)');
      assert.equal((await fhir(`${base}/Patient/${BSNS[2]}`)).status, 404);
      assert.equal((await fhir(`${s.url}/fhir/${BSNS[2]}/Patient?identifier=${BSNS[2]}`)).status, 404);
      assert.equal((await fhir(`${base}/${BSNS[2]}`)).status, 404);
      assert.equal((await fhir(`${s.url}/nothing/here/${BSNS[0]}?bsn=${BSNS[0]}`)).status, 404);
      assert.equal((await fhir(`${base}/Patient?bsn=${BSNS[0]}`, { headers: { prefer: 'handling=strict' } })).status, 400);
    });
    after(() => s.stop());

    test('the ops stream has a line per request: interaction, resource type, tenant, status, duration, correlation id', () => {
      const lines = parsed(ops.lines);
      const search = lines.find((l) => l.interaction === 'search' && l.type === 'Patient' && l.status === 200 && l.method === 'GET');
      assert.ok(search, 'a search Patient line with status 200');
      assert.equal(search.msg, 'search Patient');
      assert.equal(search.tenant, 't1');
      assert.equal(search.stream, 'ops');
      assert.equal(typeof search.ms, 'number');
      assert.match(String(search.correlationId), /^[0-9a-f-]{36}$/);
      assert.ok(lines.some((l) => l.msg === 'search Patient' && l.method === 'POST' && l.status === 200), 'POST _search');
      assert.ok(lines.some((l) => l.msg === 'read Patient' && l.status === 200));
      assert.ok(lines.some((l) => l.msg === 'read Patient' && l.status === 404));
      assert.ok(lines.some((l) => l.msg === 'vread Patient' && l.status === 200));
      assert.ok(lines.some((l) => l.msg === 'create Patient' && l.status === 201));
      assert.ok(lines.some((l) => l.msg === 'create Patient' && l.status === 400));
      assert.ok(lines.some((l) => l.msg === 'search Observation' && l.status === 200));
      assert.ok(lines.some((l) => l.msg === 'search Patient' && l.tenant === '-' && l.status === 404), 'unknown tenant: no tenant label from the URL');
      assert.ok(lines.some((l) => l.msg === 'unknown -' && l.tenant === 't1' && l.status === 404), 'unknown resource type');
      assert.ok(lines.some((l) => l.msg === 'GET unmatched' && l.status === 404));
      assert.ok(lines.some((l) => l.event === 'start' && l.msg === 'node started'));
    });

    test('the security stream says the node runs without an enforcement point', () => {
      const lines = parsed(security.lines);
      assert.ok(lines.some((l) => l.event === 'auth-disabled' && l.stream === 'security' && l.level === 40));
      assert.ok(!ops.lines.some((l) => l.includes('auth-disabled')), 'security events stay out of the ops stream');
    });

    test('/metrics: request counters and durations by tenant, interaction, type and status class; process metrics', async () => {
      const res = await fetch(`${s.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      assert.match(text, /^schakel_http_requests_total\{tenant="t1",interaction="search",type="Patient",status="2xx"\} [1-9]/m);
      assert.match(text, /^schakel_http_requests_total\{tenant="t1",interaction="read",type="Patient",status="4xx"\} 1$/m);
      assert.match(text, /^schakel_http_request_duration_seconds_bucket\{le="0.1",tenant="t1",interaction="create",type="Patient",status="2xx"\} /m);
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assertClean('/metrics', text, ids, { labelsOnly: true });
    });

    test('no BSN, patient id or name anywhere in the ops and security streams — and the safety net was not needed', () => {
      // Read after the /metrics test so its request line is in too.
      for (const [where, lines] of [['ops stream', ops.lines], ['security stream', security.lines]] as const) {
        const text = lines.join('');
        assert.ok(lines.length > 0, `${where} captured`);
        assertClean(where, text, ids);
        assert.ok(!text.includes('[bsn]'), `${where}: the design kept BSNs out, the redactor did not have to`);
      }
    });
  });
}

describe('qualification tokens: a refused token is a security event without the token', () => {
  let s: TestServer;
  let dir: string;
  const ops = capture();
  const security = capture();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'schakel-ops-'));
    const file = join(dir, 'tokens.json');
    writeFileSync(file, JSON.stringify([{ accessToken: 'Bearer good-token', resourceId: 'p1' }]));
    s = await startTestServer('sqlite', { qualificationTokens: file, logger: { ops, security } });
  });
  after(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('token-refused with a reason code; the BSN used as a token is nowhere', async () => {
    const res = await fhir(`${s.base('t1')}/Patient?identifier=${BSNS[0]}`, { headers: { authorization: `Bearer ${BSNS[1]}` } });
    assert.equal(res.status, 401);
    const events = parsed(security.lines);
    assert.ok(events.some((e) => e.event === 'token-refused' && e.reason === 'unknown-token' && e.tenant === 't1'));
    assert.ok(parsed(ops.lines).some((l) => l.msg === 'search Patient' && l.status === 401));
    for (const [where, text] of [['ops stream', ops.lines.join('')], ['security stream', security.lines.join('')]]) assertClean(where, text, []);
  });
});

describe('the safety net', () => {
  test('redactBsn replaces elfproef-valid nine-digit numbers only', () => {
    assert.equal(redactBsn(`bsn ${BSNS[0]}, not 999000549, not 1${BSNS[0]}, time 1732300000000`), 'bsn [bsn], not 999000549, not 1999000548, time 1732300000000');
  });

  test('both loggers redact what slips through; the security sink drops fields outside its list (the UZI number)', () => {
    const ops = capture();
    const sec = capture();
    const loggers = createLoggers({ ops, security: sec });
    loggers.ops.error({ err: new Error(`constraint failed for ${BSNS[0]}`) }, 'unexpected error');
    const sink = securitySink(loggers.security);
    sink({ event: 'emergency-access', tenant: 't1', ura: '90000001', uzi: '900001234', role: '01.015', correlationId: 'c-1', reason: `typed ${BSNS[1]}` });
    sink({ event: 'audit-chain-broken', checked: 41, brokenAt: 42, reason: 'event 42 was altered' });
    const opsText = ops.lines.join('');
    assert.ok(opsText.includes('constraint failed for [bsn]'));
    assertClean('ops', opsText, []);
    const [emergency, broken] = parsed(sec.lines);
    assert.deepEqual(
      { event: emergency.event, tenant: emergency.tenant, ura: emergency.ura, role: emergency.role, reason: emergency.reason, level: emergency.level },
      { event: 'emergency-access', tenant: 't1', ura: '90000001', role: '01.015', reason: 'typed [bsn]', level: 40 },
    );
    assert.equal('uzi' in emergency, false);
    assert.equal(broken.level, 50);
    assert.equal(broken.brokenAt, 42);
  });
});
