/**
 * The national localisation index (NVI) as a Fastify plugin (default prefix `/national/nvi/fhir`), per the
 * generic-functions guide: List create (POST or transaction), delete (by id, conditional, or in a
 * transaction), search by `subject:identifier` + `code` (+ `source:identifier`); no update (405).
 * The subject identifier a client sends is single use (PRS JWE + blind factor); the NVI opens it to its
 * stable pseudonym and stores only that. Responses never carry the subject identifier value.
 */
import { peerCertificateOf, type PeerCertificate } from '../auth/mtls.ts';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Bundle, BundleEntry, CapabilityStatement, List } from 'fhir/r4';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import { PseudonymRejected, type PseudonymRecipient } from '../pseudonym/recipient.ts';
import { jsonBodies, jsonErrors, type Caller } from '../pseudonym/service.ts';
import { DATA_CATEGORY_SYSTEM } from './categories.ts';
import { NVI_IDENTIFIER_SYSTEM, OAUTH_CLIENT_ID_SYSTEM, methodNotAllowed, rejectPlainBsn, toList, validateList } from './list.ts';
import { nviMetrics, type Counters } from './metrics.ts';
import { LocalisationStore, migrateLocalisation, type AnyKysely } from './store.ts';

export const NVI_SCOPES = { write: 'nvi:write', read: 'nvi:read' } as const;

export interface NviCaller extends Caller {
  /** OAuth client id of the calling installation, when the token carries one. */
  clientId?: string;
}
export type NviVerifyToken = (authorization: string | undefined, peer?: PeerCertificate) => NviCaller | undefined | Promise<NviCaller | undefined>;

export interface LocalisationRouteOptions {
  /** Database that holds the gf_localisation table (migrated on registration). */
  db: AnyKysely;
  /** The NVI as PRS recipient: its private key, organisation, scope and replay guard. */
  recipient: PseudonymRecipient;
  verifyToken: NviVerifyToken;
  prefix?: string;
  metrics?: Counters;
  /** Key sealing paging cursors (random per process by default). */
  cursorKey?: Uint8Array;
  defaultCount?: number;
  maxCount?: number;
}

interface Cursor {
  p?: string;
  c?: string[];
  s?: string;
  cu?: string;
  a?: string;
  n: number;
  exp: number;
}

