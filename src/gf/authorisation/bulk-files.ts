/**
 * The enforcement point's rule for bulk export files (`/fhir/{tenant}/$bulk-file/…`, streamed outside the FHIR
 * dispatcher): a valid token of this tenant's issuer, and the organisation itself. Another organisation cannot
 * start an export here in the first place (an export concerns no single patient), so it cannot download one.
 */
import type { FastifyRequest } from 'fastify';
import { FhirError } from '../../fhir/outcome.ts';
import type { Tenant } from '../../tenants/registry.ts';
import type { AccessContext } from '../audit/event.ts';
import { peerCertificateOf } from '../auth/mtls.ts';
import { authenticate, type EnforcementDeps } from './enforce.ts';

export function bulkFileAuthorizer(deps: EnforcementDeps) {
  return async (req: FastifyRequest, tenant: Tenant): Promise<AccessContext> => {
    const correlationId = typeof req.headers['x-correlation-id'] === 'string' ? req.headers['x-correlation-id'] : req.id;
    const claims = await authenticate(deps, tenant, req.headers.authorization, correlationId, peerCertificateOf(req.raw));
    if (!tenant.ura || claims.ura !== tenant.ura) {
      deps.security?.({ event: 'access-refused', tenant: tenant.tenant, ura: claims.ura, correlationId });
      throw FhirError.of(403, 'forbidden', `Bulk export files of this organisation are for the organisation itself, not for ${claims.ura}`);
    }
    return { organisationUra: claims.ura, clientId: claims.clientId, purpose: claims.purposeOfUse, correlationId };
  };
}
