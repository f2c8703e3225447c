/**
 * HTTP face of the consent registry (Fastify plugin), mounted under /national/consent (ADR 0003):
 *
 *   POST   {prefix}/$check                 closed question → Permit | Deny | NotApplicable
 *   POST   {prefix}/$open                  open question → permitted holders
 *   POST   {prefix}/Consent                create            GET {prefix}/Consent?…   search (narrowed to the caller)
 *   GET    {prefix}/Consent/{id}           read              PUT {prefix}/Consent/{id} update / revoke (status inactive)
 *   DELETE {prefix}/Consent/{id}           delete            GET {prefix}/Consent/{id}/_history[/{vid}]
 *   POST   {prefix}/Subscription           register a rest-hook Subscription (criteria Consent?…)
 *   GET    {prefix}/Subscription/{id}      DELETE {prefix}/Subscription/{id}
 *
 * Every route needs `Authorization: Bearer …`, checked by the injected `verifyToken` (401 otherwise).
 * FHIR endpoints speak FHIR JSON and XML (`_format` or Accept). Errors are OperationOutcomes with the
 * expression of the offending element.
 *
 * $check / $open input: JSON (application/json or application/fhir+json)
 *   { "patient": { "bsn": "…" } | { "key": "…" } | { "pseudonym": "…" },
 *     "holder":    { "ura": "…", "category": "RPZAC001" | "organizationType": "Z3" },
 *     "consulter": { "ura": "…", "category": … | "organizationType": … },
 *     "dataCategory": "GGC012" | nl-gf code, "purpose": "TREAT" (default), "at": dateTime (default now) }
 *   $open takes no holder, and optionally "holders": [ { ura, category | organizationType }, … ] (candidates).
 *   A FHIR Parameters body is accepted too: parameters patient (valueIdentifier BSN), holder-ura, holder-category,
 *   holder-organization-type, consulter-ura, consulter-category, consulter-organization-type, data-category,
 *   purpose, at (value[x] string/code/Coding/Identifier).
 * $check output: plain JSON `{ decision, reason, basis: { code, system, display, source? }, consentIds }` by
 *   default; a FHIR Parameters (decision, reason, basis, basis-source, consent*) when the client asks for FHIR
 *   (Accept application/fhir+json or application/fhir+xml, or `_format`).
 * Who may ask: the holder or the consulter named in the question (its URA = the token's), a PGO for its own
 *   patient, a node or admin for anyone. $open: the consulter itself (or node/admin).
 */
import { peerCertificateOf, type PeerCertificate } from '../auth/mtls.ts';
import type { Parameters, ParametersParameter, Resource } from 'fhir/r4';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError, badRequest } from '../../fhir/outcome.ts';
import { parseFhirXml, toFhirXml } from '../../fhir/format/xml.ts';
import { negotiate, formatOf, type Format } from '../../http/formats.ts';
import type { FhirResponse } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import type { Decision } from './decide.ts';
import { CONSENT_TENANT, type ConsentRegistry, type DecideRequest, type OpenRequest, type PartyInput, type Principal } from './registry.ts';
import { SYSTEMS } from './catalogue.ts';

export interface ConsentRoutesOptions {
  prefix?: string;
  registry: ConsentRegistry;
  /** Verifies `Authorization`; undefined = not authenticated (401). */
  /** The peer certificate is there over mutual TLS: a certificate-bound token must come with its certificate. */
  verifyToken: (authorization: string | undefined, peer?: PeerCertificate) => Principal | undefined | Promise<Principal | undefined>;
  /** Refuse the registry tenant on the generic FHIR route (/fhir/national-consent); default true. */
  guardTenantRoute?: boolean;
}

const principals = new WeakMap<FastifyRequest, Principal>();

