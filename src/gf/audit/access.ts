/**
 * Turns a served FHIR request into an access record for the audit log: which interaction, which patient
 * (from the URL, the patient context or — cheaply — the served resource's subject/patient reference).
 * BSN-like values in queries are masked: the audit log names patients by their tenant-local id.
 */
import type { FhirRequest, FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import type { AccessContext, AccessRecord } from './event.ts';

const PATIENT_REF = /"(?:subject|patient)"\s*:\s*\{\s*"reference"\s*:\s*"Patient\/([A-Za-z0-9\-.]{1,64})"/;

export function maskBsn(text: string): string {
  return text.replace(/(bsn(?:%7C|\|))\d{9}/gi, '$1*********').replace(/\b\d{9}\b/g, '*********');
}

function interactionOf(req: FhirRequest, parts: string[]): AccessRecord['interaction'] {
  const last = parts[parts.length - 1] ?? '';
  if (last.startsWith('$')) return 'operation';
  if (parts.includes('_history')) return parts.length === 4 ? 'vread' : 'history';
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return parts.length === 2 ? 'read' : 'search';
    case 'POST':
      return parts.length === 0 ? ((req.body as { type?: string })?.type === 'batch' ? 'batch' : 'transaction') : parts[1] === '_search' ? 'search' : 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
  }
}

function patientOf(scope: RequestScope, req: FhirRequest, parts: string[], res?: FhirResponse): string | undefined {
  if (scope.compartment) return scope.compartment.id;
  if (parts[0] === 'Patient' && parts[1] && !parts[1].startsWith('$') && parts[1] !== '_search' && parts[1] !== '_history') return parts[1];
  for (const [k, v] of req.query) {
    if (k === 'patient' || k === 'subject' || k === 'subject:Patient') {
      const m = /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v);
      if (m) return m[1];
    }
  }
  // Writes name their patient in the body; reads in the served resource (looked up without a parse).
  const body = req.body as { subject?: { reference?: string }; patient?: { reference?: string } } | undefined;
  const ref = body?.subject?.reference ?? body?.patient?.reference;
  if (ref?.startsWith('Patient/')) return ref.slice('Patient/'.length);
  if (res?.body && isRaw(res.body) && parts.length === 2) return PATIENT_REF.exec(res.body.raw.slice(0, 4096))?.[1];
  return undefined;
}

export function accessRecord(scope: RequestScope, req: FhirRequest, status: number, context: AccessContext, res?: FhirResponse): AccessRecord {
  const parts = req.path.split('/').filter(Boolean);
  const query = req.query.length ? `?${req.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
  return {
    tenant: scope.tenant,
    patientId: patientOf(scope, req, parts, res),
    interaction: interactionOf(req, parts),
    what: maskBsn(`${req.path || '/'}${query}`),
    outcome: status < 400 ? 'success' : status < 500 ? 'minor-failure' : 'serious-failure',
    status,
    context,
    observer: scope.base,
  };
}
