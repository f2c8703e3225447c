/**
 * AuditEvents in the shape of IHE Basic Audit Log Patterns (BALP), with the NEN 7513 content: who (client
 * organisation URA, professional UZI number and role), on whose behalf, which patient, what (interaction and
 * resource or query), when, why (purpose of use), outcome, and the correlation id that ties a chain of calls together.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from 'fhir/r4';

export interface AccessContext {
  /** The requesting organisation (URA), or 'local' for a --no-auth development node. */
  organisationUra?: string;
  clientId?: string;
  /** Professional acting on behalf of the organisation. */
  practitionerUzi?: string;
  roleCode?: string;
  /** treatment | emergency | patient-access | secondary-use */
  purpose?: string;
  /** Reason given for emergency access (break the glass). */
  emergencyReason?: string;
  /** The professional attested a treatment relation with the patient. */
  treatmentRelation?: boolean;
  correlationId: string;
}

export interface AccessRecord {
  tenant: string;
  /** Tenant-local Patient id the access concerns (never a BSN). */
  patientId?: string;
  interaction: 'read' | 'vread' | 'search' | 'history' | 'create' | 'update' | 'patch' | 'delete' | 'transaction' | 'batch' | 'operation';
  /** Resource type / id or the query, e.g. 'Observation?code=…' */
  what: string;
  outcome: 'success' | 'minor-failure' | 'serious-failure';
  status: number;
  context: AccessContext;
  /** The node that served the request (its base URL). */
  observer: string;
  recorded?: string;
}

const BALP_RESTFUL = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' };
const ACTION: Record<AccessRecord['interaction'], AuditEvent['action']> = {
  read: 'R', vread: 'R', search: 'E', history: 'R', create: 'C', update: 'U', patch: 'U', delete: 'D', transaction: 'E', batch: 'E', operation: 'E',
};
const OUTCOME: Record<AccessRecord['outcome'], AuditEvent['outcome']> = { success: '0', 'minor-failure': '4', 'serious-failure': '8' };
const PURPOSE: Record<string, Coding> = {
  treatment: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT', display: 'treatment' },
  emergency: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT', display: 'Emergency Treatment' },
  'patient-access': { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'PATRQT', display: 'patient requested' },
  'secondary-use': { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH', display: 'healthcare research' },
};

export function toAuditEvent(r: AccessRecord): AuditEvent {
  const agents: AuditEventAgent[] = [
    {
      type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' }] },
      who: r.context.organisationUra
        ? { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: r.context.organisationUra }, display: r.context.clientId ?? r.context.organisationUra }
        : { display: 'local development client (--no-auth)' },
      requestor: !r.context.practitionerUzi,
    },
  ];
  if (r.context.practitionerUzi) {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
      who: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/uzi-nr-pers', value: r.context.practitionerUzi }, display: r.context.practitionerUzi },
      role: r.context.roleCode ? [{ coding: [{ system: 'http://fhir.nl/fhir/NamingSystem/uzi-rolcode', code: r.context.roleCode }] }] : undefined,
      requestor: true,
    });
  }
  agents.push({
    type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110152', display: 'Destination Role ID' }] },
    who: { display: r.observer },
    requestor: false,
  });
  const entity: AuditEventEntity[] = [];
  if (r.patientId) {
    entity.push({
      what: { reference: `Patient/${r.patientId}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  entity.push({
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    ...(r.interaction === 'search' ? { query: Buffer.from(r.what).toString('base64') } : { what: { reference: r.what } }),
  });
  const purpose = r.context.purpose ? PURPOSE[r.context.purpose] : undefined;
  return {
    resourceType: 'AuditEvent',
    type: BALP_RESTFUL,
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: r.interaction === 'operation' ? 'operation' : r.interaction }],
    action: ACTION[r.interaction],
    recorded: r.recorded ?? new Date().toISOString(),
    outcome: OUTCOME[r.outcome],
    outcomeDesc: `HTTP ${r.status}`,
    purposeOfEvent: purpose ? [{ coding: [purpose], text: r.context.emergencyReason }] : undefined,
    agent: agents,
    source: { observer: { display: r.observer }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    entity,
    extension: [
      { url: 'http://schakel.dev/fhir/StructureDefinition/correlation-id', valueString: r.context.correlationId },
      ...(r.context.treatmentRelation ? [{ url: 'http://schakel.dev/fhir/StructureDefinition/treatment-relation-attested', valueBoolean: true }] : []),
    ],
  };
}
