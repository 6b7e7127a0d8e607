// Compression into one gzip member with gzip's own header: the 10-byte
// header and FNAME written here, then raw deflate from uaccel, then the
// CRC-32 and length of the input, computed as it streams past.
import { Transform, type Readable, type Writable } from 'stream';
import { pipeline } from 'stream/promises';

import { createDeflateRaw } from '../index';
import { crc32 } from './crc32';
import { gzipHeader, gzipTrailer, type HeaderFields } from './gzip-header';

/** Large output chunks keep descriptors per megabyte low. */
const DEFLATE_CHUNK_BYTES = 256 * 1024;

export async function compressMember(
  input: Readable,
  output: Writable,
  header: HeaderFields,
  onInput: (bytes: number) => void,
): Promise<void> {
  let crc = 0;
  let inputBytes = 0;
  const checksum = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      crc = crc32(chunk, crc);
      inputBytes += chunk.length;
      onInput(chunk.length);
      callback(null, chunk);
    },
  });
  const deflate = createDeflateRaw({ level: header.level, chunkSize: DEFLATE_CHUNK_BYTES });
  await pipeline(
    input,
    checksum,
    deflate,
    async function* frame(body: AsyncIterable<Buffer>) {
      yield gzipHeader(header);
      for await (const chunk of body) yield chunk;
      yield gzipTrailer(crc, inputBytes);
    },
    output,
    // stdout outlives one file (-c with several files writes them all).
    { end: output !== process.stdout },
  );
}
