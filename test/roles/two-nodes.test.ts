/**
 * Two nodes, as two installations would run: node A carries the national services and a GP practice; node B
 * (a hospital's installation) points at A's national services with `nationalUrl` and has its own data directory,
 * sharing only the test CA (standing in for the UZI CA both trust). Every call between them is HTTP.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Condition, Patient } from 'fhir/r4';
import { startNetworkNode, type NetworkNode } from '../../src/roles/network.ts';
import { onboard } from '../../src/roles/onboarding.ts';
import { localise } from '../../src/roles/localise.ts';
import { consentWalkthrough } from '../../src/roles/walkthrough.ts';
import { QUIET_LOGS } from '../helpers/server.ts';
import { nthTestBsn } from '../../src/synth/identifiers.ts';

const GP = '90000021';
const HOSPITAL = '90000022';
const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

describe('two nodes: national + GP on A, a hospital installation on B (nationalUrl)', () => {
  const dirA = mkdtempSync(join(tmpdir(), 'schakel-node-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'schakel-node-b-'));
  let a: NetworkNode;
  let b: NetworkNode;
  const bsn = nthTestBsn(4242);

  before(async () => {
    a = await startNetworkNode({ port: 0, host: '127.0.0.1', db: 'sqlite', dataDir: dirA, national: true, logger: QUIET_LOGS, syncEveryMs: 0 });
    await a.server.node.tenants.add({ tenant: 'gp', ura: GP, name: 'Huisartsenpraktijk A', settings: { organizationType: 'Z3' } });
    await onboard(a.keys, a.tokens, a.url, { ura: GP, name: 'Huisartsenpraktijk A', organizationType: { code: 'Z3' }, fhirBase: `${a.url}/fhir/gp` });
    // B trusts the same CA and gets its own organisation certificate from it (as a real hospital gets a UZI one).
    cpSync(join(dirA, 'keys', 'ca'), join(dirB, 'keys', 'ca'), { recursive: true });
    b = await startNetworkNode({ port: 0, host: '127.0.0.1', db: 'sqlite', dataDir: dirB, nationalUrl: a.url, logger: QUIET_LOGS, syncEveryMs: 0 });
    await b.server.node.tenants.add({ tenant: 'zkh', ura: HOSPITAL, name: 'Ziekenhuis B', settings: { organizationType: 'V4' } });
    await onboard(b.keys, b.tokens, a.url, { ura: HOSPITAL, name: 'Ziekenhuis B', organizationType: { code: 'V4' }, fhirBase: `${b.url}/fhir/zkh` });
    await a.provider!.syncDirectory();
    await b.provider!.syncDirectory();
    // The GP's own system records the patient and a condition on A; the hospital's on B.
    const write = async (node: NetworkNode, tenant: string, ura: string, bundle: Bundle) => {
      const authorization = await node.tokens.authorization({ ura, tokenEndpoint: `${node.url}/auth/${tenant}/token`, scope: 'system/*.*' });
      const res = await fetch(`${node.url}/fhir/${tenant}`, { method: 'POST', headers: { authorization, 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
      assert.equal(res.status, 200, await res.text());
    };
    const record = (condition: string): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6d3a0c7e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: BSN_SYSTEM, value: bsn }] } as Patient, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Condition', subject: { reference: 'urn:uuid:6d3a0c7e-0000-4000-8000-000000000001' }, code: { text: condition } } as Condition, request: { method: 'POST', url: 'Condition' } },
      ],
    });
    await write(a, 'gp', GP, record('Diabetes mellitus type 2'));
    await write(b, 'zkh', HOSPITAL, record('Fractuur van de pols'));
    for (const n of [a, b]) for (let i = 0; i < 150 && (await n.localisation!.registrar.backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await b?.close();
    await a?.close();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  });

  it("both nodes registered their patient at A's localisation index; each finds the other through it and the directory", async () => {
    const fromB = await localise({ node: b.server.node, tokens: b.tokens, nationalBase: a.url, ura: HOSPITAL, bsn, category: 'Condition' });
    assert.deepEqual(fromB.map((l) => [l.custodian, l.fhirBase]).sort(), [[GP, `${a.url}/fhir/gp`], [HOSPITAL, `${b.url}/fhir/zkh`]]);
    const fromA = await localise({ node: a.server.node, tokens: a.tokens, nationalBase: a.url, ura: GP, bsn, category: 'Condition' });
    assert.ok(fromA.some((l) => l.custodian === HOSPITAL && l.fhirBase === `${b.url}/fhir/zkh`));
  });

  it("the hospital (keys on B) reads the GP's conditions on A only while the patient's consent permits", async () => {
    const steps = await consentWalkthrough({ url: a.url, nationalBase: a.url, tokens: b.tokens, gp: { tenant: 'gp', ura: GP }, hospital: { ura: HOSPITAL }, bsn, gpTokens: a.tokens });
    assert.deepEqual(steps.map((s) => s.status), [403, 201, 200, 200, 403], JSON.stringify(steps, null, 1));
    assert.equal(steps[2].detail, '1 conditions');
  });
});
