/**
 * Counters of the localisation index and registrar in Prometheus text format. Labels are closed sets
 * (operation, outcome, data category, reason) — never identifiers, pseudonyms or URAs of patients' data.
 */
export class Counters {
  #values = new Map<string, number>();
  constructor(private readonly help: Record<string, string>) {}

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const key = `${name}{${Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',')}}`;
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  get(name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const [k, v] of this.#values) {
      if (!k.startsWith(`${name}{`)) continue;
      if (Object.entries(labels).every(([lk, lv]) => k.includes(`${lk}="${lv}"`))) sum += v;
    }
    return sum;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, help] of Object.entries(this.help)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [k, v] of this.#values) if (k.startsWith(`${name}{`)) lines.push(`${k.replace('{}', '')} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

export const nviMetrics = () =>
  new Counters({
    schakel_nvi_registrations_total: 'Localisation records registered (outcome created|existing)',
    schakel_nvi_deletions_total: 'Localisation records deleted',
    schakel_nvi_searches_total: 'Localisation searches (by subject or source)',
    schakel_nvi_rejected_total: 'Requests refused (reason)',
  });

export const registrarMetrics = () =>
  new Counters({
    schakel_localisation_outbox_queued_total: 'Outbox rows written by the write path',
    schakel_localisation_sync_total: 'Outbox rows processed (action register|deregister|skip, outcome ok|retry)',
  });
