/**
 * Tenants: one per care organisation (identified by its URA). Every stored row carries the tenant, and
 * every request names it in the URL (/fhir/{tenant}); an unknown tenant is a 404, never a fallback.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export interface Tenant {
  tenant: string;
  name: string;
  ura?: string;
  created: string;
  settings: TenantSettings;
}

export interface TenantSettings {
  /** The organisation's type (http://nictiz.nl/fhir/NamingSystem/organization-type, e.g. Z3 GP practice, V4 hospital). */
  organizationType?: string;
  /** Opt-in: writes must also conform to the profiles in meta.profile (nl-core, MP9, IPS). */
  validateProfilesOnWrite?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * Tenants that hold the data of national services and of a node's own replicas (`national-directory`,
 * `national-consent`, `local-directory`…). They are reached only through their service's own routes and
 * policy, never through the generic /fhir/{tenant} API, and nobody can create them by hand.
 */
export const isReservedTenant = (name: string): boolean => /^(national|local)-/.test(name);

export function checkTenantName(name: string): string | undefined {
  if (!NAME.test(name)) return `Tenant name '${name}' is invalid: use 1-64 letters, digits, '-' or '_', starting with a letter or digit`;
  if (['metadata', 'admin', 'health', 'ready'].includes(name) || isReservedTenant(name)) {
    return `Tenant name '${name}' is reserved (names starting with 'national-' or 'local-' belong to built-in services)`;
  }
  return undefined;
}

export function checkUra(ura: string): string | undefined {
  return /^\d{8}$/.test(ura) ? undefined : `URA '${ura}' is invalid: a URA is 8 digits`;
}

export class TenantRegistry {
  private cache = new Map<string, Tenant>();

  constructor(private readonly db: Kysely<Database>) {}

  async load(): Promise<void> {
    this.cache.clear();
    for (const row of await this.db.selectFrom('tenants').selectAll().orderBy('tenant').execute()) {
      this.cache.set(row.tenant, {
        tenant: row.tenant,
        name: row.name,
        ura: row.ura ?? undefined,
        created: row.created,
        settings: JSON.parse(row.settings) as TenantSettings,
      });
    }
  }

  get(tenant: string): Tenant | undefined {
    return this.cache.get(tenant);
  }

  list(): Tenant[] {
    return [...this.cache.values()];
  }

  async add(t: { tenant: string; name?: string; ura?: string; settings?: TenantSettings }): Promise<Tenant> {
    // Built-in services create their reserved tenants through this method too; only the name's shape is checked.
    const problem = (isReservedTenant(t.tenant) ? (NAME.test(t.tenant) ? undefined : `Tenant name '${t.tenant}' is invalid`) : checkTenantName(t.tenant)) ?? (t.ura ? checkUra(t.ura) : undefined);
    if (problem) throw new Error(problem);
    if (this.cache.has(t.tenant)) throw new Error(`Tenant '${t.tenant}' already exists`);
    const row = {
      tenant: t.tenant,
      name: t.name ?? t.tenant,
      ura: t.ura ?? null,
      created: new Date().toISOString(),
      settings: JSON.stringify(t.settings ?? {}),
    };
    await this.db.insertInto('tenants').values(row).execute();
    const tenant: Tenant = { tenant: row.tenant, name: row.name, ura: t.ura, created: row.created, settings: t.settings ?? {} };
    this.cache.set(tenant.tenant, tenant);
    return tenant;
  }

  /** Adds the tenant unless it exists already (used by demo and tests). */
  async ensure(t: { tenant: string; name?: string; ura?: string; settings?: TenantSettings }): Promise<Tenant> {
    return this.cache.get(t.tenant) ?? this.add(t);
  }
}
