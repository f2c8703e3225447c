/**
 * Fastify plugin for what the dispatcher cannot do: streaming bulk output files, and the job runner's
 * lifecycle (resume unfinished jobs when the server is ready, stop the running one when it closes).
 *
 *   GET /fhir/{tenant}/$bulk-file/{job}/{file}   application/fhir+ndjson, streamed from disk
 *
 * Register it on the app before listen: `registerBulkRoutes(app, node)`. Idempotent per app.
 */
import { createReadStream, statSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FhirError, operationOutcome } from '../fhir/outcome.ts';
import type { AccessContext } from '../gf/audit/event.ts';
import type { AuditLog } from '../gf/audit/log.ts';
import type { ServerDeps } from '../server/context.ts';
import { isReservedTenant, type Tenant, type TenantRegistry } from '../tenants/registry.ts';
import { bulkService, closeBulk, configureBulk, type BulkConfig } from './jobs.ts';

const registered = new WeakSet<FastifyInstance>();

/**
 * Who may download a tenant's bulk files; throws (a FhirError) when the caller may not. Absent = an open node.
 * Files hold a whole tenant's data, so the enforcement point's rule for them is: the organisation itself only.
 */
export type BulkFileAuthorizer = (req: FastifyRequest, tenant: Tenant) => Promise<AccessContext>;

export function registerBulkRoutes(
  app: FastifyInstance,
  node: { deps: ServerDeps; tenants: TenantRegistry; audit?: AuditLog },
  config: Partial<BulkConfig> = {},
  authorize?: BulkFileAuthorizer,
): void {
  if (registered.has(app)) return;
  registered.add(app);
  if (Object.keys(config).length > 0) configureBulk(node.deps, config);
  const notFound = (msg: string) => JSON.stringify(operationOutcome([{ severity: 'error', code: 'not-found', diagnostics: msg }]));

  app.get('/fhir/:tenant/$bulk-file/:job/:file', async (req, reply) => {
    const { tenant, job, file } = req.params as { tenant: string; job: string; file: string };
    const t = isReservedTenant(tenant) ? undefined : node.tenants.get(tenant);
    if (!t) return reply.code(404).type('application/fhir+json').send(notFound(`Tenant '${tenant}' is not known`));
    let context: AccessContext | undefined;
    if (authorize) {
      try {
        context = await authorize(req, t);
      } catch (e) {
        if (!(e instanceof FhirError)) throw e;
        if (e.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
        return reply.code(e.status).type('application/fhir+json').send(JSON.stringify(e.toOperationOutcome()));
      }
    }
    const svc = await bulkService(node.deps);
    const path = await svc.file(tenant, job, file);
    // A bulk file is the tenant's data of many patients: audited as one export read, without a patient.
    if (context && node.audit) {
      node.audit.record({ tenant, interaction: 'read', what: `$bulk-file/${job}/${file}`, outcome: path ? 'success' : 'minor-failure', status: path ? 200 : 404, context, observer: `/fhir/${tenant}` });
    }
    if (!path) return reply.code(404).type('application/fhir+json').send(notFound(`No bulk file ${job}/${file} (it may have expired or been cancelled)`));
    reply.header('Content-Length', statSync(path).size);
    return reply.code(200).type('application/fhir+ndjson').send(createReadStream(path));
  });
  app.addHook('onReady', async () => {
    await bulkService(node.deps);
  });
  app.addHook('onClose', async () => {
    await closeBulk(node.deps);
  });
}