export async function registerConsentRoutes(app: FastifyInstance, opts: ConsentRoutesOptions): Promise<void> {
  const prefix = (opts.prefix ?? '/national/consent').replace(/\/$/, '');
  const reg = opts.registry;

  if (opts.guardTenantRoute !== false) {
    // The registry tenant holds BSNs: it is reachable only through these routes, never through /fhir/{tenant}.
    const blocked = `/fhir/${CONSENT_TENANT}`;
    app.addHook('onRequest', async (req) => {
      // Runs on every request of the node: without a '%' the URL decodes to itself, and the registry tenant's
      // name (which holds no '/') then has to appear in it literally.
      if (!req.url.includes(CONSENT_TENANT) && !req.url.includes('%')) return;
      let path = req.url.split('?')[0];
      try {
        path = decodeURIComponent(path); // the router decodes too: /fhir/national%2Dconsent is the same tenant
      } catch {
        return; // undecodable: the router will not find a tenant either
      }
      path = path.replace(/\/{2,}/g, '/');
      if (path === blocked || path.startsWith(`${blocked}/`)) throw FhirError.of(404, 'not-found', `Tenant '${CONSENT_TENANT}' is not known`);
    });
  }

  await app.register(
    async (sub) => {
      sub.removeAllContentTypeParsers();
      sub.addContentTypeParser(['application/json', 'application/fhir+json', 'application/json+fhir'], { parseAs: 'string' }, (_req, body, done) => {
        const text = body as string;
        if (text.length === 0) return done(null, undefined);
        try {
          done(null, JSON.parse(text));
        } catch (e) {
          done(FhirError.of(400, 'structure', `The body is not valid JSON: ${(e as Error).message}`));
        }
      });
      sub.addContentTypeParser(['application/fhir+xml', 'application/xml', 'text/xml'], { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, (body as string).length ? parseFhirXml(body as string) : undefined);
        } catch (e) {
          done(e instanceof FhirError ? e : FhirError.of(400, 'structure', (e as Error).message));
        }
      });
      sub.addContentTypeParser('*', (req, _payload, done) => done(FhirError.of(415, 'not-supported', `Content-Type '${req.headers['content-type']}' is not supported`)));

      sub.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
        let fe: FhirError;
        if (err instanceof FhirError) fe = err;
        else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') fe = FhirError.of(413, 'too-costly', 'The request body is too large');
        else if (err.statusCode && err.statusCode < 500) fe = FhirError.of(err.statusCode, 'invalid', err.message);
        else {
          req.log.error({ err: { message: err.message, code: err.code } }, 'consent registry error');
          fe = FhirError.of(500, 'exception', 'Internal server error');
        }
        if (fe.status === 401) reply.header('WWW-Authenticate', 'Bearer');
        void send(reply, formatFor(req), { status: fe.status, headers: {}, body: fe.toOperationOutcome() });
      });

      sub.addHook('onRequest', async (req) => {
        const who = await opts.verifyToken(req.headers.authorization, peerCertificateOf(req.raw));
        if (!who) throw FhirError.of(401, 'login', 'A valid bearer token is required');
        principals.set(req, who);
      });

      const who = (req: FastifyRequest): Principal => principals.get(req) as Principal;
      const baseOf = (req: FastifyRequest): string => {
        const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
        const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
        const base = `${proto}://${host}${prefix}`;
        if (reg.baseUrl.startsWith('http://localhost/')) reg.baseUrl = base;
        return base;
      };
      const fhir = (req: FastifyRequest, reply: FastifyReply, res: FhirResponse) => send(reply, formatFor(req), res);
      const query = (req: FastifyRequest): [string, string][] => [...new URL(req.url, 'http://x').searchParams.entries()].filter(([k]) => k !== '_format');
      const id = (req: FastifyRequest) => (req.params as { id: string }).id;

      sub.post('/$check', async (req, reply) => {
        const p = who(req);
        const q = checkInput(req.body);
        const asked = q.patient;
        // Only a pseudonym needs resolving (asynchronously): a BSN or key is asked as it is, without a wait.
        if ('pseudonym' in q.patient) q.patient = await reg.resolve(q.patient);
        const d = reg.decide(q); // validates the whole question first: bad input is a 400 whoever asks
        mayAsk(p, asked, [q.holder.ura, q.consulter.ura]);
        if (wantsFhir(req)) return send(reply, formatFor(req), { status: 200, headers: {}, body: decisionParameters(d) });
        return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(d));
      });

      sub.post('/$open', async (req, reply) => {
        const p = who(req);
        const q = openInput(req.body);
        const asked = q.patient;
        q.patient = await reg.resolve(q.patient);
        const a = reg.openQuestion(q);
        mayAsk(p, asked, [q.consulter.ura]);
        return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(a));
      });

      sub.get('/Consent', async (req, reply) => fhir(req, reply, await reg.search(query(req), who(req), baseOf(req))));
      sub.post('/Consent', async (req, reply) => fhir(req, reply, await reg.create(req.body, who(req), baseOf(req))));
      sub.get('/Consent/:id', async (req, reply) => fhir(req, reply, await reg.read(id(req), who(req), baseOf(req))));
      sub.put('/Consent/:id', async (req, reply) => fhir(req, reply, await reg.update(id(req), req.body, who(req), header(req, 'if-match'), baseOf(req))));
      sub.delete('/Consent/:id', async (req, reply) => fhir(req, reply, await reg.delete(id(req), who(req), baseOf(req))));
      sub.get('/Consent/:id/_history', async (req, reply) => fhir(req, reply, await reg.history(id(req), who(req), baseOf(req))));
      sub.get('/Consent/:id/_history/:vid', async (req, reply) => fhir(req, reply, await reg.read(id(req), who(req), baseOf(req), (req.params as { vid: string }).vid)));
      sub.post('/Subscription', async (req, reply) => fhir(req, reply, await reg.subscribe(req.body, who(req), baseOf(req))));
      sub.get('/Subscription/:id', async (req, reply) => fhir(req, reply, await reg.readSubscription(id(req), who(req), baseOf(req))));
      sub.delete('/Subscription/:id', async (req, reply) => fhir(req, reply, await reg.unsubscribe(id(req), who(req), baseOf(req))));
    },
    { prefix },
  );
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function formatParam(req: FastifyRequest): string | undefined {
  return (req.query as Record<string, string> | undefined)?._format;
}

