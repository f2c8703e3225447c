/**
 * A bounded map whose entries each carry their own expiry (epoch ms): verified access tokens until their `exp`,
 * directory look-ups for a few seconds. An expired entry is never returned. When full, expired entries are
 * dropped first, then the oldest: memory stays bounded whatever callers send.
 */
export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, { until: number; value: V }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() >= e.until) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Keeps `value` until `until` (epoch ms); an entry that is already expired is not stored. */
  set(key: K, value: V, until: number): void {
    if (this.maxEntries <= 0) return;
    const now = this.now();
    if (until <= now) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (now >= e.until) this.entries.delete(k);
      // Map iteration is insertion order: the first key is the oldest.
      while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, { until, value });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
