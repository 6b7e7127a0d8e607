// Where the gzip members of a file end, so that a file with data after its
// last member can be decompressed again up to there (see gunzip-stream.ts).
// node:zlib's own InflateRaw does the scan: this runs only in that rare case,
// and its bytesWritten at 'end' is the exact length of the deflate data.
import { createReadStream, promises as fsp } from 'fs';
import { createInflateRaw } from 'zlib';

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
/** Enough for any header gzip itself writes; a longer name ends the scan. */
const HEADER_WINDOW = 64 * 1024;
const TRAILER_BYTES = 8;

/** Length of the member header at the start of `b`, or undefined when it is not one. */
function headerLength(b: Buffer): number | undefined {
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return undefined;
  const flags = b[3];
  let at = 10;
  if (flags & FEXTRA) {
    if (at + 2 > b.length) return undefined;
    at += 2 + b.readUInt16LE(at);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const nul = b.indexOf(0, at);
    if (nul < 0) return undefined;
    at = nul + 1;
  }
  if (flags & FHCRC) at += 2;
  return at <= b.length ? at : undefined;
}

/** Bytes of deflate data starting at `start`, found by inflating it (output discarded). */
function deflateLength(path: string, start: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const input = createReadStream(path, { start });
    const inflate = createInflateRaw();
    inflate.resume();
    inflate.on('end', () => {
      input.destroy();
      resolve(inflate.bytesWritten);
    });
    inflate.on('error', () => {
      input.destroy();
      resolve(undefined);
    });
    input.on('error', () => resolve(undefined));
    input.pipe(inflate);
  });
}

/** Offset just past the last complete gzip member at the start of the file at `path`. */
export async function gzipMembersEnd(path: string): Promise<number> {
  const file = await fsp.open(path, 'r');
  try {
    const size = (await file.stat()).size;
    let offset = 0;
    for (;;) {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(HEADER_WINDOW), 0, HEADER_WINDOW, offset);
      const header = headerLength(buffer.subarray(0, bytesRead));
      if (header === undefined) return offset;
      const body = await deflateLength(path, offset + header);
      if (body === undefined || offset + header + body + TRAILER_BYTES > size) return offset;
      offset += header + body + TRAILER_BYTES;
    }
  } finally {
    await file.close();
  }
}
