/**
 * The national pseudonym service (PRS), as the generic-functions guide describes it:
 *   POST {prefix}/evaluate  {blinded_input, recipient_organization: "ura:…", recipient_scope[, key_version]}
 *     → {evaluated_output: <JWE compact, RSA-OAEP-256|RSA-OAEP + A256GCM, exp ≤ 60 s, unique jti>}
 * The OPRF key is bound to the recipient organisation and scope; the PRS stores no inputs, outputs or links.
 * Secondary use (project pseudonyms, reversible and irreversible) and a small admin API (recipient keys,
 * key versions) sit beside it. Every route needs a bearer token, checked by the injected `verifyToken`.
 */
import { peerCertificateOf, type PeerCertificate } from '../auth/mtls.ts';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { EncryptJWT } from 'jose';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import type { PersonIdentifier } from './identifier.ts';
import type { PrsKeyStore } from './keys.ts';
import { OprfInputError, b64u, blindEvaluate } from './oprf.ts';
import { EVAL_SUBJECT_PREFIX } from './recipient.ts';
import { RECIPIENT_ORG, RecipientRegistry, type RecipientEntry } from './recipients.ts';
import { depseudonymiseSecondary, pseudonymiseSecondary, type SecondaryMode } from './secondary.ts';

/** Who is calling, as the auth module's token verification reports it. */
export interface Caller {
  ura: string;
  scopes: string[];
}
export type VerifyToken = (authorization: string | undefined, peer?: PeerCertificate) => Caller | undefined | Promise<Caller | undefined>;

export const PRS_SCOPES = {
  evaluate: 'prs:read',
  secondary: 'prs:secondary',
  depseudonymise: 'prs:depseudonymise',
  admin: 'prs:admin',
} as const;

export interface SecondaryProject {
  id: string;
  /** URAs that may request pseudonyms for the project (the export job's organisation). */
  pseudonymisers: string[];
  /** URAs that may reverse reversible pseudonyms (e.g. the trusted third party); usually none. */
  depseudonymisers: string[];
}

export interface PseudonymServiceOptions {
  keys: PrsKeyStore;
  recipients: RecipientRegistry;
  projects?: SecondaryProject[];
  /** Lifetime of an evaluated_output JWE in seconds; at most 60 (default 60). */
  ttlSeconds?: number;
  issuer?: string;
  now?: () => number;
}

export const PRS_ISSUER = 'urn:schakel:national:prs';
const MAX_BATCH = 10_000;

export class PseudonymService {
  readonly keys: PrsKeyStore;
  readonly recipients: RecipientRegistry;
  readonly issuer: string;
  #projects = new Map<string, SecondaryProject>();
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(opts: PseudonymServiceOptions) {
    this.keys = opts.keys;
    this.recipients = opts.recipients;
    this.issuer = opts.issuer ?? PRS_ISSUER;
    this.#ttl = Math.max(1, Math.min(60, opts.ttlSeconds ?? 60));
    this.#now = opts.now ?? (() => Date.now());
    for (const p of opts.projects ?? []) this.#projects.set(p.id, p);
  }

