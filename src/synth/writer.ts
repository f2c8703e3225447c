/**
 * NDJSON output: one file per tenant and resource type (`DIR/<tenant>/<Type>.ndjson`). A region has tens of
 * tenants and ~25 types each, so rather than keeping a thousand streams open we buffer lines per file and
 * append in chunks. A global byte budget bounds memory however large the region is; appends are synchronous,
 * which keeps ordering (and therefore output bytes) deterministic.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Pending {
  path: string;
  chunks: string[];
  bytes: number;
}

export class NdjsonWriter {
  private readonly pending = new Map<string, Pending>();
  private readonly createdDirs = new Set<string>();
  private buffered = 0;
  /** Resources written per tenant and type (for the region summary). */
  readonly counts = new Map<string, Map<string, number>>();
  bytesWritten = 0;

  constructor(
    private readonly outDir: string,
    /** Flush one file once it holds this much. */
    private readonly fileChunkBytes = 256 * 1024,
    /** Flush everything once all buffers together hold this much. */
    private readonly totalBudgetBytes = 32 * 1024 * 1024,
  ) {}

  write(tenant: string, resourceType: string, line: string): void {
    const key = `${tenant}/${resourceType}`;
    let p = this.pending.get(key);
    if (!p) {
      const dir = join(this.outDir, tenant);
      if (!this.createdDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        this.createdDirs.add(dir);
      }
      p = { path: join(dir, `${resourceType}.ndjson`), chunks: [], bytes: 0 };
      // Start every file empty: a previous run into the same directory must not leave lines behind.
      writeFileSync(p.path, '');
      this.pending.set(key, p);
    }
    const size = line.length + 1; // close enough to bytes for budgeting; exact bytes are counted on flush
    p.chunks.push(line, '\n');
    p.bytes += size;
    this.buffered += size;

    let byType = this.counts.get(tenant);
    if (!byType) this.counts.set(tenant, (byType = new Map()));
    byType.set(resourceType, (byType.get(resourceType) ?? 0) + 1);

    if (p.bytes >= this.fileChunkBytes) this.flushOne(p);
    if (this.buffered >= this.totalBudgetBytes) this.flush();
  }

  private flushOne(p: Pending): void {
    if (p.bytes === 0) return;
    const data = p.chunks.join('');
    appendFileSync(p.path, data);
    this.bytesWritten += Buffer.byteLength(data);
    this.buffered -= p.bytes;
    p.chunks = [];
    p.bytes = 0;
  }

  flush(): void {
    for (const p of this.pending.values()) this.flushOne(p);
  }
}
