/**
 * End-to-end: a handcrafted set (load script, fixture template, server scripts in JSON and XML, a client
 * script) run against a tiny fake FHIR server. One script passes, one fails, the client one is skipped.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Resource, TestReport } from 'fhir/r4';
import { conformanceCommand, runConformance } from '../../src/conformance/index.ts';
import { localDate } from '../../src/conformance/placeholders.ts';
import { addToDate } from '../../src/conformance/placeholders.ts';
import { parseFhirXml, toFhirXml } from '../../src/fhir/format/xml.ts';

const TOKEN = 'Bearer good-token';
const SUT = (v: boolean) => [{ url: 'http://fhir.interoplab.eu/fhir/StructureDefinition/Interoplab-CL-ext-SUT', valueBoolean: v }];

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** Minimal FHIR server: PUT/read/search on one tenant, $purge, bearer check, self links echo the query. */
function fakeServer(): { server: Server; requests: Recorded[]; store: Map<string, Resource> } {
  const store = new Map<string, Resource>();
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const wantsXml = /xml/.test(req.headers.accept ?? '');
      const send = (status: number, r?: Resource): void => {
        res.writeHead(status, r ? { 'content-type': wantsXml ? 'application/fhir+xml' : 'application/fhir+json' } : {});
        res.end(r ? (wantsXml ? toFhirXml(r) : JSON.stringify(r)) : undefined);
      };
      if (req.headers.authorization !== TOKEN) {
        return send(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'bad token' }] } as Resource);
      }
      const u = new URL(req.url ?? '/', 'http://x');
      const m = /^\/fhir\/t\/([A-Za-z]+)(?:\/([^/]+))?(?:\/(\$purge))?$/.exec(u.pathname);
      if (!m) return send(404);
      const [, type, id, purge] = m;
      if (purge && req.method === 'POST') {
        store.clear();
        return send(204);
      }
      if (req.method === 'PUT' && id) {
        const r = /xml/.test(req.headers['content-type'] ?? '') ? parseFhirXml(body) : (JSON.parse(body) as Resource);
        const existed = store.has(`${type}/${id}`);
        store.set(`${type}/${id}`, r);
        return send(existed ? 200 : 201, r);
      }
      if (req.method === 'GET' && id) {
        const r = store.get(`${type}/${id}`);
        return r ? send(200, r) : send(404);
      }
      if (req.method === 'GET') {
        const base = `http://${req.headers.host}/fhir/t`;
        const matches = [...store.values()].filter((r) => r.resourceType === type);
        // Echo only the parameters this fake "supports", so that the self-link rule can fail.
        const echoed = [...u.searchParams].filter(([k]) => k !== '_unsupported');
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'searchset',
          total: matches.length,
          link: [{ relation: 'self', url: `${base}/${type}${echoed.length ? '?' + new URLSearchParams(echoed).toString() : ''}` }],
          entry: matches.map((r) => ({ fullUrl: `${base}/${type}/${r.id}`, resource: r, search: { mode: 'match' } })),
        };
        return send(200, bundle);
      }
      return send(405);
    });
  });
  return { server, requests, store };
}

const op = (x: Record<string, unknown>) => ({ operation: { encodeRequestUrl: true, ...x } });
const as = (x: Record<string, unknown>) => ({ assert: { warningOnly: false, ...x } });
const auth = [{ field: 'Authorization', value: '${token}' }];

