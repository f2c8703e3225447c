/**
 * The node's Prometheus metrics (prom-client): HTTP requests by tenant, interaction, resource type and status
 * class, process/runtime metrics, and whatever else is registered in the same registry (the localisation
 * counters: nviMetrics(registry), registrarMetrics(registry)). Labels are closed sets — no ids, no values.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry with the process metrics (CPU, memory, event loop lag, GC, handles) of this Node.js process. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

const LABELS = ['tenant', 'interaction', 'type', 'status'] as const;
type Label = (typeof LABELS)[number];

export interface HttpMetrics {
  /** One served request; `status` is the status class (2xx…5xx). */
  observe(labels: Record<Label, string>, seconds: number): void;
}

export function httpMetrics(registry: Registry): HttpMetrics {
  const requests =
    (registry.getSingleMetric('schakel_http_requests_total') as Counter<Label> | undefined) ??
    new Counter({ name: 'schakel_http_requests_total', help: 'HTTP requests served (tenant, FHIR interaction or route, resource type, status class)', labelNames: LABELS, registers: [registry] });
  const duration =
    (registry.getSingleMetric('schakel_http_request_duration_seconds') as Histogram<Label> | undefined) ??
    new Histogram({
      name: 'schakel_http_request_duration_seconds',
      help: 'HTTP request duration from arrival to the end of the response',
      labelNames: LABELS,
      // Reads take about a millisecond; searches, bundles and bulk kick-offs up to seconds.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return {
    observe(labels, seconds) {
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/** GET /metrics in the Prometheus text format. Not personal data, but operational detail: expose it to the monitoring network only. */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', registry.contentType);
    return registry.metrics();
  });
}
