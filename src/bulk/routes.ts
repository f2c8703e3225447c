/**
 * Fastify plugin for what the dispatcher cannot do: streaming bulk output files, and the job runner's
 * lifecycle (resume unfinished jobs when the server is ready, stop the running one when it closes).
 *
 *   GET /fhir/{tenant}/$bulk-file/{job}/{file}   application/fhir+ndjson, streamed from disk
 *
 * Register it on the app before listen: `registerBulkRoutes(app, node)`. Idempotent per app.
 */
import { createReadStream, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { operationOutcome } from '../fhir/outcome.ts';
import type { ServerDeps } from '../server/context.ts';
import type { TenantRegistry } from '../tenants/registry.ts';
import { bulkService, closeBulk, configureBulk, type BulkConfig } from './jobs.ts';

const registered = new WeakSet<FastifyInstance>();

export function registerBulkRoutes(app: FastifyInstance, node: { deps: ServerDeps; tenants: TenantRegistry }, config: Partial<BulkConfig> = {}): void {
  if (registered.has(app)) return;
  registered.add(app);
  if (Object.keys(config).length > 0) configureBulk(node.deps, config);
  const notFound = (msg: string) => JSON.stringify(operationOutcome([{ severity: 'error', code: 'not-found', diagnostics: msg }]));

  app.get('/fhir/:tenant/$bulk-file/:job/:file', async (req, reply) => {
    const { tenant, job, file } = req.params as { tenant: string; job: string; file: string };
    if (!node.tenants.get(tenant)) return reply.code(404).type('application/fhir+json').send(notFound(`Tenant '${tenant}' is not known`));
    const svc = await bulkService(node.deps);
    const path = await svc.file(tenant, job, file);
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