  /** Validates and evaluates one request; throws FhirError (400/404) naming the field at fault. */
  async evaluate(body: unknown): Promise<{ evaluated_output: string; key_version: number; recipient: string; scope: string }> {
    const o = object(body);
    const org = o.recipient_organization;
    if (typeof org !== 'string' || !RECIPIENT_ORG.test(org)) throw badRequest("recipient_organization must be 'ura:' followed by the recipient's 8-digit URA", 'recipient_organization');
    const scope = o.recipient_scope;
    if (typeof scope !== 'string' || scope.length === 0 || scope.length > 100) throw badRequest('recipient_scope must be a non-empty string', 'recipient_scope');
    if (typeof o.blinded_input !== 'string') throw badRequest('blinded_input is required: a base64url-encoded ristretto255 element', 'blinded_input');
    const blinded = b64u.decode(o.blinded_input);
    if (!blinded || blinded.length !== 32) throw badRequest('blinded_input must be base64url of a 32-byte ristretto255 element', 'blinded_input');
    let version = this.keys.currentVersion;
    if (o.key_version !== undefined) {
      if (typeof o.key_version !== 'number' || !Number.isInteger(o.key_version) || !this.keys.has(o.key_version)) throw badRequest(`key_version must be one of ${this.keys.versions().map((v) => v.version).join(', ')}`, 'key_version');
      version = o.key_version;
    }
    const recipient = this.recipients.get(org);
    if (!recipient) throw FhirError.of(404, 'not-found', `recipient_organization ${org} is not a registered recipient`, 'recipient_organization');
    if (!recipient.scopes.includes(scope)) throw FhirError.of(404, 'not-found', `recipient_scope '${scope}' is not registered for ${org}`, 'recipient_scope');
    let evaluated: Uint8Array;
    try {
      evaluated = blindEvaluate(this.keys.oprfKey(version, { organization: org, scope }), blinded);
    } catch (e) {
      if (e instanceof OprfInputError) throw badRequest(`blinded_input is not a valid element: ${e.message}`, 'blinded_input');
      throw e;
    }
    const nowSec = Math.floor(this.#now() / 1000);
    const jwe = await new EncryptJWT({ scope, subject: `${EVAL_SUBJECT_PREFIX}${b64u.encode(evaluated)}`, key_version: version })
      .setProtectedHeader({ alg: recipient.alg ?? 'RSA-OAEP-256', enc: 'A256GCM', typ: 'JWT', ...(recipient.publicJwk.kid ? { kid: recipient.publicJwk.kid } : {}) })
      .setIssuer(this.issuer)
      .setAudience(org)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + this.#ttl)
      .setJti(randomUUID())
      .encrypt(await this.recipients.encryptionKey(org));
    return { evaluated_output: jwe, key_version: version, recipient: org, scope };
  }

  project(id: unknown): SecondaryProject {
    if (typeof id !== 'string' || !this.#projects.has(id)) throw FhirError.of(404, 'not-found', `project must name a registered secondary-use project`, 'project');
    return this.#projects.get(id)!;
  }

  pseudonymise(caller: Caller, body: unknown): { project: string; mode: SecondaryMode; key_version: number; pseudonyms: string[] } {
    const o = object(body);
    const project = this.project(o.project);
    if (!project.pseudonymisers.includes(caller.ura)) throw FhirError.of(403, 'forbidden', `organisation ${caller.ura} may not pseudonymise for project ${project.id}`);
    const mode = o.mode;
    if (mode !== 'reversible' && mode !== 'irreversible') throw badRequest("mode must be 'reversible' or 'irreversible'", 'mode');
    let version = this.keys.currentVersion;
    if (o.key_version !== undefined) {
      if (typeof o.key_version !== 'number' || !this.keys.has(o.key_version)) throw badRequest('key_version is not a known key version', 'key_version');
      version = o.key_version;
    }
    if (!Array.isArray(o.identifiers) || o.identifiers.length === 0 || o.identifiers.length > MAX_BATCH) throw badRequest(`identifiers must be a list of 1..${MAX_BATCH} identifiers`, 'identifiers');
    const ids = o.identifiers.map((x, i) => personIdentifier(x, `identifiers[${i}]`));
    return { project: project.id, mode, key_version: version, pseudonyms: ids.map((id) => pseudonymiseSecondary(this.keys, project.id, mode, id, version)) };
  }

  depseudonymise(caller: Caller, body: unknown): { project: string; identifiers: (PersonIdentifier | null)[] } {
    const o = object(body);
    const project = this.project(o.project);
    if (!project.depseudonymisers.includes(caller.ura)) throw FhirError.of(403, 'forbidden', `organisation ${caller.ura} may not depseudonymise for project ${project.id}`);
    if (!Array.isArray(o.pseudonyms) || o.pseudonyms.length === 0 || o.pseudonyms.length > MAX_BATCH) throw badRequest(`pseudonyms must be a list of 1..${MAX_BATCH} pseudonyms`, 'pseudonyms');
    return {
      project: project.id,
      identifiers: o.pseudonyms.map((p, i) => {
        if (typeof p !== 'string') throw badRequest('each pseudonym must be a string', `pseudonyms[${i}]`);
        return depseudonymiseSecondary(this.keys, project.id, p) ?? null;
      }),
    };
  }
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  return body as Record<string, unknown>;
}

function personIdentifier(x: unknown, path: string): PersonIdentifier {
  const o = typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
  for (const f of ['landCode', 'type', 'value'] as const) {
    if (typeof o[f] !== 'string' || (o[f] as string).length === 0 || (o[f] as string).length > 64) throw badRequest(`${path}.${f} must be a non-empty string`, `${path}.${f}`);
  }
  return { landCode: o.landCode as string, type: o.type as string, value: o.value as string };
}

export interface PseudonymRouteOptions {
  service: PseudonymService;
  verifyToken: VerifyToken;
  /** Mount point (default `/national/prs`). */
  prefix?: string;
}

/** Sends FhirErrors as OperationOutcome JSON; anything else as a 500 without internals. */
export function jsonErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    let fe: FhirError;
    if (err instanceof FhirError) fe = err;
    else if (err.statusCode && err.statusCode < 500) fe = FhirError.of(err.statusCode, 'invalid', err.message);
    else {
      req.log.error({ err: { message: err.message, name: err.name } }, 'unexpected error');
      fe = FhirError.of(500, 'exception', 'Internal server error');
    }
    if (fe.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    void reply.code(fe.status).header('content-type', 'application/fhir+json').send(JSON.stringify(fe.toOperationOutcome()));
  });
}

