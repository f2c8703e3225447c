/**
 * The national addressing directory (mCSD, as profiled by the GF guide) as a Fastify plugin.
 *
 * The directory *is* the FHIR core: its entries live in the reserved tenant `national-directory`, so versions,
 * `_history` with `_since`, search, paging and atomic transactions come from `src/server/`. This plugin only
 * authenticates (injected `verifyToken`), applies the policy (`policy.ts`) and translates HTTP ⇄ FhirRequest:
 *
 *   ITI-90 Find Matching Care Services   GET  {prefix}/{Type}?…, POST {prefix}/{Type}/_search, GET {prefix}/{Type}/{id}
 *   ITI-91 Request Care Services Updates GET  {prefix}/{Type}/_history?_since=…  (paged, Bundle.link[next])
 *   ITI-130 Care Services Feed           POST {prefix}/{Type}, PUT {prefix}/{Type}/{id} (If-Match),
 *                                        PUT {prefix}/{Type}?identifier=… , POST {prefix} (transaction)
 *   DELETE anything                      405 (status changes instead)
 *
 * Mount it before the server listens: `await registerDirectoryRoutes(app, { prefix, dispatch, verifyToken })`.
 * The plugin is encapsulated (own body parsers, error and not-found handlers), so it can share an app with the
 * provider routes of `src/http/app.ts`.
 */
import { peerCertificateOf, type PeerCertificate } from '../auth/mtls.ts';
import type { CapabilityStatement, Resource } from 'fhir/r4';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError } from '../../fhir/outcome.ts';
import { parseFhirXml } from '../../fhir/format/xml.ts';
import { negotiate, type Format } from '../../http/formats.ts';
import { parsePrefer } from '../../server/prefer.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import { fhirHeaders, headerOf, send } from '../../http/app.ts';
import { DIRECTORY_PREFIX, DIRECTORY_TYPES, GF_CAPABILITY, NATIONAL_DIRECTORY_TENANT } from './constants.ts';
import { authorizeRequest, type DirectoryReader } from './policy.ts';

export type Dispatch = (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;

/** The verified caller: the organisation (URA) the access token was issued to. */
export interface DirectoryCaller {
  ura: string;
}

export interface DirectoryRoutesOptions {
  /** Mount point; default `/national/directory/fhir`. */
  prefix?: string;
  dispatch: Dispatch;
  /** Verifies the Authorization header (bearer token, bound certificate, …); undefined = not authenticated. */
  verifyToken: (authorization: string | undefined, peer?: PeerCertificate) => DirectoryCaller | undefined | Promise<DirectoryCaller | undefined>;
  /** Tenant holding the directory; default `national-directory`. It must not also be served under /fhir/{tenant}. */
  tenant?: string;
  /** Public base URL of the directory (behind a proxy); default from the request's Host. */
  publicBase?: string;
}

interface RawBody {
  kind: 'json' | 'xml' | 'form';
  text: string;
}

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];
const XML_TYPES = ['application/fhir+xml', 'application/xml', 'text/xml'];

/** Serialises writes per organisation, so the ownership check and the write it guards are not interleaved. */
class KeyedLock {
  private tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export function directoryReader(dispatch: Dispatch, scope: RequestScope): DirectoryReader {
  const bodyOf = (res: FhirResponse): Resource | undefined =>
    res.body === undefined ? undefined : isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
  return {
    async read(type, id) {
      try {
        const res = await dispatch(scope, { method: 'GET', path: `${type}/${id}`, query: [], headers: {} });
        return res.status === 200 ? bodyOf(res) : undefined;
      } catch (e) {
        if (e instanceof FhirError && (e.status === 404 || e.status === 410)) return undefined;
        throw e;
      }
    },
    async search(type, query) {
      const res = await dispatch(scope, { method: 'GET', path: type, query, headers: {} });
      const bundle = bodyOf(res) as { entry?: { resource?: Resource; search?: { mode?: string } }[] } | undefined;
      return (bundle?.entry ?? []).filter((e) => e.resource && e.search?.mode !== 'include').map((e) => e.resource!);
    },
  };
}

export function directoryCapabilityStatement(base: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2025-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json', 'xml'],
    instantiates: [GF_CAPABILITY.iti90, GF_CAPABILITY.iti91, GF_CAPABILITY.iti130],
    implementation: { description: 'Schakel national addressing directory (mCSD)', url: base },
    rest: [
      {
        mode: 'server',
        security: { description: 'Bearer token of a care organisation (URA); writes only on the organisation’s own entries' },
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        resource: DIRECTORY_TYPES.map((type) => ({
          type,
          versioning: 'versioned-update' as const,
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
          conditionalUpdate: true,
          conditionalDelete: 'not-supported' as const,
          interaction: (['read', 'vread', 'search-type', 'history-instance', 'history-type', 'create', 'update'] as const).map((code) => ({ code })),
        })),
      },
    ],
  };
}

