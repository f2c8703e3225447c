/**
 * Wires localisation into a provider node: every resource write queues "(tenant, patient, category) needs a
 * sync" in the outbox — inside the write's own database transaction, so nothing accepted is lost on a crash —
 * and a background worker registers and deregisters at the NVI (see registrar.ts). Single writes, transaction
 * bundles and bulk imports all commit through `ResourceStore.commit`, so all of them are covered.
 *
 * Only tenants with a URA take part: the URA is the custodian of their entries at the NVI.
 */
import type { Logger } from 'pino';
import type { ProviderNode } from '../../node/provider-node.ts';
import type { WriteHook } from '../../storage/resource-store.ts';
import { PseudonymClient } from '../pseudonym/client.ts';
import type { Recipient } from '../pseudonym/identifier.ts';
import { LocalisationRegistrar, dispatchSource, migrateOutbox, type RegistrarOptions } from './registrar.ts';

export interface LocalisationAttachOptions {
  /** NVI FHIR base, e.g. `${url}/national/nvi/fhir` (read at send time: the URL may be known only once listening). */
  nviBase: () => string;
  /** PRS base, e.g. `${url}/national/prs` (the client posts to `${prsBase()}/evaluate`). */
  prsBase: () => string;
  /** The NVI as PRS recipient. */
  nviRecipient: Recipient;
  /** The whole Authorization header value ("Bearer …") for calls to the NVI or PRS as the tenant's organisation. */
  authorization: (service: 'nvi' | 'prs', tenant: string) => Promise<string>;
  /** OAuth client id the NVI sees for a tenant's calls (List.source): fixed, or per tenant. */
  clientId: string | ((tenant: string) => string);
  /** The HTTP client for a tenant's PRS and NVI calls (mutual TLS: the organisation's certificate); default fetch. */
  fetchFor?: (tenant: string) => typeof fetch;
  /** Worker poll interval (default 1000 ms); writes wake it at once. */
  pollMs?: number;
  logger?: Logger;
  /** Run the background worker (default true). false = only queue, e.g. for an import whose server drains later. */
  worker?: boolean;
  /** Registrar knobs: backoff, batch sizes, concurrency, excluded categories, clock, metrics, fetch. */
  tuning?: Pick<RegistrarOptions, 'backoff' | 'batch' | 'postBatch' | 'concurrency' | 'exclude' | 'now' | 'metrics' | 'fetch'>;
}

export interface AttachedLocalisation {
  registrar: LocalisationRegistrar;
  /** Removes the write hook and stops the worker (also done by `node.close()`). Rows still queued stay in the outbox. */
  close(): Promise<void>;
}

export async function attachLocalisation(node: ProviderNode, o: LocalisationAttachOptions): Promise<AttachedLocalisation> {
  // The outbox lives in the node database itself: it must commit in the same transaction as the resources.
  await migrateOutbox(node.engine.db);
  const ura = (tenant: string) => node.tenants.get(tenant)?.ura;
  const registrar = await LocalisationRegistrar.open({
    ...o.tuning,
    db: node.engine.db,
    source: dispatchSource(node.dispatch),
    pseudonyms: (tenant) => new PseudonymClient({ prsUrl: o.prsBase(), authorization: () => o.authorization('prs', tenant), fetch: o.fetchFor?.(tenant) }),
    fetchFor: o.fetchFor,
    nviRecipient: o.nviRecipient,
    nviBase: o.nviBase,
    nviAuthorization: (tenant) => o.authorization('nvi', tenant),
    custodianUra: ura,
    clientId: o.clientId,
    pollMs: o.pollMs,
    logger: o.logger,
  });
  const hook: WriteHook = async (trx, tenant, writes) => {
    if (!ura(tenant)) return; // not taking part: nothing to queue
    const queued = await registrar.queue(trx, tenant, writes);
    return queued > 0 ? () => registrar.kick() : undefined;
  };
  const removeHook = node.deps.store.addWriteHook(hook);
  if (o.worker !== false) registrar.start();

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      removeHook();
      await registrar.stop();
    })());
  // Stop the worker before the database it reads closes, whoever closes the node.
  const closeNode = node.close;
  node.close = async () => {
    await close();
    await closeNode();
  };
  return { registrar, close };
}
