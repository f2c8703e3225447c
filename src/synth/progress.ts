/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, otherwise (CI logs, pipes) a plain line every
 * 10% so logs stay readable. Timing only affects this display, never the generated output.
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

export function progressReporter(stream: ProgressStream = process.stderr, now: () => number = Date.now): (done: number, total: number) => void {
  const started = now();
  let lastDraw = 0;
  let lastDecile = -1;
  return (done, total) => {
    const t = now();
    const elapsed = (t - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const pct = Math.floor((done / total) * 100);
    if (stream.isTTY) {
      if (done !== total && t - lastDraw < 100) return;
      lastDraw = t;
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total} patients, ${Math.round(rate)}/s, ETA ${eta}s `);
      if (done === total) stream.write('\n');
    } else {
      const decile = Math.floor(pct / 10);
      if (decile === lastDecile && done !== total) return;
      if (done === total && lastDecile === 10) return;
      lastDecile = decile;
      stream.write(`synth: ${done}/${total} patients (${pct}%), ${Math.round(rate)}/s, ${elapsed.toFixed(1)}s elapsed\n`);
    }
  };
}
