/**
 * The provider role's security, assembled for a node: what `schakel serve` and `schakel demo` run unless
 * `--no-auth` is given.
 *
 *   /auth/{tenant}      one token server per tenant; clients are care organisations active in the addressing
 *                       directory (the node's replica), proving who they are with their UZI-style certificate
 *   enforcement point   every /fhir/{tenant} request (src/gf/authorisation/enforce.ts): token, registered
 *                       organisation, authorisation table, the consent registry's closed question, narrowing
 *   directory replica   `local-directory`, kept in step with the national directory by the mCSD update client
 *                       (at start and then every `syncEveryMs`)
 *
 * The node talks to the national services as its tenants' organisations, with tokens from the national token
 * server (OrganisationTokens: private_key_jwt with the organisation's certificate).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ProviderNode } from '../node/provider-node.ts';
import { DirectoryUpdateClient, type SyncReport } from '../gf/addressing/index.ts';
import { directoryClientRegistry } from '../gf/auth/client-registries.ts';
import type { KeyStore } from '../gf/auth/pki.ts';
import type { OrganisationTokens } from '../gf/auth/token-client.ts';
import { registerAuthServer, type SigningKey } from '../gf/auth/token-server.ts';
import type { EnforcementDeps } from '../gf/authorisation/enforce.ts';
import { LOCAL_DIRECTORY_TENANT, nodeEnforcement } from '../gf/authorisation/node-enforcement.ts';
import { isReservedTenant } from '../tenants/registry.ts';
import { persistentSigningKey } from './keys.ts';
import { nationalPaths } from './national.ts';

export interface ProviderSecurityOptions {
  /** Data directory: the node's token-signing key is kept in <dataDir>/node. */
  dataDir: string;
  /** The trusted CA and the hosted organisations' credentials. */
  keys: KeyStore;
  tokens: OrganisationTokens;
  /** Origin of the national services (e.g. this node's own origin when it also runs the national role). */
  nationalBase: () => string;
  /** Directory replica refresh interval; 0 = only when `sync()` is called. Default 60 s. */
  syncEveryMs?: number;
  security?: EnforcementDeps['security'];
  /** The node serves mutual TLS: token requests must present the client certificate, tokens are bound to it. */
  mtls?: boolean;
}

export class ProviderSecurity {
  readonly signingKey: SigningKey;
  #deps?: EnforcementDeps;
  #node?: ProviderNode;
  #timer?: NodeJS.Timeout;
  #sync?: DirectoryUpdateClient;

  constructor(private readonly o: ProviderSecurityOptions) {
    this.signingKey = persistentSigningKey(join(o.dataDir, 'node', 'token-signing.key.pem'));
  }

  /** For startServer's `enforcement` option. */
  enforcement(node: ProviderNode, url: () => string): EnforcementDeps {
    this.#node = node;
    const national = () => nationalPaths(this.o.nationalBase());
    this.#deps = nodeEnforcement({
      baseUrl: url,
      jwks: { keys: [this.signingKey.publicJwk] },
      dispatch: node.dispatch,
      consentBase: () => national().consent,
      consentAuthorization: (holderUra) => {
        if (!holderUra) throw new Error('the tenant has no URA, so it cannot ask the consent registry');
        return this.o.tokens.authorization({ ura: holderUra, tokenEndpoint: national().token('consent'), scope: 'consent:check' });
      },
      consentTls: (holderUra) => {
        if (!this.o.mtls || !holderUra) return undefined;
        const cred = this.o.keys.credential(holderUra);
        return { certPem: cred.certPem, keyPem: cred.keyPem, caPems: [this.o.keys.caCertPem()] };
      },
      security: this.o.security,
    });
    return this.#deps;
  }

  /** For startServer's `plugins` option: the tenants' token servers. */
  async mount(app: FastifyInstance, node: ProviderNode, url: () => string): Promise<void> {
    const deps = this.#deps ?? this.enforcement(node, url);
    await registerAuthServer(app, {
      baseUrl: url,
      hasTenant: (t) => !isReservedTenant(t) && node.tenants.get(t) !== undefined,
      // The organisations this node hosts are known without the directory (a node without national services still
      // serves each organisation's own systems); everyone else must be registered in the addressing directory.
      resolveClient: directoryClientRegistry({
        organisation: async (ura) => {
          const hosted = node.tenants.list().find((t) => t.ura === ura && !isReservedTenant(t.tenant));
          return hosted ? { name: hosted.name } : deps.organisation(ura);
        },
      }),
      signingKeys: [this.signingKey],
      trustedCaPems: [this.o.keys.caCertPem()],
      requireClientCertificate: this.o.mtls === true,
    });
    await node.tenants.ensure({ tenant: LOCAL_DIRECTORY_TENANT, name: 'Replica of the national addressing directory' });
  }

  /** Starts keeping the directory replica in step (first round now). */
  async startDirectorySync(): Promise<SyncReport | undefined> {
    const node = this.#node;
    if (!node) throw new Error('startDirectorySync before the node is open');
    const ura = this.#operatorUra(node);
    if (!ura) return undefined;
    this.#sync ??= new DirectoryUpdateClient({
      directoryBase: nationalPaths(this.o.nationalBase()).directory,
      dispatch: node.dispatch,
      http: {
        authorization: () => this.o.tokens.authorization({ ura, tokenEndpoint: nationalPaths(this.o.nationalBase()).token('directory'), scope: 'directory:read' }),
        fetch: this.o.tokens.fetchFor(ura),
      },
    });
    const report = await this.#sync.sync();
    const every = this.o.syncEveryMs ?? 60_000;
    if (every > 0 && !this.#timer) {
      const tick = () => {
        this.#sync!.sync()
          .catch((e: Error) => this.#deps?.security?.({ event: 'directory-sync-failed', reason: e.message.slice(0, 200) }))
          .finally(() => {
            if (this.#timer) this.#timer = setTimeout(tick, every).unref();
          });
      };
      this.#timer = setTimeout(tick, every).unref();
    }
    return report;
  }

  /** One more round now (after publishing, in the demo). */
  async syncDirectory(): Promise<SyncReport | undefined> {
    return this.#sync ? this.#sync.sync() : this.startDirectorySync();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The node reads the directory as one of the organisations it hosts (the first with keys): a directory token
   * names an organisation, and the node has no URA of its own.
   */
  #operatorUra(node: ProviderNode): string | undefined {
    return node.tenants
      .list()
      .map((t) => t.ura)
      .find((ura): ura is string => ura !== undefined && this.o.keys.org(ura) !== undefined);
  }
}
