/**
 * The HTTP face of a node: Fastify routes /fhir/{tenant}/… to the FHIR dispatcher. This layer only
 * translates — content types, headers, status codes, OperationOutcome on every error — and builds the
 * request scope (tenant, base URL, patient context from the bearer token) before anything is dispatched.
 */
import type { Resource } from 'fhir/r4';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { FhirError, operationOutcome } from '../fhir/outcome.ts';
import { parseFhirXml, toFhirXml } from '../fhir/format/xml.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../server/types.ts';
import { isRaw } from '../server/types.ts';
import { parsePrefer } from '../server/prefer.ts';
import { isReservedTenant, type TenantRegistry } from '../tenants/registry.ts';
import { randomUUID } from 'node:crypto';
import { accessRecord } from '../gf/audit/access.ts';
import { enforce, type AccessGrant, type EnforcementDeps } from '../gf/authorisation/enforce.ts';
import { narrow } from '../gf/authorisation/narrow.ts';
import { peerCertificateOf } from '../gf/auth/mtls.ts';
import type { AccessContext } from '../gf/audit/event.ts';
import type { AuditLog } from '../gf/audit/log.ts';
import type { SecurityEvent } from '../ops/logging.ts';
import type { HttpMetrics } from '../ops/metrics.ts';
import { instrumentRequests } from '../ops/requests.ts';
import { contentTypeOf, formatOf, negotiate, type Format } from './formats.ts';