export async function registerDirectoryRoutes(app: FastifyInstance, opts: DirectoryRoutesOptions): Promise<void> {
  const prefix = (opts.prefix ?? DIRECTORY_PREFIX).replace(/\/+$/, '');
  const tenant = opts.tenant ?? NATIONAL_DIRECTORY_TENANT;
  const locks = new KeyedLock();

  await app.register(
    async (child) => {
      child.removeAllContentTypeParsers();
      const parser = (kind: RawBody['kind']) => (_req: FastifyRequest, body: string, done: (err: Error | null, body?: RawBody) => void) => done(null, { kind, text: body });
      for (const t of JSON_TYPES) child.addContentTypeParser(t, { parseAs: 'string' }, parser('json'));
      for (const t of XML_TYPES) child.addContentTypeParser(t, { parseAs: 'string' }, parser('xml'));
      child.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parser('form'));
      child.addContentTypeParser('*', (req, _payload, done) => {
        done(FhirError.of(415, 'not-supported', `Content-Type '${req.headers['content-type']}' is not supported; use application/fhir+json or application/fhir+xml`));
      });

      child.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
        let fe: FhirError;
        if (err instanceof FhirError) fe = err;
        else if (err.statusCode && err.statusCode < 500) fe = FhirError.of(err.statusCode, 'invalid', err.message);
        else {
          req.log.error({ err }, 'unexpected error in the directory');
          fe = FhirError.of(500, 'exception', 'Internal server error');
        }
        if (fe.status === 401) reply.header('WWW-Authenticate', 'Bearer');
        void send(reply, formatOf(req), { status: fe.status, headers: {}, body: fe.toOperationOutcome() }, req.method === 'HEAD');
      });

      const handler = async (req: FastifyRequest, reply: FastifyReply) => {
        const url = new URL(req.url, 'http://x');
        const path = ((req.params as { '*'?: string })['*'] ?? '').replace(/\/+$/, '');
        const base = opts.publicBase?.replace(/\/+$/, '') ?? `${(req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol}://${req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost'}${prefix}`;
        const format = formatOf(req);
        if (path === 'metadata') {
          if (req.method !== 'GET' && req.method !== 'HEAD') throw FhirError.of(405, 'not-supported', `${req.method} is not allowed on metadata`);
          return send(reply, format, { status: 200, headers: {}, body: directoryCapabilityStatement(base) }, req.method === 'HEAD');
        }
        // Everything but the CapabilityStatement needs an authenticated organisation.
        const caller = await opts.verifyToken(headerOf(req, 'authorization'), peerCertificateOf(req.raw));
        if (!caller) throw FhirError.of(401, 'login', 'The directory requires a valid access token of a care organisation');
        const scope: RequestScope = { tenant, base, strict: parsePrefer(headerOf(req, 'prefer')).handling === 'strict' };
        const fhirReq = toFhirRequest(req, path, [...url.searchParams.entries()]);
        const ctx = { writer: caller.ura, reader: directoryReader(opts.dispatch, scope), base };
        const isWrite = fhirReq.method !== 'GET' && fhirReq.method !== 'HEAD' && !(fhirReq.method === 'POST' && path.endsWith('/_search'));
        const res = isWrite
          ? await locks.run(caller.ura, async () => opts.dispatch(scope, await authorizeRequest(fhirReq, ctx)))
          : await opts.dispatch(scope, await authorizeRequest(fhirReq, ctx));
        return send(reply, format, res, req.method === 'HEAD');
      };
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        child.route({ method, url: '/', handler, exposeHeadRoute: false });
        child.route({ method, url: '/*', handler, exposeHeadRoute: false });
      }
    },
    { prefix },
  );
}


function formatOf(req: FastifyRequest): Format {
  const q = req.query as Record<string, string> | undefined;
  return negotiate(q?._format, req.headers.accept);
}

function toFhirRequest(req: FastifyRequest, path: string, query: [string, string][]): FhirRequest {
  const raw = req.body as RawBody | undefined;
  let body: unknown;
  if (raw && raw.text.length > 0) {
    if (raw.kind === 'form') query.push(...new URLSearchParams(raw.text).entries());
    else if (raw.kind === 'xml') body = parseFhirXml(raw.text);
    else {
      try {
        body = JSON.parse(raw.text);
      } catch (e) {
        throw FhirError.of(400, 'structure', `The body is not valid JSON: ${(e as Error).message}`);
      }
    }
  } else if ((req.method === 'POST' || req.method === 'PUT') && !path.endsWith('_search')) {
    throw FhirError.of(400, 'required', `${req.method} needs a body`);
  }
  return {
    method: req.method as FhirRequest['method'],
    path,
    query,
    headers: fhirHeaders(req),
    body,
    bodyKind: body === undefined ? undefined : 'resource',
  };
}

