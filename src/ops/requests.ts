/**
 * One operations line and one metrics observation per served request, from a single onResponse hook. A FHIR
 * request is named by its interaction and resource type (`search Patient`), any other by its route template
 * (`/metrics`, `/bulk/:job/:file`); the URL itself — ids, BSNs in paths or queries — is never looked at
 * beyond what src/ops/interaction.ts turns into a closed set.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { classify } from './interaction.ts';
import type { HttpMetrics } from './metrics.ts';

export interface RequestInstrumentation {
  /** The operations stream; absent = no request lines. */
  logger?: Logger;
  metrics?: HttpMetrics;
  /** The tenant as a label: its name when it is a known tenant, else '-' (never an unchecked path segment). */
  tenantOf(name: string): string;
}

const STATUS_CLASS = ['-', '1xx', '2xx', '3xx', '4xx', '5xx'];
// Caller-chosen correlation ids are logged only when they look like ids, not free text.
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function instrumentRequests(app: FastifyInstance, o: RequestInstrumentation): void {
  const { logger, metrics } = o;
  if (!logger && !metrics) return;
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    let interaction: string;
    let type = '-';
    let tenant = '-';
    let fhir = false;
    if (route === '/fhir/:tenant' || route === '/fhir/:tenant/*') {
      const params = req.params as { tenant: string; '*'?: string };
      tenant = o.tenantOf(params.tenant);
      ({ interaction, type } = classify(req.method, params['*'] ?? ''));
      fhir = true;
    } else {
      interaction = route ?? 'unmatched';
    }
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    metrics?.observe({ tenant, interaction, type, status: STATUS_CLASS[(status / 100) | 0] ?? '-' }, ms / 1000);
    if (logger) {
      const cid = reply.getHeader('x-correlation-id');
      logger.info(
        {
          method: req.method,
          interaction,
          type,
          tenant,
          status,
          ms: Math.round(ms * 100) / 100,
          correlationId: typeof cid === 'string' && CORRELATION_ID.test(cid) ? cid : undefined,
        },
        fhir ? `${interaction} ${type}` : `${req.method} ${interaction}`,
      );
    }
    done();
  });
}