export const localisationRoutes: FastifyPluginAsync<LocalisationRouteOptions> = async (app, opts) => {
  await migrateLocalisation(opts.db);
  const store = new LocalisationStore(opts.db);
  const metrics = opts.metrics ?? nviMetrics();
  const cursorKey = Buffer.from(opts.cursorKey ?? randomBytes(32));
  const defaultCount = opts.defaultCount ?? 100;
  const maxCount = opts.maxCount ?? 1000;
  jsonErrors(app);
  jsonBodies(app, ['application/fhir+json', 'application/json']);

  const auth = async (req: FastifyRequest, scope: string): Promise<NviCaller> => {
    const caller = await opts.verifyToken(req.headers.authorization, peerCertificateOf(req.raw));
    if (!caller) {
      metrics.inc('schakel_nvi_rejected_total', { reason: 'unauthenticated' });
      throw FhirError.of(401, 'login', 'A valid bearer token is required');
    }
    if (!caller.scopes.includes(scope)) {
      metrics.inc('schakel_nvi_rejected_total', { reason: 'scope' });
      throw FhirError.of(403, 'forbidden', `The token lacks scope '${scope}'`);
    }
    return caller;
  };

  const open = async (nviIdentifier: string, expression: string): Promise<string> => {
    try {
      return (await opts.recipient.openNviIdentifier(nviIdentifier)).pseudonym;
    } catch (e) {
      if (e instanceof PseudonymRejected) {
        metrics.inc('schakel_nvi_rejected_total', { reason: `identifier-${e.reason}` });
        throw badRequest(`The NVI identifier is not usable: ${e.message}`, expression);
      }
      throw e;
    }
  };

  const baseOf = (req: FastifyRequest) => {
    const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
    const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
    return `${proto}://${host}${app.prefix}`;
  };

  const fhirJson = 'application/fhir+json';

  /** Validates, authorises and opens one registration; returns what to store. */
  const prepareCreate = async (caller: NviCaller, body: unknown, at: string) => {
    const reg = validateList(body, at);
    if (reg.custodian !== caller.ura) {
      metrics.inc('schakel_nvi_rejected_total', { reason: 'custodian' });
      throw FhirError.of(403, 'forbidden', 'An organisation registers only its own data: the custodian URA must be the caller’s', `${at}.extension`);
    }
    if (caller.clientId !== undefined && reg.source !== caller.clientId) {
      metrics.inc('schakel_nvi_rejected_total', { reason: 'source' });
      throw FhirError.of(403, 'forbidden', 'List.source.identifier.value must be the calling client’s id', `${at}.source.identifier.value`);
    }
    const pseudonym = await open(reg.nviIdentifier, `${at}.subject.identifier.value`);
    return { pseudonym, category: reg.category, custodian: reg.custodian, source: reg.source };
  };

  app.post('/List', async (req, reply) => {
    const caller = await auth(req, NVI_SCOPES.write);
    const e = await prepareCreate(caller, req.body, 'List');
    const r = await store.register(e);
    metrics.inc('schakel_nvi_registrations_total', { outcome: r.created ? 'created' : 'existing', category: e.category });
    req.log.info({ event: 'nvi.register', category: e.category, custodian: e.custodian, created: r.created }, 'localisation record');
    reply.code(r.created ? 201 : 200).header('location', `${baseOf(req)}/List/${r.entry.id}/_history/1`).header('content-type', fhirJson);
    return JSON.stringify(toList(r.entry));
  });

  app.get('/List/:id', async (req, reply) => {
    await auth(req, NVI_SCOPES.read);
    const e = await store.get((req.params as { id: string }).id);
    if (!e) throw FhirError.of(404, 'not-found', 'No such localisation record');
    reply.header('content-type', fhirJson);
    return JSON.stringify(toList(e));
  });

  app.delete('/List/:id', async (req, reply) => {
    const caller = await auth(req, NVI_SCOPES.write);
    await deleteById(caller, (req.params as { id: string }).id);
    req.log.info({ event: 'nvi.delete', custodian: caller.ura }, 'localisation record deleted');
    return reply.code(204).send();
  });

  const deleteById = async (caller: NviCaller, id: string, s = store) => {
    const e = await s.get(id);
    if (!e) throw FhirError.of(404, 'not-found', 'No such localisation record');
    if (e.custodian !== caller.ura) throw FhirError.of(403, 'forbidden', 'Only the custodian may delete its localisation record');
    await s.deleteById(id);
    metrics.inc('schakel_nvi_deletions_total', { category: e.category });
  };

  /** Conditional delete: the caller's own records matching subject:identifier (+ code, + source:identifier). */
  const conditionalDelete = async (caller: NviCaller, params: URLSearchParams, at: string, s = store) => {
    const q = await parseSearch(params);
    if (q.pseudonym === undefined) throw badRequest('A conditional delete needs subject:identifier', at);
    const n = await s.deleteWhere({ pseudonym: q.pseudonym, categories: q.categories, custodian: caller.ura, source: q.source });
    if (n > 0) metrics.inc('schakel_nvi_deletions_total', { category: q.categories?.join(',') ?? 'any' }, n);
    return n;
  };

  app.delete('/List', async (req, reply) => {
    const caller = await auth(req, NVI_SCOPES.write);
    const n = await conditionalDelete(caller, new URL(req.url, 'http://x').searchParams, 'List');
    req.log.info({ event: 'nvi.delete', custodian: caller.ura, count: n }, 'localisation records deleted');
    return reply.code(204).send();
  });

  for (const url of ['/List/:id', '/List']) {
    for (const method of ['PUT', 'PATCH'] as const) {
      app.route({
        method,
        url,
        handler: async () => {
          throw methodNotAllowed(`${method} of a List`);
        },
      });
    }
  }

  /** Parses the search parameters the guide allows; the subject identifier is opened to the pseudonym. */
  const parseSearch = async (params: URLSearchParams) => {
    let pseudonym: string | undefined;
    let categories: string[] | undefined;
    let source: string | undefined;
    let count = defaultCount;
    for (const [name, value] of params) {
      if (name === 'subject:identifier') {
        const bar = value.indexOf('|');
        const system = bar >= 0 ? value.slice(0, bar) : undefined;
        const v = bar >= 0 ? value.slice(bar + 1) : value;
        if (system !== undefined && system !== NVI_IDENTIFIER_SYSTEM) throw badRequest(`subject:identifier must use the system ${NVI_IDENTIFIER_SYSTEM}`, 'subject:identifier');
        rejectPlainBsn(system ?? '', 'subject:identifier');
        pseudonym = await open(v, 'subject:identifier');
      } else if (name === 'code') {
        categories = value.split(',').map((t) => {
          const bar = t.indexOf('|');
          if (bar >= 0 && t.slice(0, bar) !== DATA_CATEGORY_SYSTEM) throw badRequest(`code must use the system ${DATA_CATEGORY_SYSTEM}`, 'code');
          return bar >= 0 ? t.slice(bar + 1) : t;
        });
      } else if (name === 'source:identifier') {
        const bar = value.indexOf('|');
        if (bar >= 0 && value.slice(0, bar) !== OAUTH_CLIENT_ID_SYSTEM) throw badRequest(`source:identifier must use the system ${OAUTH_CLIENT_ID_SYSTEM}`, 'source:identifier');
        source = bar >= 0 ? value.slice(bar + 1) : value;
        rejectPlainBsn(source, 'source:identifier');
      } else if (name === '_count') {
        count = Number(value);
        if (!Number.isInteger(count) || count < 1) throw badRequest('_count must be a positive integer', '_count');
        count = Math.min(count, maxCount);
      } else if (name === '_format' || name === '_page') {
        // handled elsewhere
      } else {
        rejectPlainBsn(value, name);
        throw badRequest(`Search parameter '${name}' is not supported; use subject:identifier, code, source:identifier`, name);
      }
    }
    return { pseudonym, categories, source, count };
  };

  const seal = (c: Cursor) => {
    const iv = randomBytes(12);
    const ci = createCipheriv('aes-256-gcm', cursorKey, iv);
    const ct = Buffer.concat([ci.update(JSON.stringify(c)), ci.final()]);
    return Buffer.concat([iv, ct, ci.getAuthTag()]).toString('base64url');
  };
  const unseal = (t: string): Cursor => {
    try {
      const raw = Buffer.from(t, 'base64url');
      const d = createDecipheriv('aes-256-gcm', cursorKey, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(raw.length - 16));
      const c = JSON.parse(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString()) as Cursor;
      if (c.exp < Date.now()) throw new Error('expired');
      return c;
    } catch {
      throw badRequest('_page is not a valid or current page token', '_page');
    }
  };

  app.get('/List', async (req, reply) => {
    const caller = await auth(req, NVI_SCOPES.read);
    const params = new URL(req.url, 'http://x').searchParams;
    let cur: Cursor;
    const page = params.get('_page');
    if (page) cur = unseal(page);
    else {
      const q = await parseSearch(params);
      if (q.pseudonym === undefined && q.source === undefined) throw badRequest('Search needs subject:identifier or source:identifier', 'subject:identifier');
      // Without a subject, a caller sees only its own organisation's records.
      cur = { p: q.pseudonym, c: q.categories, s: q.source, cu: q.pseudonym === undefined ? caller.ura : undefined, n: q.count, exp: Date.now() + 10 * 60_000 };
    }
    const res = await store.search({ pseudonym: cur.p, categories: cur.c, source: cur.s, custodian: cur.cu, after: cur.a, limit: cur.n });
    metrics.inc('schakel_nvi_searches_total', { by: cur.p !== undefined ? 'subject' : 'source' });
    req.log.info({ event: 'nvi.search', by: cur.p !== undefined ? 'subject' : 'source', caller: caller.ura, results: res.entries.length }, 'localisation search');
    const base = baseOf(req);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [
        { relation: 'self', url: `${base}/List?_page=${seal(cur)}` },
        ...(res.next ? [{ relation: 'next', url: `${base}/List?_page=${seal({ ...cur, a: res.next, exp: Date.now() + 10 * 60_000 })}` }] : []),
      ],
      entry: res.entries.map((e) => ({ fullUrl: `${base}/List/${e.id}`, resource: toList(e), search: { mode: 'match' } })),
    };
    if (!res.next && !cur.a) bundle.total = res.entries.length;
    reply.header('content-type', fhirJson).header('cache-control', 'no-store');
    return JSON.stringify(bundle);
  });

  app.post('/', async (req, reply) => {
    const caller = await auth(req, NVI_SCOPES.write);
    const b = req.body as Bundle | undefined;
    if (!b || b.resourceType !== 'Bundle') throw badRequest('POST to the base needs a transaction Bundle', 'Bundle');
    if (b.type !== 'transaction') throw badRequest("Only Bundle.type 'transaction' is supported", 'Bundle.type');
    const entries = b.entry ?? [];
    if (entries.length > 1000) throw badRequest('At most 1000 entries per transaction', 'Bundle.entry');
    // Phase 1: validate, authorise and open every pseudonym before touching the store.
    type Op = { kind: 'create'; e: Awaited<ReturnType<typeof prepareCreate>> } | { kind: 'delete-id'; id: string } | { kind: 'delete-if'; params: URLSearchParams; at: string };
    const ops: Op[] = [];
    for (const [i, entry] of entries.entries()) {
      const at = `Bundle.entry[${i}]`;
      const method = entry.request?.method;
      const url = entry.request?.url ?? '';
      if (method === 'POST' && /^List\/?$/.test(url)) ops.push({ kind: 'create', e: await prepareCreate(caller, entry.resource, `${at}.resource`) });
      else if (method === 'DELETE' && /^List\/[A-Za-z0-9\-.]{1,64}$/.test(url)) ops.push({ kind: 'delete-id', id: url.slice(5) });
      else if (method === 'DELETE' && url.startsWith('List?')) {
        ops.push({ kind: 'delete-if', params: new URLSearchParams(url.slice(5)), at: `${at}.request.url` });
      } else if (method === 'PUT' || method === 'PATCH') throw methodNotAllowed(`${method} of a List (${at})`);
      else throw badRequest('Each entry must be POST List or DELETE List/{id} / List?{search}', `${at}.request`);
    }
    // Phase 2: apply atomically.
    const results = await store.atomically(async (s) => {
      const out: BundleEntry[] = [];
      for (const op of ops) {
        if (op.kind === 'create') {
          const r = await s.register(op.e);
          metrics.inc('schakel_nvi_registrations_total', { outcome: r.created ? 'created' : 'existing', category: op.e.category });
          out.push({ response: { status: r.created ? '201 Created' : '200 OK', location: `List/${r.entry.id}/_history/1` }, resource: toList(r.entry) as List });
        } else if (op.kind === 'delete-id') {
          await deleteById(caller, op.id, s);
          out.push({ response: { status: '204 No Content' } });
        } else {
          await conditionalDelete(caller, op.params, op.at, s);
          out.push({ response: { status: '204 No Content' } });
        }
      }
      return out;
    });
    req.log.info({ event: 'nvi.transaction', custodian: caller.ura, entries: ops.length }, 'localisation transaction');
    reply.header('content-type', fhirJson);
    return JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry: results } satisfies Bundle);
  });

  app.get('/metadata', async (_req, reply) => {
    const cs: CapabilityStatement = {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2026-01-01',
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
      instantiates: ['http://minvws.github.io/generiekefuncties-docs/CapabilityStatement/nl-gf-localization-repository-list'],
      rest: [
        {
          mode: 'server',
          resource: [
            {
              type: 'List',
              profile: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-localization-list',
              interaction: [{ code: 'create' }, { code: 'read' }, { code: 'delete' }, { code: 'search-type' }],
              conditionalDelete: 'multiple',
              searchParam: [
                { name: 'subject', type: 'reference', documentation: 'with :identifier (NVI identifier)' },
                { name: 'code', type: 'token' },
                { name: 'source', type: 'reference', documentation: 'with :identifier (OAuth client id)' },
              ],
            },
          ],
          interaction: [{ code: 'transaction' }],
        },
      ],
    };
    reply.header('content-type', fhirJson);
    return JSON.stringify(cs);
  });
};

/** Mounts the NVI at `opts.prefix` (default `/national/nvi/fhir`). */
export function registerLocalisationRoutes(app: FastifyInstance, opts: LocalisationRouteOptions) {
  return app.register(localisationRoutes, { ...opts, prefix: opts.prefix ?? '/national/nvi/fhir' });
}