function formatFor(req: FastifyRequest): Format {
  return negotiate(formatParam(req), req.headers.accept);
}

/** $check answers FHIR Parameters only when FHIR is asked for explicitly. */
function wantsFhir(req: FastifyRequest): boolean {
  const f = formatParam(req);
  if (f) return formatOf(f) !== undefined && f.includes('fhir');
  const a = req.headers.accept ?? '';
  return a.includes('application/fhir+json') || a.includes('application/fhir+xml');
}

function mayAsk(p: Principal, patient: DecideRequest['patient'], uras: (string | undefined)[]): void {
  const role = p.role ?? 'provider';
  if (role === 'admin' || role === 'node') return;
  if (role === 'pgo') {
    if (p.patient && patient && 'bsn' in patient && patient.bsn === p.patient) return;
    throw FhirError.of(403, 'forbidden', 'A PGO may only ask about its own user', 'patient');
  }
  if (!uras.includes(p.ura)) throw FhirError.of(403, 'forbidden', 'Only the holder or the consulter named in the question may ask it');
}

function send(reply: FastifyReply, format: Format, res: FhirResponse): FastifyReply {
  reply.code(res.status);
  for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
  if (res.body === undefined) return reply.send();
  if (format === 'json') return reply.header('content-type', 'application/fhir+json; charset=utf-8').send(isRaw(res.body) ? res.body.raw : JSON.stringify(res.body));
  const r = isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body;
  return reply.header('content-type', 'application/fhir+xml; charset=utf-8').send(toFhirXml(r));
}

