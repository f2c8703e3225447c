/**
 * Assembles the enforcement point's dependencies for a provider node: token verification against the node's
 * own authorisation server (one verifier per tenant: issuer /auth/{tenant}, audience /fhir/{tenant}), the
 * register of organisations from the node's replica of the addressing directory (tenant `local-directory`,
 * kept by the update client), and the consent registry's closed question over HTTP (fail closed, no cache, so
 * a revocation takes effect at once).
 */
import type { JSONWebKeySet } from 'jose';
import type { Bundle, Organization } from 'fhir/r4';
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import type { Tenant } from '../../tenants/registry.ts';
import { createTokenVerifier, type TokenVerifier } from '../auth/verify.ts';
import { ConsentClient } from '../consent/client.ts';
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
  consentAuthorization: () => string | Promise<string>;
  security?: EnforcementDeps['security'];
}

export function nodeEnforcement(o: NodeEnforcementOptions): EnforcementDeps {
  const verifiers = new Map<string, TokenVerifier>();
  const consentClients = new Map<string, ConsentClient>();
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
      const scope: RequestScope = { tenant: LOCAL_DIRECTORY_TENANT, base: `${o.baseUrl()}/fhir/${LOCAL_DIRECTORY_TENANT}`, strict: false };
      const res = await o.dispatch(scope, { method: 'GET', path: 'Organization', query: [['identifier', `${URA}|${ura}`], ['active:not', 'false']], headers: {} }).catch(() => undefined);
      if (!res?.body) return undefined;
      const bundle = (isRaw(res.body) ? JSON.parse(res.body.raw) : res.body) as Bundle<Organization>;
      const org = bundle.entry?.find((e) => e.resource?.resourceType === 'Organization')?.resource;
      if (!org) return undefined;
      return { organizationType: org.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === ORG_TYPE)?.code };
    },
    consent(q) {
      const base = o.consentBase();
      let client = consentClients.get(base);
      if (!client) consentClients.set(base, (client = new ConsentClient({ base, authorization: o.consentAuthorization, ttlMs: 0 })));
      return client.check(q);
    },
    dispatch: o.dispatch,
    security: o.security,
  };
}
