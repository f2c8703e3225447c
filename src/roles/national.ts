/**
 * The national role: the generic-function services a region shares, mounted on one Fastify app under /national/.
 *
 *   /national/auth/{service}         token server for the national services (client credentials, private_key_jwt,
 *                                    the organisation's UZI-style certificate in x5c; audience /national/{service})
 *   /national/directory/fhir         addressing directory (mCSD ITI-90/91/130)
 *   /national/consent                consent registry (Mitz-like closed question, FHIR Consent)
 *   /national/nvi/fhir               localisation index (NVI, pseudonymised List entries)
 *   /national/prs                    pseudonym service (OPRF, JWE for the recipient)
 *   /national/idp                    citizen test IdP (DigiD-like OpenID Connect; src/roles/citizen-login.ts)
 *
 * Every service authenticates with tokens of its own audience: a token for the NVI is no key to the consent
 * registry. Scopes say what a caller may do at a service (SERVICE_SCOPES). Keys that must survive a restart (the
 * issuer's signing key, the PRS keys, the NVI's recipient key) live in <data>/national/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ProviderNode } from '../node/provider-node.ts';
import { registerDirectoryRoutes, DIRECTORY_PREFIX, NATIONAL_DIRECTORY_TENANT } from '../gf/addressing/index.ts';
import { certificateClientRegistry } from '../gf/auth/client-registries.ts';
import type { KeyStore } from '../gf/auth/pki.ts';
import { registerAuthServer, type SigningKey } from '../gf/auth/token-server.ts';
import type { PeerCertificate } from '../gf/auth/mtls.ts';
import { createTokenVerifier, type VerifiedClaims } from '../gf/auth/verify.ts';
import { ConsentRegistry, registerConsentRoutes } from '../gf/consent/index.ts';
import { registerLocalisationRoutes } from '../gf/localisation/service.ts';
import { nviMetrics } from '../gf/localisation/metrics.ts';
import type { Registry } from 'prom-client';
import { PrsKeyStore } from '../gf/pseudonym/keys.ts';
import { PseudonymRecipient } from '../gf/pseudonym/recipient.ts';
import { RecipientRegistry } from '../gf/pseudonym/recipients.ts';
import { PRS_ISSUER, PseudonymService, registerPseudonymRoutes } from '../gf/pseudonym/service.ts';
import { persistentRecipientKey, persistentSigningKey } from './keys.ts';
import { CITIZEN_IDP_PATH, mountCitizenIdp, type CitizenLoginOptions, type MountedCitizenIdp } from './citizen-login.ts';
import { citizenTokenKey } from './citizen-consent-token.ts';

export const NATIONAL_SERVICES = ['directory', 'consent', 'nvi', 'prs'] as const;
export type NationalService = (typeof NATIONAL_SERVICES)[number];

/** What a token for each service may carry. */
export const SERVICE_SCOPES: Record<NationalService, string[]> = {
  directory: ['directory:read', 'directory:write'],
  consent: ['consent:check', 'consent:register'],
  nvi: ['nvi:read', 'nvi:write'],
  prs: ['prs:read', 'prs:secondary'],
};

/** The NVI as the PRS recipient of the pseudonyms nodes register with. */
export const NVI_RECIPIENT = { organization: 'ura:90000901', scope: 'nationale-verwijsindex' };

export const nationalPaths = (base: string) => ({
  auth: (service: NationalService) => `${base}/national/auth/${service}`,
  token: (service: NationalService) => `${base}/national/auth/${service}/token`,
  directory: `${base}${DIRECTORY_PREFIX}`,
  consent: `${base}/national/consent`,
  nvi: `${base}/national/nvi/fhir`,
  prs: `${base}/national/prs`,
});

