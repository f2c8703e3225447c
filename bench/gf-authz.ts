/**
 * What authorisation and audit add to a FHIR read (issue 4: "authorisation adds < 20% to a read").
 *
 * One server process (a child: this file with `--serve`, so load generator and server do not share an event
 * loop), SQLite, a GP tenant with --patients patients (each with a few Conditions, an Observation, a
 * MedicationRequest and an Encounter), the node's own token server, the consent registry (one permit per
 * patient for hospitals) and the local directory replica (500 organisations). Nodes with the same data, all
 * built by startServer (logging off):
 *
 *   (a) open   no enforcement point (audit still on, as on every node); the same requests with the same Authorization header
 *   (b) own    the GP's own system token (claims.ura === tenant.ura): token verification + audit
 *   (c) other  a hospital with consent: token + directory lookup + patient resolution + consent question over
 *              HTTP (to the registry, here in the same process) + compartment + narrowing + audit
 *   (d) local  as (c), on a third node whose enforcement point asks the in-process registry's decide() directly
 *
 * Shapes: `read` = GET Patient/{id}, `search` = GET Condition?patient={id}, over all patients in a shuffled order.
 * Rounds run ABBA (a b c d, d c b a, …); the table gives the median round per mode and the ratios to (a), by
 * the server's own CPU time per request (robust against other load) and by req/s. A fresh token per run (tokens
 * live 300 s). Every non-2xx answer is counted and reported.
 *
 * Usage: node --import tsx bench/gf-authz.ts [--patients 1000] [--rounds 4] [--duration 5] [--warmup 1]
 *          [--connections 10] [--shapes read,search] [--modes a,b,c,d] [--profile DIR]
 * --profile DIR runs the server child with --cpu-prof (profile written to DIR when it stops).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Consent } from 'fhir/r4';
import autocannon from 'autocannon';
import { exportJWK } from 'jose';
import { createClientAssertion, generateSigningKey, registerAuthServer, staticClientRegistry, tokenRequestBody } from '../src/gf/auth/token-server.ts';
import { LOCAL_DIRECTORY_TENANT, nodeEnforcement } from '../src/gf/authorisation/node-enforcement.ts';
import { SYSTEMS } from '../src/gf/consent/catalogue.ts';
import { ConsentRegistry, registerConsentRoutes } from '../src/gf/consent/index.ts';
import { startServer } from '../src/http/server.ts';
import { nthTestBsn } from '../src/synth/identifiers.ts';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const num = (name: string, dflt: number) => Number(flag(name, String(dflt)));

const GP = '90000001';
const HOSPITAL = '90000002';
const NODE_SECRET = 'Bearer node-secret-for-bench';
const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

/** The i-th valid BSN of the 999 test range (synthetic; never printed). */
const testBsn = nthTestBsn;

/** A generic permit: GP data (RPZAC001) to hospitals (RPZAC104), for one patient. */
function permit(bsn: string): Consent {
  const actor = (category: string, role: string) => ({ role: { coding: [{ system: SYSTEMS.participationType, code: role }] }, reference: { identifier: { system: SYSTEMS.providerCategory, value: category } } });
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: SYSTEMS.consentScope, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEMS.bsn, value: bsn } },
    provision: { type: 'permit', actor: [actor('RPZAC001', 'CST'), actor('RPZAC104', 'IRCP')] },
  };
}

