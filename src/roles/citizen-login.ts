/**
 * The citizen test IdP (src/gf/auth/citizen-idp.ts) as part of the national role, at /national/idp.
 *
 * oidc-provider needs its issuer when it is constructed, and the issuer is the node's public URL, which is known only
 * once the server listens (port 0 in tests) — but routes must be registered before it listens. So the two routes
 * (/national/idp and /national/idp/*) are registered up front and the IdP is made on the first request, from the
 * public URL and the citizen source. That also lets the citizens be read when they are first needed: the demo
 * generates its region after the node listens. Until the source can answer, the IdP answers 503 and tries again on
 * the next request.
 *
 * The pairwise secret is kept in <data>/national/ (mode 0600): a citizen's `sub` at a PGO must not change when the
 * node restarts. Sessions, codes and the ID-token signing key are per start (a test IdP; logins simply start again).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientMetadata } from 'oidc-provider';
import type { CitizenIdp, CitizenResourceServer } from '../gf/auth/citizen-idp.ts';
import type { MandateRegistry } from '../gf/auth/mandates.ts';

export const CITIZEN_IDP_PATH = '/national/idp';

export interface CitizenLoginOptions {
  /** The region's citizens and their relations; asked at the first request (again after a failure). Default: nobody. */
  citizens?: () => Promise<MandateRegistry>;
  /** Relying parties (PGO backends), given the node's public origin. Default: none. */
  clients?: (base: string) => ClientMetadata[];
  /** Clock for the mandate rules. */
  now?: () => Date;
}

export interface MountedCitizenIdp {
  /** The IdP, made on first use. */
  idp(): Promise<CitizenIdp>;
}

/** 32 random bytes kept in `file` (mode 0600), made on first use. */
export function persistentSecret(file: string): Buffer {
  if (existsSync(file)) {
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (secret.length >= 32) return secret;
    throw new Error(`${file}: expected a base64url secret of at least 32 bytes`);
  }
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
  return secret;
}

export async function mountCitizenIdp(
  app: FastifyInstance,
  o: CitizenLoginOptions & {
    url: () => string;
    secretFile: string;
    /** The national services that take the citizen's access token (e.g. the consent registry), given the public origin. */
    resourceServers?: (base: string) => CitizenResourceServer[];
  },
): Promise<MountedCitizenIdp> {
  const pairwiseSecret = persistentSecret(o.secretFile);
  let made: Promise<CitizenIdp> | undefined;
  const idp = () =>
    (made ??= (async () => {
      const registry = o.citizens ? await o.citizens() : { citizens: [], parentChild: [], mandates: [] };
      // oidc-provider (and Koa under it) is loaded only when someone uses the IdP: every node with the national role
      // mounts these routes, few serve a login.
      const { createCitizenIdp } = await import('../gf/auth/citizen-idp.ts');
      const base = o.url();
      return createCitizenIdp({ issuer: `${base}${CITIZEN_IDP_PATH}`, registry, clients: o.clients?.(base) ?? [], pairwiseSecret, now: o.now, resourceServers: o.resourceServers?.(base) });
    })().catch((e: unknown) => {
      made = undefined;
      throw e;
    }));

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Leave the body unread: oidc-provider and the login form read the raw stream themselves.
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const pass = async (req: FastifyRequest, reply: FastifyReply) => {
      let ready: CitizenIdp;
      try {
        ready = await idp();
      } catch (e) {
        return reply
          .code(503)
          .header('retry-after', '5')
          .type('text/plain; charset=utf-8')
          .send(`The citizen identity provider is not available yet: ${(e as Error).message}\n`);
      }
      reply.hijack();
      ready.handler(req.raw, reply.raw);
    };
    scope.all(CITIZEN_IDP_PATH, pass);
    scope.all(`${CITIZEN_IDP_PATH}/*`, pass);
  });
  return { idp };
}
