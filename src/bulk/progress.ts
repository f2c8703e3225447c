/**
 * Progress display for long bulk work: a redrawn bar on a terminal, otherwise (logs, pipes) a plain line
 * every 10% or every 10 seconds, whichever comes first.
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

export type ProgressFn = (done: number, total: number, resources: number) => void;

export function bulkProgress(label: string, stream: ProgressStream = process.stderr, now: () => number = Date.now): ProgressFn & { finish(): void } {
  const started = now();
  let lastDraw = 0;
  let lastDecile = -1;
  let lastLine = started;
  let last: [number, number, number] = [0, 0, 0];
  let drawn = false;
  const fn = (done: number, total: number, resources: number) => {
    last = [done, total, resources];
    const t = now();
    const elapsed = Math.max((t - started) / 1000, 0.001);
    const rate = Math.round(resources / elapsed);
    const frac = total > 0 ? Math.min(done / total, 1) : 1;
    const pct = Math.floor(frac * 100);
    const eta = frac > 0 ? Math.round((elapsed / frac) * (1 - frac)) : 0;
    if (stream.isTTY) {
      if (t - lastDraw < 100 && frac < 1) return;
      lastDraw = t;
      const width = 30;
      const filled = Math.round(frac * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${resources} resources, ${rate}/s, ETA ${eta}s `);
      drawn = true;
    } else {
      const decile = Math.floor(pct / 10);
      if (decile === lastDecile && t - lastLine < 10_000) return;
      lastDecile = decile;
      lastLine = t;
      stream.write(`${label}: ${pct}% ${resources} resources, ${rate}/s, ${elapsed.toFixed(1)}s elapsed\n`);
    }
  };
  fn.finish = () => {
    if (stream.isTTY && drawn) {
      lastDraw = 0;
      fn(...last);
      stream.write('\n');
    }
  };
  return fn;
}
