/** NDJSON line splitting with byte offsets, so an import can record exactly where it is and resume there. */
import type { Readable } from 'node:stream';

export interface Line {
  /** The line's text without the line break (may be empty). */
  text: string;
  /** Byte offset just past this line's line break, relative to the start of the whole source. */
  end: number;
}

/**
 * Yields the lines of a byte stream that starts at `start` bytes into its source. Memory is bounded by the
 * longest line plus one chunk; a final line without a line break is yielded too.
 */
export async function* ndjsonLines(stream: Readable | AsyncIterable<Uint8Array>, start = 0): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let offset = start;
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    let nl = buf.indexOf(10, from);
    while (nl !== -1) {
      const piece = buf.subarray(from, nl);
      const lineBuf = pendingLen > 0 ? Buffer.concat([...pending, piece]) : piece;
      offset += lineBuf.length + 1;
      pending = [];
      pendingLen = 0;
      yield { text: stripCr(lineBuf.toString('utf8')), end: offset };
      from = nl + 1;
      nl = buf.indexOf(10, from);
    }
    if (from < buf.length) {
      // Copy: the stream may reuse its chunk buffers.
      const rest = Buffer.from(buf.subarray(from));
      pending.push(rest);
      pendingLen += rest.length;
    }
  }
  if (pendingLen > 0) {
    const lineBuf = Buffer.concat(pending);
    offset += lineBuf.length;
    yield { text: stripCr(lineBuf.toString('utf8')), end: offset };
  }
}

const stripCr = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s);
