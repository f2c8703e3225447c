/**
 * Everything a sector module needs while writing one patient's records: tenant-local patient copies (same BSN,
 * different id per tenant), id allocation, and references to staff and organisations that are guaranteed to
 * resolve inside the tenant being written.
 */
import type { Reference, Resource } from 'fhir/r4';
import { medication } from './builders/medication.ts';
import type { ProductDef } from './data/terminology.ts';
import { buildCoverage, buildPatient, patientDisplay, type Person } from './person.ts';
import type { Rng } from './prng.ts';
import type { Professional, Region, Tenant } from './region.ts';
import type { RegionSink } from './sink.ts';

/** Medication resources are shared per tenant: one per product, copied into a tenant on first use. */
export function productResourceKey(p: ProductDef): string {
  return `Medication/med-prk-${p.prk}`;
}

export function registerProducts(directory: Map<string, Resource>, products: readonly ProductDef[]): void {
  for (const p of products) directory.set(productResourceKey(p), medication(`med-prk-${p.prk}`, p));
}

export class PatientScope {
  private readonly patientIds = new Map<string, string>();
  /** Per-patient once-only markers for sector modules (e.g. allergies already recorded in a tenant). */
  readonly flags = new Set<string>();

  constructor(
    readonly sink: RegionSink,
    readonly region: Region,
    readonly person: Person,
    readonly gp: Tenant,
    readonly gpDoctor: Professional,
    readonly pharmacy: Tenant,
    readonly asOf: number,
    readonly rng: Rng,
  ) {}

  /** The patient's reference in a tenant, writing the tenant's Patient (and Coverage) copy on first use. */
  subject(t: Tenant): Reference {
    let id = this.patientIds.get(t.id);
    const display = patientDisplay(this.person);
    if (id === undefined) {
      id = this.sink.newId(t.id, 'Patient');
      this.patientIds.set(t.id, id);
      const gpRefs = [this.org(t, this.gp), this.role(t, this.gpDoctor)];
      this.sink.write(t.id, buildPatient(this.person, id, gpRefs, this.org(t, t)));
      if (t.sector === 'gp' || t.sector === 'hospital' || t.sector === 'pharmacy') {
        const payer = this.sink.directoryRef(t.id, this.person.insurer.organization, this.person.insurer.organization.name);
        const subject = { reference: `Patient/${id}`, type: 'Patient', display };
        this.sink.write(t.id, buildCoverage(this.person, this.sink.newId(t.id, 'Coverage'), subject, payer, this.asOf));
      }
    }
    return { reference: `Patient/${id}`, type: 'Patient', display };
  }

  id(t: Tenant, resourceType: string): string {
    return this.sink.newId(t.id, resourceType);
  }

  emit(t: Tenant, resource: Resource): Reference {
    this.sink.write(t.id, resource);
    return { reference: `${resource.resourceType}/${resource.id}`, type: resource.resourceType };
  }

  role(t: Tenant, p: Professional): Reference {
    return this.sink.directoryRef(t.id, p.role, p.display);
  }

  org(t: Tenant, other: Tenant): Reference {
    return this.sink.directoryRef(t.id, other.organization, other.name);
  }

  location(t: Tenant, other: Tenant): Reference {
    return this.sink.directoryRef(t.id, other.location, other.name);
  }

  medication(t: Tenant, p: ProductDef): Reference {
    const key = productResourceKey(p);
    this.sink.ensure(t.id, key);
    return { reference: key, type: 'Medication', display: p.display };
  }
}