function patientResources(i: number, bsn: string): object[] {
  const p = `p${i}`;
  const subject = { reference: `Patient/${p}` };
  return [
    { resourceType: 'Patient', id: p, identifier: [{ system: BSN_SYSTEM, value: bsn }], name: [{ family: `Achternaam${i}`, given: ['Jan'] }], gender: i % 2 ? 'male' : 'female', birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}` },
    { resourceType: 'Condition', id: `${p}-c1`, subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
    { resourceType: 'Condition', id: `${p}-c2`, subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensie' }] } },
    { resourceType: 'Observation', id: `${p}-o1`, status: 'final', subject, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }], code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, valueQuantity: { value: 60 + (i % 40), unit: '/min' } },
    { resourceType: 'MedicationRequest', id: `${p}-m1`, status: 'active', intent: 'order', subject, medicationCodeableConcept: { text: 'metformine 500 mg' } },
    { resourceType: 'Encounter', id: `${p}-e1`, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject },
  ];
}

// ------------------------------------------------------------------------------------------------ server child

async function serve(): Promise<void> {
  const patients = num('patients', 1000);
  const modesWanted = flag('modes', 'a,b,c,d').split(',');
  const signing = generateSigningKey();
  const keys = new Map<string, { privateKey: ReturnType<typeof generateKeyPairSync>['privateKey']; kid: string; jwk: object }>();
  for (const ura of [GP, HOSPITAL]) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keys.set(ura, { privateKey, kid: `k-${ura}`, jwk: { ...(await exportJWK(publicKey)), kid: `k-${ura}`, alg: 'ES256', use: 'sig' } });
  }
  const dirs: string[] = [];
  /** One node as startServer builds it (logging off); with the token server, consent registry and enforcement point, or open. */
  const side = async (kind: 'open' | 'http' | 'local') => {
    const enforced = kind !== 'open';
    let registry: ConsentRegistry | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'schakel-authz-bench-'));
    dirs.push(dir);
    const s = await startServer({
      port: 0,
      host: '127.0.0.1',
      db: 'sqlite',
      dataDir: dir,
      sqliteFile: join(dir, 'bench.db'),
      logger: false,
      plugins: !enforced
        ? undefined
        : async (app, node, url) => {
            await registerAuthServer(app, {
              baseUrl: url,
              hasTenant: (t) => Boolean(node.tenants.get(t)),
              resolveClient: staticClientRegistry([...keys].map(([ura, k]) => ({ clientId: ura, ura, jwks: { keys: [k.jwk] } }))),
              signingKeys: [signing],
            });
            registry = await ConsentRegistry.open({ dispatch: node.dispatch, tenants: node.tenants });
            await registerConsentRoutes(app, { registry, verifyToken: (a) => (a === NODE_SECRET ? { ura: GP, role: 'node' } : undefined) });
            for (let i = 0; i < patients; i++) {
              const res = await registry!.create(permit(testBsn(i)), { ura: '00000000', role: 'admin' });
              if (res.status !== 201) throw new Error(`consent ${i}: HTTP ${res.status}`);
            }
          },
      enforcement: !enforced
        ? undefined
        : (node, url) =>
            nodeEnforcement({
              baseUrl: url,
              jwks: { keys: [signing.publicJwk] },
              dispatch: node.dispatch,
              consentBase: () => `${url()}/national/consent`,
              consentAuthorization: () => NODE_SECRET,
              // (d): the registry runs in this process, so its decide() is asked directly (still on every request).
              localConsent: kind === 'local' ? (q) => registry!.decide(q) : undefined,
            }),
    });
    const node = s.node;
    await node.tenants.add({ tenant: 'gp', ura: GP, name: 'Huisartsenpraktijk', settings: { organizationType: 'Z3' } });
    await node.tenants.ensure({ tenant: LOCAL_DIRECTORY_TENANT });
    const local = { tenant: LOCAL_DIRECTORY_TENANT, base: `${s.url}/fhir/${LOCAL_DIRECTORY_TENANT}`, strict: false };
    // A directory of a realistic size: the hospital among 500 organisations.
    const orgs = Array.from({ length: 500 }, (_, k) => ({ ura: k === 250 ? HOSPITAL : String(91_000_000 + k), type: k % 3 ? 'V4' : 'Z3' }));
    const dir0 = await node.dispatch(local, {
      method: 'POST',
      path: '',
      query: [],
      headers: {},
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: orgs.map((o) => ({
          resource: { resourceType: 'Organization', id: `org-${o.ura}`, active: true, identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: o.ura }], type: [{ coding: [{ system: 'http://nictiz.nl/fhir/NamingSystem/organization-type', code: o.type }] }] },
          request: { method: 'PUT', url: `Organization/org-${o.ura}` },
        })),
      } satisfies Bundle,
    });
    if (dir0.status !== 200) throw new Error(`directory: HTTP ${dir0.status}`);
    const gp = { tenant: 'gp', base: `${s.url}/fhir/gp`, strict: false };
    for (let start = 0; start < patients; start += 50) {
      const entry: Bundle['entry'] = [];
      for (let i = start; i < Math.min(patients, start + 50); i++) {
        for (const r of patientResources(i, testBsn(i))) entry.push({ resource: r as never, request: { method: 'PUT', url: `${(r as { resourceType: string }).resourceType}/${(r as { id: string }).id}` } });
      }
      const res = await node.dispatch(gp, { method: 'POST', path: '', query: [], headers: {}, body: { resourceType: 'Bundle', type: 'transaction', entry } });
      if (res.status !== 200) throw new Error(`load: HTTP ${res.status}`);
    }
    return s;
  };
  // (a) is a node of its own with the same data, built the same way but without the enforcement point.
  const s = await side('http');
  const open = await side('open');
  const local = modesWanted.includes('d') ? await side('local') : undefined;

  /** A token from the token server of the node the mode's requests go to ((a) has none: it gets one of (b)'s). */
  const token = async (ura: string, mode: string): Promise<string> => {
    const k = keys.get(ura)!;
    const tokenEndpoint = `${(mode === 'd' && local ? local : s).url}/auth/gp/token`;
    const person = ura === GP ? undefined : { uziNr: '123456789', uziRolcode: '01.010' };
    const assertion = await createClientAssertion({ clientId: ura, tokenEndpoint, privateKey: k.privateKey, kid: k.kid, person, purposeOfUse: person ? 'treatment' : undefined, treatmentRelation: person ? true : undefined });
    const res = await fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: tokenRequestBody(assertion, 'system/*.read') });
    const body = (await res.json()) as { access_token?: string; error_description?: string };
    if (!body.access_token) throw new Error(`token: ${body.error_description}`);
    return body.access_token;
  };
  process.on('message', (m: { id: number; token?: string; mode?: string }) => {
    // The server's own CPU time (user + system, µs): robust against other load on the machine, unlike req/s.
    if (!m.token) return void process.send!({ id: m.id, cpu: ((u) => u.user + u.system)(process.cpuUsage()) });
    void token(m.token, m.mode ?? 'b').then(
      (t) => process.send!({ id: m.id, token: t }),
      (e: Error) => process.send!({ id: m.id, error: e.message }),
    );
  });
  process.send!({ ready: true, a: open.url, b: s.url, c: s.url, d: local?.url ?? s.url });
  process.on('SIGTERM', () => {
    void open
      .close()
      .then(() => s.close())
      .then(() => local?.close())
      .then(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
      .then(() => process.exit(0));
  });
}

// ------------------------------------------------------------------------------------------------ load generator

type Mode = 'a' | 'b' | 'c' | 'd';
const MODE_TITLE: Record<Mode, string> = { a: '(a) open node', b: '(b) own system token', c: '(c) other org, consent/HTTP', d: '(d) other org, consent/local' };

interface Run {
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  /** Server CPU time per answered request (µs). */
  cpuUs: number;
  non2xx: number;
  errors: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const patients = num('patients', 1000);
  const rounds = num('rounds', 4);
  const duration = num('duration', 5);
  const warmup = num('warmup', 1);
  const connections = num('connections', 10);
  const shapes = flag('shapes', 'read,search').split(',') as ('read' | 'search')[];
  const modes = flag('modes', 'a,b,c,d').split(',') as Mode[];
  const profile = flag('profile', '');
  const execArgv = ['--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])];
  const t0 = performance.now();
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--serve', '--patients', String(patients), '--modes', modes.join(',')], { execArgv });
  try {
    const urls = await new Promise<Record<Mode, string>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Record<Mode, string>));
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const setupS = (performance.now() - t0) / 1000;
    let nextId = 0;
    const ask = <T>(msg: { token?: string; mode?: string }, pick: (m: { token?: string; cpu?: number; error?: string }) => T | undefined) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        const on = (m: { id?: number; token?: string; cpu?: number; error?: string }) => {
          if (m.id !== id) return;
          child.off('message', on);
          const v = pick(m);
          if (v !== undefined) resolve(v);
          else reject(new Error(m.error));
        };
        child.on('message', on);
        child.send({ id, ...msg });
      });
    const tokenOf = (ura: string, mode: Mode) => ask({ token: ura, mode }, (m) => m.token);
    const serverCpu = () => ask({}, (m) => m.cpu);
    const order = Array.from({ length: patients }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1); // deterministic shuffle
      [order[i], order[j]] = [order[j], order[i]];
    }
    const pathOf = (shape: 'read' | 'search', i: number) => (shape === 'read' ? `/fhir/gp/Patient/p${i}` : `/fhir/gp/Condition?patient=p${i}`);
    const once = async (mode: Mode, shape: 'read' | 'search', seconds: number): Promise<Run> => {
      // (a) gets a token too and sends it: the same request shape, only the server's enforcement differs.
      const token = await tokenOf(mode === 'a' || mode === 'b' ? GP : HOSPITAL, mode);
      const headers = { accept: 'application/fhir+json', authorization: `Bearer ${token}` };
      const probe = await fetch(`${urls[mode]}${pathOf(shape, order[0])}`, { headers });
      if (probe.status !== 200) throw new Error(`${MODE_TITLE[mode]} ${shape}: HTTP ${probe.status} ${await probe.text()}`);
      const body = (await probe.json()) as { resourceType: string; entry?: unknown[] };
      if (shape === 'read' ? body.resourceType !== 'Patient' : body.entry?.length !== 2) throw new Error(`${MODE_TITLE[mode]} ${shape}: unexpected answer`);
      const cpu0 = await serverCpu();
      const r = await autocannon({ url: urls[mode], connections, duration: seconds, requests: order.map((i) => ({ method: 'GET' as const, path: pathOf(shape, i), headers })) });
      const cpu = (await serverCpu()) - cpu0;
      return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average, cpuUs: cpu / Math.max(1, r.requests.total), non2xx: r.non2xx, errors: r.errors };
    };
    const results: Record<string, Run[]> = {};
    for (const shape of shapes) {
      for (const mode of modes) await once(mode, shape, Math.max(1, warmup * 2)); // warm every path once
      for (let round = 0; round < rounds; round++) {
        const seq = round % 2 === 0 ? modes : [...modes].reverse();
        for (const mode of seq) {
          if (warmup > 0) await once(mode, shape, warmup);
          (results[`${shape}/${mode}`] ??= []).push(await once(mode, shape, duration));
        }
      }
    }
    const cpu = cpus()[0]?.model ?? '?';
    console.log(`gf-authz benchmark — ${new Date().toISOString()} — node ${process.version}, ${availableParallelism()} cores (${cpu}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`SQLite, ${patients} patients × 6 resources, ${connections} connections, ${rounds} ABBA rounds × ${duration} s per mode (median round shown), setup ${setupS.toFixed(1)} s`);
    for (const shape of shapes) {
      console.log(`\n${shape === 'read' ? 'GET Patient/{id}' : 'GET Condition?patient={id}'}`);
      console.log(`${'mode'.padEnd(26)} ${'req/s'.padStart(7)} ${'mean ms'.padStart(7)} ${'p50 ms'.padStart(6)} ${'p99 ms'.padStart(6)} ${'CPU µs/req'.padStart(10)} ${'CPU ×(a)'.padStart(8)} ${'req/s ×(a)'.padStart(10)}  non2xx/err  CPU µs/req per round`);
      const base = results[`${shape}/a`];
      const baseCpu = base ? median(base.map((r) => r.cpuUs)) : NaN;
      const baseRps = base ? median(base.map((r) => r.rps)) : NaN;
      for (const mode of modes) {
        const runs = results[`${shape}/${mode}`];
        const m = (f: (r: Run) => number) => median(runs.map(f));
        const bad = `${runs.reduce((n, r) => n + r.non2xx, 0)}/${runs.reduce((n, r) => n + r.errors, 0)}`;
        console.log(
          `${MODE_TITLE[mode].padEnd(26)} ${m((r) => r.rps).toFixed(0).padStart(7)} ${m((r) => r.mean).toFixed(2).padStart(7)} ${m((r) => r.p50).toFixed(0).padStart(6)} ${m((r) => r.p99).toFixed(0).padStart(6)} ${m((r) => r.cpuUs).toFixed(0).padStart(10)} ${(m((r) => r.cpuUs) / baseCpu).toFixed(2).padStart(8)} ${(m((r) => r.rps) / baseRps).toFixed(2).padStart(10)}  ${bad.padEnd(10)}  ${runs.map((r) => r.cpuUs.toFixed(0)).join(' ')}`,
        );
      }
    }
    console.log('\nCPU µs/req: the server process’s CPU time (user + system) over the run / answered requests — the cost of a request, robust');
    console.log('against other load on the machine. ×(a): relative to the open node. Latency from autocannon (p50/p99 in whole ms).');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