/** Replaces inherited body parsers with one JSON parser that reports errors as OperationOutcome. */
export function jsonBodies(app: FastifyInstance, types: string[] = ['application/json']): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(types, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, (body as string).length ? JSON.parse(body as string) : undefined);
    } catch (e) {
      done(FhirError.of(400, 'structure', `The body is not valid JSON: ${(e as Error).message}`));
    }
  });
  app.addContentTypeParser('*', (req, _payload, done) => done(FhirError.of(415, 'not-supported', `Content-Type '${req.headers['content-type']}' is not supported; use ${types[0]}`)));
}

export function requireScope(verify: VerifyToken, scope: string) {
  return async (req: FastifyRequest): Promise<Caller> => {
    const caller = await verify(req.headers.authorization, peerCertificateOf(req.raw));
    if (!caller) throw FhirError.of(401, 'login', 'A valid bearer token is required');
    if (!caller.scopes.includes(scope)) throw FhirError.of(403, 'forbidden', `The token lacks scope '${scope}'`);
    return caller;
  };
}

export const pseudonymRoutes: FastifyPluginAsync<PseudonymRouteOptions> = async (app, opts) => {
  const { service } = opts;
  jsonErrors(app);
  jsonBodies(app);
  const evaluator = requireScope(opts.verifyToken, PRS_SCOPES.evaluate);
  const admin = requireScope(opts.verifyToken, PRS_SCOPES.admin);
  const secondary = requireScope(opts.verifyToken, PRS_SCOPES.secondary);
  const reverse = requireScope(opts.verifyToken, PRS_SCOPES.depseudonymise);
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.post('/evaluate', async (req, reply) => {
    const caller = await evaluator(req);
    const r = await service.evaluate(req.body);
    // Operational log: who asked for which recipient; never the blinded input or the output.
    req.log.info({ event: 'prs.evaluate', caller: caller.ura, recipient: r.recipient, scope: r.scope, keyVersion: r.key_version }, 'evaluated');
    noStore(reply);
    return { evaluated_output: r.evaluated_output };
  });

  app.post('/secondary/pseudonymise', async (req, reply) => {
    const caller = await secondary(req);
    const r = service.pseudonymise(caller, req.body);
    req.log.info({ event: 'prs.secondary.pseudonymise', caller: caller.ura, project: r.project, mode: r.mode, count: r.pseudonyms.length }, 'pseudonymised');
    noStore(reply);
    return r;
  });

  app.post('/secondary/depseudonymise', async (req, reply) => {
    const caller = await reverse(req);
    const r = service.depseudonymise(caller, req.body);
    req.log.warn({ event: 'prs.secondary.depseudonymise', caller: caller.ura, project: r.project, count: r.identifiers.length }, 'depseudonymised');
    noStore(reply);
    return r;
  });

  app.get('/recipients', async (req) => {
    await admin(req);
    return { recipients: service.recipients.list() };
  });
  app.put('/recipients/:organization', async (req, reply) => {
    await admin(req);
    const organization = (req.params as { organization: string }).organization;
    const body = object(req.body) as Partial<RecipientEntry>;
    const entry = { ...body, organization };
    const problem = RecipientRegistry.check(entry);
    if (problem) throw badRequest(problem.message, problem.field);
    const existed = service.recipients.get(organization) !== undefined;
    service.recipients.register(entry as RecipientEntry);
    reply.code(existed ? 200 : 201);
    return service.recipients.get(organization);
  });
  app.delete('/recipients/:organization', async (req, reply) => {
    await admin(req);
    const organization = (req.params as { organization: string }).organization;
    if (!service.recipients.remove(organization)) throw FhirError.of(404, 'not-found', `recipient ${organization} is not registered`);
    return reply.code(204).send();
  });
  app.get('/keys', async (req) => {
    await admin(req);
    return { current: service.keys.currentVersion, versions: service.keys.versions() };
  });
  app.post('/keys/rotate', async (req) => {
    await admin(req);
    const version = service.keys.rotate();
    req.log.warn({ event: 'prs.keys.rotate', version }, 'PRS key rotated');
    return { current: version, versions: service.keys.versions() };
  });
};

/** Mounts the PRS routes at `opts.prefix` (default `/national/prs`). */
export function registerPseudonymRoutes(app: FastifyInstance, opts: PseudonymRouteOptions) {
  return app.register(pseudonymRoutes, { ...opts, prefix: opts.prefix ?? '/national/prs' });
}