function writeSet(dir: string): Promise<unknown> {
  const loadScript = {
    resourceType: 'TestScript',
    name: 'load',
    status: 'active',
    fixture: [{ id: 'patient', autocreate: false, autodelete: false, resource: { reference: '../_reference/patient.json' } }],
    variable: [{ name: 'patient-id', expression: 'Patient.id', sourceId: 'patient' }],
    setup: {
      action: [
        op({ type: { system: 'http://fhir.interoplab.eu/fhir/CodeSystem/Interoplab-CL-operation-codes', code: 'purge' }, resource: 'Patient', params: 'p1/$purge', requestHeader: [{ field: 'Authorization', value: TOKEN }] }),
        as({ operator: 'in', responseCode: '200,204' }),
      ],
    },
    test: [
      {
        name: 'load',
        action: [
          op({ type: { code: 'update' }, resource: 'Patient', contentType: 'xml', accept: 'xml', params: '/${patient-id}', sourceId: 'patient', requestHeader: [{ field: 'Authorization', value: TOKEN }] }),
          as({ operator: 'in', responseCode: '200,201' }),
        ],
      },
    ],
  };
  const variables = [
    { name: 'T', defaultValue: '${CURRENTDATE}' },
    { name: 'token', defaultValue: TOKEN },
    { name: 'X-Correlation-ID', defaultValue: '${UUID}' },
  ];
  const searchOk = (accept: string) => ({
    resourceType: 'TestScript',
    name: `search-${accept}`,
    status: 'active',
    destination: [{ index: 1, extension: SUT(true) }],
    profile: [{ id: 'Bundle-profile', reference: 'http://hl7.org/fhir/StructureDefinition/Bundle' }],
    variable: [
      ...variables,
      { name: 'patient-url', expression: "Bundle.link.where(relation='self').url.replaceMatches('Patient[/?].*$','') + 'Patient/' + Bundle.entry.resource.id", sourceId: 'search' },
    ],
    test: [
      {
        name: 'search',
        action: [
          op({
            type: { code: 'search' },
            resource: 'Patient',
            accept,
            params: '?birthdate=le${DATE, T, Y, -1}&_include=Patient:general-practitioner',
            requestHeader: [...auth, { field: 'MedMij-Request-ID', value: '${UUID}' }, { field: 'X-Correlation-ID', value: '${X-Correlation-ID}' }],
            responseId: 'search',
          }),
          as({ operator: 'in', responseCode: '200,201', stopTestOnFail: true }),
          as({ direction: 'response', resource: 'Bundle' }),
          as({ direction: 'response', expression: 'Bundle.type', operator: 'equals', value: 'searchset' }),
          as({ direction: 'response', expression: "Bundle.entry.where(resource.is(Patient)).count() = 1" }),
          as({ extension: [{ url: 'http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-rule', extension: [{ url: 'ruleId', valueId: 'assert-response-queryParamsInSelfLink' }] }], warningOnly: true }),
          as({ direction: 'response', validateProfileId: 'Bundle-profile' }),
        ],
      },
      {
        name: 'read',
        action: [
          op({ type: { code: 'read' }, resource: 'Patient', accept, url: '${patient-url}', requestHeader: auth }),
          as({ responseCode: '200' }),
          as({ direction: 'response', expression: 'Patient.birthDate', operator: 'equals', value: '${DATE, T, Y, -30}' }),
        ],
      },
    ],
  });
  const searchFail = {
    resourceType: 'TestScript',
    name: 'search-fail',
    status: 'active',
    destination: [{ index: 1, extension: SUT(true) }],
    variable: variables,
    test: [
      {
        name: 'wrong count',
        action: [
          op({ type: { code: 'search' }, resource: 'Patient', accept: 'json', params: '?_unsupported=1', requestHeader: auth }),
          as({ operator: 'in', responseCode: '200,201', stopTestOnFail: true }),
          as({ label: 'two-patients', direction: 'response', expression: 'Bundle.entry.count() = 2' }),
          as({ extension: [{ url: 'http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-rule', extension: [{ url: 'ruleId', valueId: 'assert-response-queryParamsInSelfLink' }] }], warningOnly: true }),
        ],
      },
      {
        name: 'bad token stops the test',
        action: [
          op({ type: { code: 'search' }, resource: 'Patient', accept: 'json', requestHeader: [{ field: 'Authorization', value: 'Bearer wrong' }] }),
          as({ operator: 'in', responseCode: '200,201', stopTestOnFail: true }),
          as({ expression: 'Bundle.type = \'searchset\'' }),
        ],
      },
    ],
  };
  const client = { ...searchFail, name: 'client', destination: [{ index: 1, extension: SUT(false) }], origin: [{ index: 1, extension: SUT(true) }] };
  const patient = { resourceType: 'Patient', id: 'p1', birthDate: '${DATE, T, Y, -30}', name: [{ family: 'Test' }] };
  const xmlScript = scriptToXml(searchOk('xml'));
  return Promise.all([
    mkdir(join(dir, '_LoadResources'), { recursive: true }),
    mkdir(join(dir, '_reference'), { recursive: true }),
    mkdir(join(dir, 'Server'), { recursive: true }),
  ]).then(() =>
    Promise.all([
      writeFile(join(dir, '_LoadResources', 'load.json'), JSON.stringify(loadScript)),
      writeFile(join(dir, '_reference', 'patient.json'), JSON.stringify(patient)),
      writeFile(join(dir, 'Server', 'search-ok-json.json'), JSON.stringify(searchOk('json'))),
      writeFile(join(dir, 'Server', 'search-ok-xml.xml'), xmlScript),
      writeFile(join(dir, 'Server', 'search-fail-json.json'), JSON.stringify(searchFail)),
      writeFile(join(dir, 'Server', 'client.json'), JSON.stringify(client)),
      writeFile(join(dir, 'Server', 'properties.json'), '{}'),
    ]),
  );
}

