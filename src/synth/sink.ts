/**
 * Where resources go: allocates tenant-local ids, writes NDJSON, and copies directory resources
 * (Organizations, PractitionerRoles, … of other tenants) into a tenant the first time something there refers
 * to them, together with whatever they refer to. That keeps every reference inside a tenant resolvable while
 * each tenant remains a self-contained FHIR server's worth of data.
 */
import type { Reference, Resource } from 'fhir/r4';
import type { NdjsonWriter } from './writer.ts';

const ID_ABBREV: Record<string, string> = {
  Patient: 'pat', Condition: 'cond', AllergyIntolerance: 'alg', Encounter: 'enc', Procedure: 'proc',
  Immunization: 'imm', Observation: 'obs', Specimen: 'spec', MedicationRequest: 'mr', MedicationDispense: 'md',
  MedicationStatement: 'ms', Medication: 'med', Coverage: 'cov', DocumentReference: 'doc', Binary: 'bin',
  Appointment: 'appt', QuestionnaireResponse: 'qr', CarePlan: 'cp',
};

const REF_PATTERN = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

function collectReferences(value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string' && REF_PATTERN.test(v)) out.push(v);
      else collectReferences(v, out);
    }
  }
}

export class RegionSink {
  private readonly copied = new Map<string, Set<string>>();
  private readonly counters = new Map<string, number>();
  private readonly refsCache = new Map<string, string[]>();

  constructor(
    private readonly writer: NdjsonWriter,
    private readonly directory: Map<string, Resource>,
  ) {}

  /** A new id, unique within the tenant and different from the same patient's ids in other tenants. */
  newId(tenantId: string, resourceType: string): string {
    const key = `${tenantId}/${resourceType}`;
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return `${ID_ABBREV[resourceType] ?? resourceType.toLowerCase()}-${tenantId}-${n}`;
  }

  write(tenantId: string, resource: Resource): void {
    this.writer.write(tenantId, resource.resourceType, JSON.stringify(resource));
  }

  /** Make the directory resource `Type/id` (and everything it references) present in the tenant. */
  ensure(tenantId: string, key: string): void {
    let done = this.copied.get(tenantId);
    if (!done) this.copied.set(tenantId, (done = new Set()));
    if (done.has(key)) return;
    const resource = this.directory.get(key);
    if (!resource) throw new Error(`directory has no ${key}`);
    done.add(key);
    this.write(tenantId, resource);
    let refs = this.refsCache.get(key);
    if (!refs) {
      refs = [];
      collectReferences(resource, refs);
      this.refsCache.set(key, refs);
    }
    for (const r of refs) this.ensure(tenantId, r);
  }

  /** A reference to a directory resource that is guaranteed to resolve in the tenant. */
  directoryRef(tenantId: string, resource: Resource, display?: string): Reference {
    const key = `${resource.resourceType}/${resource.id}`;
    this.ensure(tenantId, key);
    return display ? { reference: key, type: resource.resourceType, display } : { reference: key, type: resource.resourceType };
  }
}