export interface AppOptions {
  dispatch: (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;
  /** Every FHIR request (but metadata) is recorded here (NEN 7513). */
  audit?: AuditLog;
  tenants: TenantRegistry;
  /** Resolves a bearer token to a patient context (qualification mode); undefined = no patient scoping. */
  patientContext?: (authorization: string | undefined) => { type: 'Patient'; id: string } | undefined | 'unauthorized';
  /** The enforcement point (src/gf/authorisation/enforce.ts); absent = an open development node (--no-auth). */
  enforcement?: EnforcementDeps;
  bodyLimit?: number;
  /** The operations stream (src/ops/logging.ts): a line per request, unexpected errors. Absent = no logging. */
  ops?: Logger;
  /** Request counters and durations (src/ops/metrics.ts). */
  metrics?: HttpMetrics;
  /** Security events of this layer (a refused qualification token); see src/ops/logging.ts securitySink. */
  security?: (event: SecurityEvent) => void;
  /** Serve over TLS (mTLS: request the client's certificate; the token server and verifier decide what it is worth). */
  https?: { key: string; cert: string; ca: string[]; requestCert: boolean; rejectUnauthorized: boolean };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Body as the parsers left it: raw text per content type, parsed in one place with FHIR errors. */
interface RawBody {
  kind: 'json' | 'xml' | 'json-patch' | 'form';
  text: string;
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    // Fastify's own request lines carry the URL (ids, BSNs in queries): off; src/ops/requests.ts logs instead.
    ...(opts.ops ? { loggerInstance: opts.ops as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024,
    // Ids and search values may contain characters Fastify would otherwise reject as too long.
    routerOptions: { maxParamLength: 2048 },
    // Close kept-alive client connections when the server closes, so a stopping server never lingers.
    forceCloseConnections: true,
    exposeHeadRoutes: false,
  });
  instrumentRequests(app, { logger: opts.ops, metrics: opts.metrics, tenantOf: (t) => (!isReservedTenant(t) && opts.tenants.get(t) ? t : '-') });
  app.removeAllContentTypeParsers();
  const textParser = (kind: RawBody['kind']) => (_req: FastifyRequest, body: string, done: (err: Error | null, body?: RawBody) => void) => done(null, { kind, text: body });
  for (const t of ['application/fhir+json', 'application/json', 'application/json+fhir', 'text/json']) app.addContentTypeParser(t, { parseAs: 'string' }, textParser('json'));
  for (const t of ['application/fhir+xml', 'application/xml', 'text/xml', 'application/xml+fhir']) app.addContentTypeParser(t, { parseAs: 'string' }, textParser('xml'));
  app.addContentTypeParser('application/json-patch+json', { parseAs: 'string' }, textParser('json-patch'));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, textParser('form'));
  app.addContentTypeParser('*', (req, _payload, done) => {
    done(FhirError.of(415, 'not-supported', `Content-Type '${req.headers['content-type']}' is not supported; use application/fhir+json or application/fhir+xml`));
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const format = negotiate(formatParamOf(req), req.headers.accept);
    let fe: FhirError;
    if (err instanceof FhirError) fe = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') fe = FhirError.of(413, 'too-costly', `The request body exceeds the limit of ${opts.bodyLimit ?? 64 * 1024 * 1024} bytes`);
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') fe = FhirError.of(415, 'not-supported', err.message);
    else if (err.statusCode && err.statusCode < 500) fe = FhirError.of(err.statusCode, 'invalid', err.message);
    else {
      req.log.error({ err }, 'unexpected error');
      fe = FhirError.of(500, 'exception', 'Internal server error');
    }
    void send(reply, format, { status: fe.status, headers: {}, body: fe.toOperationOutcome() }, req.method === 'HEAD');
  });
  app.setNotFoundHandler((req, reply) => {
    void send(reply, negotiate(formatParamOf(req), req.headers.accept), {
      status: 404,
      headers: {},
      body: operationOutcome([{ severity: 'error', code: 'not-found', diagnostics: `Nothing at ${req.url}; FHIR bases are /fhir/{tenant}` }]),
    });
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = req.params as { tenant: string; '*': string };
    const tenant = isReservedTenant(params.tenant) ? undefined : opts.tenants.get(params.tenant);
    if (!tenant) throw FhirError.of(404, 'not-found', `Tenant '${params.tenant}' is not known`);
    const url = new URL(req.url, 'http://x');
    const query: [string, string][] = [...url.searchParams.entries()];
    const format = negotiate(url.searchParams.get('_format') ?? undefined, req.headers.accept);
    let compartment: RequestScope['compartment'];
    if (opts.patientContext) {
      const ctx = opts.patientContext(req.headers.authorization);
      if (ctx === 'unauthorized') {
        opts.security?.({ event: 'token-refused', tenant: tenant.tenant, reason: 'unknown-token' });
        reply.header('WWW-Authenticate', 'Bearer');
        throw FhirError.of(401, 'login', 'A valid bearer token is required');
      }
      compartment = ctx;
    }
    const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
    const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
    const scope: RequestScope = {
      tenant: tenant.tenant,
      base: `${proto}://${host}/fhir/${tenant.tenant}`,
      compartment,
      strict: parsePrefer(headerOf(req, 'prefer')).handling === 'strict',
    };
    // Correlation id: taken from the caller (MedMij X-Correlation-ID) or made here, echoed, and audited.
    const correlationId = headerOf(req, 'x-correlation-id') ?? randomUUID();
    reply.header('X-Correlation-ID', correlationId);
    const requestId = headerOf(req, 'medmij-request-id');
    if (requestId) reply.header('MedMij-Request-ID', requestId);
    let context: AccessContext = { correlationId, purpose: compartment ? 'patient-access' : undefined };
    const fhirReq = toFhirRequest(req, params['*'] ?? '', query);
    const audited = opts.audit && fhirReq.path !== 'metadata';
    let res: FhirResponse;
    let grant: AccessGrant | undefined;
    try {
      if (opts.enforcement && fhirReq.path !== 'metadata') {
        const cert = peerCertificateOf(req.raw);
        grant = await enforce(opts.enforcement, tenant, scope, fhirReq, { authorization: req.headers.authorization, correlationId, emergencyReason: headerOf(req, 'x-emergency-reason') }, cert);
        context = grant.context;
        if (grant.compartment) scope.compartment = grant.compartment;
      }
      res = await opts.dispatch(scope, fhirReq);
      if (grant?.categories) res = narrow(res, grant.categories);
    } catch (e) {
      if (audited) opts.audit!.record(accessRecord(scope, fhirReq, e instanceof FhirError ? e.status : 500, context));
      throw e;
    }
    if (audited) opts.audit!.record(accessRecord(scope, fhirReq, res.status, context, res));
    return send(reply, format, res, req.method === 'HEAD');
  };
  for (const method of METHODS) {
    app.route({ method, url: '/fhir/:tenant', handler });
    app.route({ method, url: '/fhir/:tenant/*', handler });
  }
  app.get('/health', async () => ({ status: 'ok' }));
  return app;
}

/** A request header as one string (repeated headers joined), as FHIR handlers read them. */
export function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function formatParamOf(req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, string> | undefined;
  return q?._format;
}

function toFhirRequest(req: FastifyRequest, path: string, query: [string, string][]): FhirRequest {
  const raw = req.body as RawBody | undefined;
  let body: unknown;
  let bodyKind: FhirRequest['bodyKind'];
  if (raw && raw.text.length > 0) {
    if (raw.kind === 'form') {
      // POST [type]/_search: form parameters join the URL parameters.
      query.push(...new URLSearchParams(raw.text).entries());
    } else if (raw.kind === 'xml') {
      body = parseFhirXml(raw.text);
      bodyKind = 'resource';
    } else {
      try {
        body = JSON.parse(raw.text);
      } catch (e) {
        throw FhirError.of(400, 'structure', `The body is not valid JSON: ${(e as Error).message}`);
      }
      bodyKind = raw.kind === 'json-patch' ? 'json-patch' : 'resource';
    }
  } else if (['POST', 'PUT'].includes(req.method) && !path.includes('$') && !path.endsWith('_search')) {
    throw FhirError.of(400, 'required', `${req.method} needs a body`);
  }
  return {
    method: req.method as FhirRequest['method'],
    path: path.replace(/\/+$/, ''),
    query,
    headers: fhirHeaders(req),
    body,
    bodyKind,
  };
}

/** The request headers FHIR interactions read (conditional requests and Prefer). */
export function fhirHeaders(req: FastifyRequest): FhirRequest['headers'] {
  return {
    ifMatch: headerOf(req, 'if-match'),
    ifNoneMatch: headerOf(req, 'if-none-match'),
    ifNoneExist: headerOf(req, 'if-none-exist'),
    ifModifiedSince: headerOf(req, 'if-modified-since'),
    prefer: headerOf(req, 'prefer'),
  };
}

/** Writes a FhirResponse in the negotiated format (also used by service routes beside /fhir, e.g. the directory). */
export function send(reply: FastifyReply, format: Format, res: FhirResponse, head = false): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  if (res.body === undefined || res.status === 304) return reply.send();
  // A response that names its own media type (e.g. a Bulk Data manifest: application/json) keeps it.
  if (!res.headers['Content-Type']) reply.header('Content-Type', contentTypeOf(format));
  let payload: string;
  if (format === 'json') payload = isRaw(res.body) ? res.body.raw : JSON.stringify(res.body);
  else payload = toFhirXml(isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body);
  return head ? reply.send() : reply.send(payload);
}

export { formatOf };