export function decisionParameters(d: Decision): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'decision', valueCode: d.decision },
    { name: 'reason', valueString: d.reason },
    { name: 'basis', valueCoding: { system: d.basis.system, code: d.basis.code, display: d.basis.display } },
  ];
  if (d.basis.source) parameter.push({ name: 'basis-source', valueString: d.basis.source });
  for (const c of d.consentIds) parameter.push({ name: 'consent', valueReference: { reference: `Consent/${c}` } });
  return { resourceType: 'Parameters', parameter };
}

// ---------------------------------------------------------------- input

function object(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a JSON object (or a FHIR Parameters resource)', '$');
  return body as Record<string, unknown>;
}

function fromParameters(p: Parameters): Record<string, unknown> {
  const get = (name: string): string | undefined => {
    const x = p.parameter?.find((q) => q.name === name);
    if (!x) return undefined;
    return x.valueString ?? x.valueCode ?? x.valueCoding?.code ?? x.valueIdentifier?.value ?? x.valueDateTime ?? x.valueInstant ?? x.valueUri;
  };
  const patientParam = p.parameter?.find((q) => q.name === 'patient');
  if (patientParam?.valueIdentifier && patientParam.valueIdentifier.system !== SYSTEMS.bsn) throw badRequest(`patient must be an Identifier with system ${SYSTEMS.bsn}`, 'Parameters.parameter.where(name=\'patient\')');
  const party = (role: string): PartyInput | undefined => {
    const ura = get(`${role}-ura`);
    const category = get(`${role}-category`);
    const organizationType = get(`${role}-organization-type`);
    return ura || category || organizationType ? { ura, category, organizationType } : undefined;
  };
  const bsn = get('patient');
  return { patient: bsn ? { bsn } : undefined, holder: party('holder'), consulter: party('consulter'), dataCategory: get('data-category'), purpose: get('purpose'), at: get('at') };
}

function normalise(body: unknown): Record<string, unknown> {
  const o = object(body);
  return o.resourceType === 'Parameters' ? fromParameters(o as unknown as Parameters) : o;
}

function str(v: unknown, expr: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${expr} must be a string`, expr);
  return v;
}

function partyInput(v: unknown, expr: string): PartyInput {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${expr} is required: { ura, category | organizationType }`, expr);
  const o = v as Record<string, unknown>;
  return { ura: str(o.ura, `${expr}.ura`), category: str(o.category, `${expr}.category`), organizationType: str(o.organizationType, `${expr}.organizationType`) };
}

function patientInput(v: unknown): DecideRequest['patient'] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest('patient is required: { bsn } | { key } | { pseudonym }', 'patient');
  const o = v as Record<string, unknown>;
  if (o.bsn !== undefined) return { bsn: str(o.bsn, 'patient.bsn') as string };
  if (o.key !== undefined) return { key: str(o.key, 'patient.key') as string };
  if (o.pseudonym !== undefined) return { pseudonym: str(o.pseudonym, 'patient.pseudonym') as string };
  throw badRequest('patient is required: { bsn } | { key } | { pseudonym }', 'patient');
}

function checkInput(body: unknown): DecideRequest {
  const o = normalise(body);
  return {
    patient: patientInput(o.patient),
    holder: partyInput(o.holder, 'holder'),
    consulter: partyInput(o.consulter, 'consulter'),
    dataCategory: str(o.dataCategory, 'dataCategory') as string,
    purpose: str(o.purpose, 'purpose'),
    at: str(o.at, 'at'),
  };
}

function openInput(body: unknown): OpenRequest {
  const o = normalise(body);
  let holders: PartyInput[] | undefined;
  if (o.holders !== undefined) {
    if (!Array.isArray(o.holders)) throw badRequest('holders must be an array', 'holders');
    holders = o.holders.map((h, i) => partyInput(h, `holders[${i}]`));
  }
  return {
    patient: patientInput(o.patient),
    consulter: partyInput(o.consulter, 'consulter'),
    dataCategory: str(o.dataCategory, 'dataCategory') as string,
    purpose: str(o.purpose, 'purpose'),
    at: str(o.at, 'at'),
    holders,
  };
}