/** Writes a script as Nictiz-style XML (value attributes, `<profile id value/>`, `stopTestOnFail`). */
function scriptToXml(s: Record<string, unknown>): string {
  const esc = (v: string): string => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const el = (name: string, v: unknown): string => {
    if (Array.isArray(v)) return v.map((x) => el(name, x)).join('');
    if (name === 'profile' && typeof v === 'object' && v && 'reference' in v) {
      const p = v as { id: string; reference: string };
      return `<profile id="${esc(p.id)}" value="${esc(p.reference)}"/>`;
    }
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      const attr = name === 'extension' ? ` url="${esc(String(o.url))}"` : '';
      return `<${name}${attr}>${Object.entries(o).filter(([k]) => k !== 'url' || name !== 'extension').map(([k, x]) => el(k, x)).join('')}</${name}>`;
    }
    return `<${name} value="${esc(String(v))}" nts:in-targets="x"/>`;
  };
  const { resourceType: _rt, ...rest } = s;
  return `<?xml version="1.0"?>\n<TestScript xmlns="http://hl7.org/fhir" xmlns:nts="http://nictiz.nl/xsl/testscript"><!-- c -->${Object.entries(rest).map(([k, v]) => el(k, v)).join('')}</TestScript>`;
}

describe('runConformance against a fake server', () => {
  let dir: string;
  let base: string;
  let fake: ReturnType<typeof fakeServer>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conformance-e2e-'));
    await writeSet(join(dir, 'set'));
    fake = fakeServer();
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/fhir/t`;
  });
  after(async () => {
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('loads, runs json and xml variants, reports pass and fail', async () => {
    const lines: string[] = [];
    const report = join(dir, 'reports');
    const r = await runConformance({ base, set: join(dir, 'set'), load: true, format: 'both', report, log: (l) => lines.push(l) });

    assert.equal(lines.at(-1), '2 passed, 1 failed', lines.join('\n'));
    assert.equal(r.passed, 2);
    assert.equal(r.failed, 1);
    assert.ok(lines.some((l) => l.startsWith('LOAD PASS _LoadResources/load')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('PASS Server/search-ok-json')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('PASS Server/search-ok-xml')), lines.join('\n'));
    const failLine = lines.find((l) => l.startsWith('FAIL Server/search-fail-json'));
    assert.ok(failLine, lines.join('\n'));
    assert.match(failLine, /wrong count: two-patients: Bundle\.entry\.count\(\) = 2 is \[false\]/);
    assert.ok(!lines.some((l) => l.includes('client')), 'client-SUT scripts are not run');

    // The fixture template was expanded and PUT as XML under its id.
    const stored = fake.store.get('Patient/p1') as { birthDate?: string };
    assert.equal(stored.birthDate, addToDate(localDate(new Date()), 'Y', -30));
    const put = fake.requests.find((q) => q.method === 'PUT');
    assert.equal(put?.headers['content-type'], 'application/fhir+xml');
    assert.ok(fake.requests.some((q) => q.method === 'POST' && q.url === '/fhir/t/Patient/p1/$purge'));

    // Headers: a fresh MedMij-Request-ID per request, one X-Correlation-ID per script.
    const searches = fake.requests.filter((q) => q.headers['medmij-request-id']);
    assert.equal(searches.length, 2);
    assert.notEqual(searches[0].headers['medmij-request-id'], searches[1].headers['medmij-request-id']);
    assert.match(String(searches[0].headers['x-correlation-id']), /^[0-9a-f-]{36}$/);
    assert.equal(searches[1].headers.accept, 'application/fhir+xml');

    // TestReports: one per script (+ load), written as JSON.
    assert.equal(r.reports.length, 4);
    const files = (await readdir(report)).sort();
    assert.deepEqual(files, ['Server__search-fail-json.json', 'Server__search-ok-json.json', 'Server__search-ok-xml.json', '_LoadResources__load.json']);
    const failed = JSON.parse(await readFile(join(report, 'Server__search-fail-json.json'), 'utf8')) as TestReport;
    assert.equal(failed.resourceType, 'TestReport');
    assert.equal(failed.result, 'fail');
    const [t1, t2] = failed.test ?? [];
    assert.deepEqual(t1.action.map((x) => (x.operation ?? x.assert)?.result), ['pass', 'pass', 'fail', 'warning']);
    // stopTestOnFail: the assert after the failed response code is not evaluated.
    assert.deepEqual(t2.action.map((x) => (x.operation ?? x.assert)?.result), ['pass', 'fail']);
    const ok = JSON.parse(await readFile(join(report, 'Server__search-ok-json.json'), 'utf8')) as TestReport;
    assert.equal(ok.result, 'pass');
    // All asserts of the search test ran and passed, including the self-link rule and validateProfileId.
    assert.deepEqual(ok.test?.[0].action.map((x) => (x.operation ?? x.assert)?.result), ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    assert.equal(ok.test?.[1].action[0].operation?.message?.includes(`${base}/Patient/p1`), true);
  });

  it('filters by format', async () => {
    const lines: string[] = [];
    const r = await runConformance({ base, set: join(dir, 'set'), format: 'json', report: join(dir, 'r2'), log: (l) => lines.push(l) });
    assert.equal(r.passed + r.failed, 2);
    assert.ok(!lines.some((l) => l.includes('search-ok-xml')));
  });

  it('conformanceCommand: help, argument errors and exit codes', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    assert.equal(await conformanceCommand(['--help'], io), 0);
    assert.match(out.join('\n'), /Usage: schakel conformance --base URL --set DIR/);
    assert.equal(await conformanceCommand(['--set', dir], io), 2);
    assert.match(err.join('\n'), /--base URL is required/);
    assert.equal(await conformanceCommand(['--base', base, '--set', dir, '--format', 'yaml'], io), 2);
    assert.match(err.join('\n'), /--format must be json, xml or both/);
    assert.equal(await conformanceCommand(['--base', base, '--bogus'], io), 2);
    assert.match(err.join('\n'), /bogus/);
    assert.equal(await conformanceCommand(['--base', base, '--set', join(dir, 'missing')], io), 2);
    assert.match(err.join('\n'), /set directory not found/);
    out.length = 0;
    assert.equal(await conformanceCommand(['--base', base, '--set', join(dir, 'set'), '--format', 'xml', '--report', join(dir, 'r3')], io), 0);
    assert.equal(out.at(-1), '1 passed, 0 failed');
    assert.equal(await conformanceCommand(['--base', base, '--set', join(dir, 'set', 'Server'), '--load', '--report', join(dir, 'r4')], io), 1);
    assert.equal(out.at(-1), '2 passed, 1 failed');
  });
});
