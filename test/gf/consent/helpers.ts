/** Test fixtures for the consent registry: a real HTTP server (generic FHIR app + consent routes) over a fresh engine. */
import type { Consent } from 'fhir/r4';
import { buildApp } from '../../../src/http/app.ts';
import { openNode, type ProviderNode } from '../../../src/node/provider-node.ts';
import type { Dialect } from '../../../src/storage/schema.ts';
import { nthTestBsn } from '../../../src/synth/identifiers.ts';
import { SYSTEMS, type ConsentCatalogue } from '../../../src/gf/consent/catalogue.ts';
import { ConsentRegistry, type Principal } from '../../../src/gf/consent/registry.ts';
import { registerConsentRoutes } from '../../../src/gf/consent/routes.ts';
import type { NotifierOptions } from '../../../src/gf/consent/notify.ts';
import { freshEngine, type EngineTarget } from '../../helpers/engines.ts';

/** The i-th valid BSN of the 999 test range. */
export const testBsn = nthTestBsn;

/** Tokens in tests: `Bearer <role>:<ura>[:<bsn>]`, e.g. `provider:00000001`, `pgo:90000009:999900011`. */
export function testVerifier(authorization: string | undefined): Principal | undefined {
  const m = /^Bearer (provider|pgo|node|admin):(\d{8})(?::(\d{9}))?$/.exec(authorization ?? '');
  if (!m) return undefined;
  return { role: m[1], ura: m[2], patient: m[3] };
}

export interface ConsentServer {
  url: string;
  base: string;
  node: ProviderNode;
  registry: ConsentRegistry;
  target: EngineTarget;
  /** Stops HTTP and the registry; the database stays for a restart unless `cleanup`. */
  stop(cleanup?: boolean): Promise<void>;
}

export async function startConsentServer(
  db: Dialect,
  o: { catalogue?: ConsentCatalogue; notifier?: NotifierOptions; target?: EngineTarget } = {},
): Promise<ConsentServer> {
  const target = o.target ?? (await freshEngine(db));
  const node = await openNode(target.opts);
  const app = buildApp({ dispatch: node.dispatch, tenants: node.tenants });
  const registry = await ConsentRegistry.open({ dispatch: node.dispatch, tenants: node.tenants, catalogue: o.catalogue, notifier: o.notifier });
  await registerConsentRoutes(app, { prefix: '/national/consent', registry, verifyToken: testVerifier });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    url,
    base: `${url}/national/consent`,
    node,
    registry,
    target,
    stop: async (cleanup = true) => {
      registry.close();
      await app.close();
      await node.close();
      if (cleanup) await target.cleanup();
    },
  };
}

export async function call(url: string, init: { method?: string; body?: unknown; token?: string; accept?: string; contentType?: string } = {}) {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      accept: init.accept ?? 'application/json',
      ...(init.body !== undefined ? { 'content-type': init.contentType ?? 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export type Actor = { ura: string } | { category: string };

/** A Consent as a PGO or provider would send it. */
export function consent(o: {
  bsn: string;
  type: 'permit' | 'deny';
  holder?: Actor;
  consulter?: Actor;
  categories?: string[];
  purposes?: string[];
  period?: { start?: string; end?: string };
  status?: Consent['status'];
  id?: string;
}): Consent {
  const actor = (a: Actor, role: string) => ({
    role: { coding: [{ system: SYSTEMS.participationType, code: role }] },
    reference: 'ura' in a ? { type: 'Organization', identifier: { system: SYSTEMS.ura, value: a.ura } } : { identifier: { system: SYSTEMS.providerCategory, value: a.category } },
  });
  return {
    resourceType: 'Consent',
    ...(o.id ? { id: o.id } : {}),
    status: o.status ?? 'active',
    scope: { coding: [{ system: SYSTEMS.consentScope, code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEMS.bsn, value: o.bsn } },
    provision: {
      type: o.type,
      ...(o.period ? { period: o.period } : {}),
      ...(o.holder || o.consulter ? { actor: [...(o.holder ? [actor(o.holder, 'CST')] : []), ...(o.consulter ? [actor(o.consulter, 'IRCP')] : [])] } : {}),
      ...(o.categories ? { code: o.categories.map((c) => ({ coding: [{ system: SYSTEMS.dataCategory, code: c }] })) } : {}),
      ...(o.purposes ? { purpose: o.purposes.map((p) => ({ system: SYSTEMS.actReason, code: p })) } : {}),
    },
  };
}
