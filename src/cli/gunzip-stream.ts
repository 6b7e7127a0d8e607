// Decompression of gzip input (any number of members) with gzip's wording
// for what can go wrong.
import { Transform, Writable, type Readable } from 'stream';
import { pipeline } from 'stream/promises';

import { createGunzip } from '../index';

/** A damaged or foreign input: reported per file, the run continues. */
export class CorruptInputError extends Error {}

/** zlib's messages, in the words gzip uses for the same fault. */
const GZIP_WORDING: readonly (readonly [RegExp, string])[] = [
  [/incorrect header check|unknown compression method/, 'not in gzip format'],
  [/unexpected end of file/, 'unexpected end of file'],
  [/incorrect data check/, 'invalid compressed data--crc error'],
  [/incorrect length check/, 'invalid compressed data--length error'],
];

function gzipWording(err: Error & { code?: string }, producedOutput: boolean): Error {
  if (!err.code?.startsWith('Z_')) return err;
  // node:zlib reads any non-zero byte after a member as the start of another
  // member, so data after a good member fails as a bad header. gzip would
  // warn and keep the output; we keep node's refusal and say what it was.
  if (producedOutput && /incorrect header check/.test(err.message)) {
    return new CorruptInputError('trailing garbage after compressed data -- not decompressed');
  }
  const match = GZIP_WORDING.find(([pattern]) => pattern.test(err.message));
  return new CorruptInputError(match?.[1] ?? 'invalid compressed data--format violated');
}

export async function gunzipInto(
  input: Readable,
  output: Writable | 'discard',
  onInput: (bytes: number) => void,
): Promise<void> {
  let inputBytes = 0;
  let outputBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inputBytes += chunk.length;
      onInput(chunk.length);
      callback(null, chunk);
    },
  });
  const gunzip = createGunzip();
  gunzip.on('data', (chunk: Buffer) => (outputBytes += chunk.length));
  const sink =
    output === 'discard' ? new Writable({ write: (_chunk, _encoding, callback) => callback() }) : output;
  try {
    await pipeline(input, counter, gunzip, sink, { end: sink !== process.stdout });
  } catch (err) {
    throw gzipWording(err as Error, outputBytes > 0);
  }
  // zlib accepts an empty input as no members at all; gzip calls it truncated.
  if (inputBytes === 0) throw new CorruptInputError('unexpected end of file');
}