export interface NationalOptions {
  node: ProviderNode;
  /** Public origin, known once listening. */
  url: () => string;
  /** Holds the trusted (test) UZI CA. */
  keys: KeyStore;
  /** Where the national keys are kept: <dataDir>/national. */
  dataDir: string;
  /** The node's /metrics registry, for the NVI's counters. */
  metrics?: Registry;
  /** Served over mutual TLS: token requests must present the client certificate; tokens are bound to it. */
  mtls?: boolean;
  /** The citizens and relying parties of the citizen test IdP (the national role does not know the patients). */
  citizenLogin?: CitizenLoginOptions;
}

export interface NationalServices {
  consent: ConsentRegistry;
  prs: PseudonymService;
  signingKey: SigningKey;
  close(): void;
}

export async function mountNationalServices(app: FastifyInstance, o: NationalOptions): Promise<NationalServices> {
  const dir = join(o.dataDir, 'national');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signingKey = persistentSigningKey(join(dir, 'token-signing.key.pem'));
  const caPem = o.keys.caCertPem();
  const allScopes = Object.values(SERVICE_SCOPES).flat();

  await registerAuthServer(app, {
    prefix: '/national/auth/:tenant',
    baseUrl: o.url,
    hasTenant: (s) => (NATIONAL_SERVICES as readonly string[]).includes(s),
    audience: (service, base) => `${base}/national/${service}`,
    resolveClient: certificateClientRegistry(),
    signingKeys: [signingKey],
    trustedCaPems: [caPem],
    serviceScopes: allScopes,
    requireClientCertificate: o.mtls === true,
  });

  // One verifier per service: its issuer and its audience.
  const verifiers = new Map<NationalService, ReturnType<typeof createTokenVerifier>>();
  const verify = async (service: NationalService, authorization: string | undefined, peer?: PeerCertificate): Promise<(VerifiedClaims & { granted: string[] }) | undefined> => {
    let v = verifiers.get(service);
    if (!v) {
      const p = nationalPaths(o.url());
      v = createTokenVerifier({ issuer: p.auth(service), audience: `${o.url()}/national/${service}`, jwks: { keys: [signingKey.publicJwk] } });
      verifiers.set(service, v);
    }
    try {
      const claims = await v(authorization, peer);
      if (authorization) callers.set(authorization, { ura: claims.ura, clientId: claims.clientId, until: claims.expiresAt.getTime() });
      return { ...claims, granted: claims.scope.split(' ').filter((s) => SERVICE_SCOPES[service].includes(s)) };
    } catch {
      return undefined; // each service answers 401 itself
    }
  };

  // NEN 7513 for the national services that hold personal data (consent: BSNs; NVI: pseudonymised locations; PRS:
  // blinded identifiers): every request is audited with the caller the service verified, the route (never the
  // URL: it may carry a BSN) and the outcome. The verified caller is remembered per token for its lifetime.
  const callers = new Map<string, { ura: string; clientId: string; until: number }>();
  app.addHook('onResponse', async (req, reply) => {
    // The hook sits on the whole app: every /fhir request passes here too, so leave those at once.
    if (!req.url.startsWith('/national/')) return;
    const service = /^\/national\/(consent|nvi|prs)(?:\/|$|\?)/.exec(req.url)?.[1];
    if (!service) return;
    const auth = req.headers.authorization;
    const caller = auth ? callers.get(auth) : undefined;
    if (callers.size > 10_000) for (const [k, c] of callers) if (c.until < Date.now()) callers.delete(k);
    const route = req.routeOptions.url ?? req.url.split('?')[0];
    const status = reply.statusCode;
    o.node.audit.record({
      tenant: `national-${service}`,
      interaction: req.method === 'GET' ? (route.includes(':id') ? 'read' : 'search') : req.method === 'DELETE' ? 'delete' : req.method === 'PUT' ? 'update' : route.includes('$') || service === 'prs' ? 'operation' : 'create',
      what: `${req.method} ${route}`,
      outcome: status < 400 ? 'success' : status < 500 ? 'minor-failure' : 'serious-failure',
      status,
      context: { organisationUra: caller?.ura, clientId: caller?.clientId, correlationId: typeof req.headers['x-correlation-id'] === 'string' ? req.headers['x-correlation-id'] : req.id },
      observer: `${o.url()}/national/${service}`,
    });
  });

  // The directory tenant is reserved (never served under /fhir) and must exist before the routes use it.
  await o.node.tenants.ensure({ tenant: NATIONAL_DIRECTORY_TENANT, name: 'National addressing directory (mCSD)' });
  await registerDirectoryRoutes(app, {
    dispatch: o.node.dispatch,
    // Reading the directory needs any valid directory token; the publishing policy (own entries only) is the directory's.
    verifyToken: async (a, peer) => {
      const c = await verify('directory', a, peer);
      return c ? { ura: c.ura } : undefined;
    },
  });

  const consent = await ConsentRegistry.open({ dispatch: o.node.dispatch, tenants: o.node.tenants });
  // A citizen's access token from the citizen IdP (src/roles/citizen-consent-token.ts): the PGO acts for that citizen.
  const citizenKey = await citizenTokenKey();
  const citizen: { idp?: MountedCitizenIdp } = {}; // mounted below, used from the first request on
  await registerConsentRoutes(app, {
    registry: consent,
    // A care provider asks questions as holder or consulter and registers consents on a patient's behalf.
    verifyToken: async (a, peer) => {
      const c = await verify('consent', a, peer);
      if (c) return c.granted.length > 0 ? { ura: c.ura, role: 'provider' } : undefined;
      // A PGO registers, lists and withdraws its user's own choices (role 'pgo', patient = the token's BSN); its
      // client id stands for its registration. Mandates (a parent, a mantelzorger) are not carried yet.
      const idp = citizen.idp;
      const t = idp ? await citizenKey.verify(a, { issuer: `${o.url()}${CITIZEN_IDP_PATH}`, audience: `${o.url()}/national/consent`, jwks: async () => (await idp.idp()).jwks }) : undefined;
      if (!t || !a) return undefined;
      callers.set(a, { ura: t.clientId, clientId: t.clientId, until: t.expiresAt.getTime() });
      return { ura: t.clientId, role: 'pgo', patient: t.bsn };
    },
  });

  const nviKey = await persistentRecipientKey(join(dir, 'nvi-recipient.jwk.json'), `${NVI_RECIPIENT.organization}-1`);
  const prs = new PseudonymService({
    keys: PrsKeyStore.open({ file: join(dir, 'prs-keys.json') }),
    recipients: new RecipientRegistry({ entries: [{ organization: NVI_RECIPIENT.organization, scopes: [NVI_RECIPIENT.scope], publicJwk: nviKey.publicJwk, alg: 'RSA-OAEP-256' }] }),
  });
  await registerPseudonymRoutes(app, {
    service: prs,
    verifyToken: async (a, peer) => {
      const c = await verify('prs', a, peer);
      return c ? { ura: c.ura, scopes: c.granted } : undefined;
    },
  });
  await registerLocalisationRoutes(app, {
    db: o.node.engine.db,
    metrics: nviMetrics(o.metrics),
    recipient: new PseudonymRecipient({ organization: NVI_RECIPIENT.organization, scopes: [NVI_RECIPIENT.scope], privateKey: nviKey.privateKey, issuer: PRS_ISSUER }),
    verifyToken: async (a, peer) => {
      const c = await verify('nvi', a, peer);
      return c ? { ura: c.ura, scopes: c.granted, clientId: c.clientId } : undefined;
    },
  });
  citizen.idp = await mountCitizenIdp(app, {
    ...o.citizenLogin,
    url: o.url,
    secretFile: join(dir, 'citizen-idp-pairwise.secret'),
    resourceServers: (base) => [citizenKey.resourceServer(`${base}/national/consent`)],
  });
  return { consent, prs, signingKey, close: () => consent.close() };
}
