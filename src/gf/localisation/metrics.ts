/**
 * Counters of the localisation index and registrar, as prom-client counters. Labels are closed sets
 * (operation, outcome, data category, reason) — never identifiers, pseudonyms or URAs of patients' data.
 * Pass the node's registry (src/ops/metrics.ts) to have them on its /metrics; without one each set gets a
 * registry of its own (tests, several services in one process).
 */
import { Counter, Registry } from 'prom-client';

export interface CounterSpec {
  help: string;
  labels: readonly string[];
}

export class Counters {
  readonly registry: Registry;
  readonly #counters = new Map<string, Counter>();

  constructor(specs: Record<string, CounterSpec>, registry: Registry = new Registry()) {
    this.registry = registry;
    for (const [name, spec] of Object.entries(specs)) this.#counters.set(name, this.#counter(name, spec));
  }

  /** The registry's counter of that name, made when missing (so two sets over one registry share it). */
  #counter(name: string, spec: CounterSpec): Counter {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter;
    return new Counter({ name, help: spec.help, labelNames: [...spec.labels], registers: [this.registry] });
  }

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    let c = this.#counters.get(name);
    // A name nobody declared still counts (labels as first used), as the hand-written counters did.
    if (!c) this.#counters.set(name, (c = this.#counter(name, { help: name, labels: Object.keys(labels) })));
    c.inc(labels, by);
  }

  /** The sum over the series of `name` whose labels include `labels`. */
  async get(name: string, labels: Record<string, string> = {}): Promise<number> {
    const c = this.#counters.get(name);
    if (!c) return 0;
    let sum = 0;
    for (const v of (await c.get()).values) if (Object.entries(labels).every(([k, lv]) => v.labels[k] === lv)) sum += v.value;
    return sum;
  }

  /** Prometheus text format of the registry these counters are in. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

export const nviMetrics = (registry?: Registry) =>
  new Counters(
    {
      schakel_nvi_registrations_total: { help: 'Localisation records registered (outcome created|existing)', labels: ['outcome', 'category'] },
      schakel_nvi_deletions_total: { help: 'Localisation records deleted', labels: ['category'] },
      schakel_nvi_searches_total: { help: 'Localisation searches (by subject or source)', labels: ['by'] },
      schakel_nvi_rejected_total: { help: 'Requests refused (reason)', labels: ['reason'] },
    },
    registry,
  );

export const registrarMetrics = (registry?: Registry) =>
  new Counters(
    {
      schakel_localisation_outbox_queued_total: { help: 'Outbox rows written by the write path', labels: ['category'] },
      schakel_localisation_sync_total: { help: 'Outbox rows processed (action register|deregister|skip, outcome ok|retry)', labels: ['action', 'outcome'] },
    },
    registry,
  );
