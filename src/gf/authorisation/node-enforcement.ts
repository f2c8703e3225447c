/**
 * Assembles the enforcement point's dependencies for a provider node: token verification against the node's
 * own authorisation server (one verifier per tenant: issuer /auth/{tenant}, audience /fhir/{tenant}), the
 * register of organisations from the node's replica of the addressing directory (tenant `local-directory`,
 * kept by the update client), and the consent registry's closed question over HTTP (fail closed, no cache, so
 * a revocation takes effect at once).
 *
 * Per request, only what can change per request is worked out again: verified tokens are kept until they expire
 * (src/gf/auth/verify.ts; the certificate binding is still checked each time), a directory look-up for a few
 * seconds (the replica itself is only brought up to date every few minutes). Consent answers are never kept;
 * when the registry runs in this process (`localConsent`) its decide() is asked directly instead of over HTTP.
 */
import type { JSONWebKeySet } from 'jose';
import type { Bundle, Organization } from 'fhir/r4';
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import type { Tenant } from '../../tenants/registry.ts';
import { createTokenVerifier, type TokenVerifier } from '../auth/verify.ts';
import { SYSTEMS } from '../consent/catalogue.ts';
import { ConsentClient } from '../consent/client.ts';
import type { Decision } from '../consent/decide.ts';
import type { DecideRequest } from '../consent/registry.ts';
import { ExpiringCache } from '../auth/expiring-cache.ts';
import type { EnforcementDeps } from './enforce.ts';

const URA = 'http://fhir.nl/fhir/NamingSystem/ura';
const ORG_TYPE = 'http://nictiz.nl/fhir/NamingSystem/organization-type';
export const LOCAL_DIRECTORY_TENANT = 'local-directory';

export interface NodeEnforcementOptions {
  /** Public origin of the node, e.g. http://127.0.0.1:8080 (a function: known only once listening). */
  baseUrl: () => string;
  /** Public keys of the node's token-signing keys. */
  jwks: JSONWebKeySet;
  dispatch: (scope: RequestScope, req: FhirRequest) => Promise<FhirResponse>;
  /** The consent registry, e.g. http://127.0.0.1:8080/national/consent, and how the node authenticates there. */
  consentBase: () => string;
  /** The Authorization header for asking as the holder (the tenant's URA: the registry answers holder or consulter only). */
  consentAuthorization: (holderUra: string | undefined) => string | Promise<string>;
  /** Over mutual TLS: the holder organisation's certificate for the question (its token is bound to it). */
  consentTls?: (holderUra: string | undefined) => { certPem: string; keyPem: string; caPems: string[] } | undefined;
  security?: EnforcementDeps['security'];
  /** How long a directory look-up is reused (default 10 s; 0 = look up on every request). */
  organisationTtlMs?: number;
  /**
   * The consent registry's own `decide()` when it runs in this process (e.g. `(q) => registry.decide(q)`): the
   * same decision without an HTTP round trip to ourselves, still asked on every request. Absent = over HTTP.
   */
  localConsent?: (q: DecideRequest) => Decision;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

type Organisation = { organizationType?: string } | undefined;

export function nodeEnforcement(o: NodeEnforcementOptions): EnforcementDeps {
  const verifiers = new Map<string, TokenVerifier>();
  const consentClients = new Map<string, ConsentClient>();
  const orgTtl = o.organisationTtlMs ?? 10_000;
  const now = o.now ?? Date.now;
  const organisations = new ExpiringCache<string, { org: Organisation }>(orgTtl > 0 ? 10_000 : 0, now);
  const lookUp = async (ura: string): Promise<Organisation> => {
    const scope: RequestScope = { tenant: LOCAL_DIRECTORY_TENANT, base: `${o.baseUrl()}/fhir/${LOCAL_DIRECTORY_TENANT}`, strict: false };
    const res = await o.dispatch(scope, { method: 'GET', path: 'Organization', query: [['identifier', `${URA}|${ura}`], ['active:not', 'false']], headers: {} }).catch(() => undefined);
    if (!res?.body) return undefined;
    const bundle = (isRaw(res.body) ? JSON.parse(res.body.raw) : res.body) as Bundle<Organization>;
    const org = bundle.entry?.find((e) => e.resource?.resourceType === 'Organization')?.resource;
    if (!org) return undefined;
    return { organizationType: org.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === ORG_TYPE)?.code };
  };
  return {
    verify(tenant: Tenant, authorization, peerCertificate) {
      let v = verifiers.get(tenant.tenant);
      if (!v) {
        v = createTokenVerifier({ issuer: `${o.baseUrl()}/auth/${tenant.tenant}`, audience: `${o.baseUrl()}/fhir/${tenant.tenant}`, jwks: o.jwks });
        verifiers.set(tenant.tenant, v);
      }
      return v(authorization, peerCertificate);
    },
    async organisation(ura) {
      const hit = organisations.get(ura);
      if (hit) return hit.org;
      const org = await lookUp(ura);
      // Known and unknown alike: a stranger hammering the node costs one look-up per TTL, not one per request.
      organisations.set(ura, { org }, now() + orgTtl);
      return org;
    },
    consent(q) {
      if (o.localConsent) return Promise.resolve(askLocally(o.localConsent, q));
      const base = o.consentBase();
      const key = `${base}\u0000${q.holder.ura ?? ''}`;
      let client = consentClients.get(key);
      if (!client) consentClients.set(key, (client = new ConsentClient({ base, authorization: () => o.consentAuthorization(q.holder.ura), ttlMs: 0, tls: o.consentTls?.(q.holder.ura) })));
      return client.check(q);
    },
    dispatch: o.dispatch,
    security: o.security,
  };
}

/** The in-process closed question fails closed like the HTTP client: a question the registry refuses is a Deny. */
function askLocally(decide: (q: DecideRequest) => Decision, q: DecideRequest): Decision {
  try {
    return decide(q);
  } catch (e) {
    return {
      decision: 'Deny',
      reason: `consent registry refused the question: ${(e as Error).message}; denied (fail closed)`,
      basis: { code: 'registry-unavailable', system: SYSTEMS.legalBasis, display: 'The consent registry could not be asked' },
      consentIds: [],
    };
  }
}
