/**
 * $validate (FHIR resource-operation-validate): validates a resource against R4 core and a profile given
 * as parameter (or the profiles it declares). Always answers 200 with an OperationOutcome; the outcome's
 * issues say whether it is valid. A body that is not a resource at all is a 400.
 */
import type { Parameters, Resource } from 'fhir/r4';
import { badRequest, gone, notFound, operationOutcome } from '../../fhir/outcome.ts';
import type { ServerDeps } from '../context.ts';
import type { FhirRequest, FhirResponse, RequestScope } from '../types.ts';

export async function validateOperation(deps: ServerDeps, scope: RequestScope, type: string, id: string | undefined, req: FhirRequest): Promise<FhirResponse> {
  let resource: Resource | undefined;
  let profile = req.query.find(([k]) => k === 'profile')?.[1];
  const body = req.body as Resource | undefined;
  if (body?.resourceType === 'Parameters' && type !== 'Parameters') {
    const params = body as Parameters;
    resource = params.parameter?.find((p) => p.name === 'resource')?.resource;
    profile = params.parameter?.find((p) => p.name === 'profile')?.valueUri ?? profile;
  } else if (body) {
    resource = body;
  }
  if (!resource && id) {
    const stored = await deps.store.readCurrent(scope.tenant, type, id);
    if (!stored) throw notFound(`${type}/${id} is not known`);
    if (stored.deleted) throw gone(`${type}/${id} was deleted`);
    resource = JSON.parse(stored.content) as Resource;
  }
  if (!resource) throw badRequest('$validate needs a resource in the body (or a Parameters with a resource part)');
  if (resource.resourceType !== type) throw badRequest(`The resource is a ${resource.resourceType}, the URL names ${type}`, 'resourceType');
  const issues = deps.validate(resource, { profiles: profile ? [profile] : 'declared' });
  const outcome = operationOutcome(
    issues.length > 0 ? issues : [{ severity: 'information', code: 'informational', diagnostics: `${type} is valid${profile ? ` against ${profile}` : ''}` }],
  );
  return { status: 200, headers: {}, body: outcome };
}
