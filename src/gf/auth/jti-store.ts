/** Replay protection for client assertions: each `jti` is accepted once until the assertion expires. */

export interface JtiStore {
  /** Records `key` until `expiresAt` (epoch ms); false when it was seen before and has not expired. */
  useOnce(key: string, expiresAt: number, now: number): Promise<boolean> | boolean;
}

/**
 * In-memory store (one process). Expired entries are swept as the store grows; when it is full of live entries
 * it refuses (fail closed) rather than forget. A cluster needs a shared store (database table with a unique key).
 */
export class MemoryJtiStore implements JtiStore {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  constructor(private readonly maxEntries = 1_000_000) {}

  useOnce(key: string, expiresAt: number, now: number): boolean {
    const prior = this.seen.get(key);
    if (prior !== undefined && prior >= now) return false;
    if (this.seen.size >= this.maxEntries || now >= this.nextSweep) this.sweep(now);
    if (this.seen.size >= this.maxEntries) return false;
    this.seen.set(key, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    this.nextSweep = now + 30_000;
  }
}
