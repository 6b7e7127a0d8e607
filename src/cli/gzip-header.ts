// The gzip member header and trailer (RFC 1952). node:zlib cannot write the
// original name or time stamp, so the CLI writes them itself around a raw
// deflate stream, as gzip does.

const ID1 = 0x1f;
const ID2 = 0x8b;
const CM_DEFLATE = 8;
const FNAME = 0x08;
const OS_UNIX = 3;
/** XFL as gzip sets it: 2 for the slowest level, 4 for the fastest. */
const XFL_BY_LEVEL: Readonly<Record<number, number>> = { 1: 4, 9: 2 };

export interface HeaderFields {
  /** Original file name without directory; omitted when absent. */
  name?: string;
  /** Modification time in seconds since the epoch; 0 means none. */
  mtime: number;
  level: number;
}

export function gzipHeader({ name, mtime, level }: HeaderFields): Buffer {
  const fixed = Buffer.alloc(10);
  fixed[0] = ID1;
  fixed[1] = ID2;
  fixed[2] = CM_DEFLATE;
  fixed[3] = name !== undefined ? FNAME : 0;
  // MTIME is 32 bits: times outside it are recorded as "none", as gzip does.
  fixed.writeUInt32LE(mtime > 0 && mtime <= 0xffffffff ? Math.floor(mtime) : 0, 4);
  fixed[8] = XFL_BY_LEVEL[level] ?? 0;
  fixed[9] = OS_UNIX;
  if (name === undefined) return fixed;
  return Buffer.concat([fixed, Buffer.from(name, 'utf8'), Buffer.alloc(1)]);
}

export function gzipTrailer(crc: number, inputBytes: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  // ISIZE is the input length modulo 2^32.
  trailer.writeUInt32LE(inputBytes % 0x100000000, 4);
  return trailer;
}

/** MTIME of the first member, or undefined when `head` does not start a gzip member. */
export function headerMtime(head: Uint8Array): number | undefined {
  if (head.length < 10 || head[0] !== ID1 || head[1] !== ID2) return undefined;
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).readUInt32LE(4);
}
