/** What every interaction needs: the store, the tenant registry, validation — and, inside a transaction bundle, its transaction. */
import type { Transaction } from 'kysely';
import type { Issue } from '../fhir/outcome.ts';
import type { Engine } from '../storage/engine.ts';
import type { ResourceStore } from '../storage/resource-store.ts';
import type { Database } from '../storage/schema.ts';
import type { TenantRegistry } from '../tenants/registry.ts';

export interface ServerDeps {
  engine: Engine;
  store: ResourceStore;
  tenants: TenantRegistry;
  /** Core R4 validation plus, where asked, profile validation. */
  validate(resource: unknown, opts: { profiles?: string[] | 'declared' }): Issue[];
}

/** A running write: present when an interaction runs inside a transaction bundle. */
export interface WriteScope {
  trx: Transaction<Database>;
}
