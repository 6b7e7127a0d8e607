// Decompression of gzip input (any number of members) with gzip's wording
// for what can go wrong, and gzip's tolerance of data after the last member.
import { Transform, Writable, type Readable } from 'stream';
import { finished, pipeline } from 'stream/promises';

import { createGunzip } from '../index';
import { gzipMembersEnd } from './gzip-extent';

/** Output chunks as large as a file write wants: fewer 'data' events and writes per megabyte. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

/** A damaged or foreign input: reported per file, the run continues. */
export class CorruptInputError extends Error {}

/** Bytes that are not a gzip member after at least one complete member. */
class TrailingGarbageError extends CorruptInputError {}

/** zlib's messages, in the words gzip uses for the same fault. */
const GZIP_WORDING: readonly (readonly [RegExp, string])[] = [
  [/incorrect header check|unknown compression method|unknown header flags/, 'not in gzip format'],
  [/unexpected end of file/, 'unexpected end of file'],
  [/incorrect data check/, 'invalid compressed data--crc error'],
  [/incorrect length check/, 'invalid compressed data--length error'],
];

function gzipWording(err: Error & { code?: string }, startsLikeGzip: boolean): Error {
  if (!err.code?.startsWith('Z_')) return err;
  // node:zlib reads any non-zero byte after a member as the start of another
  // member: a bad header in input that began with a good one is what follows
  // the last member.
  if (startsLikeGzip && /incorrect header check/.test(err.message)) {
    return new TrailingGarbageError('trailing garbage after compressed data');
  }
  const match = GZIP_WORDING.find(([pattern]) => pattern.test(err.message));
  return new CorruptInputError(match?.[1] ?? 'invalid compressed data--format violated');
}

export interface GunzipInput {
  /** A fresh stream of the input, up to byte `end` (exclusive) when given. */
  open(end?: number): Readable;
  /** Set when the input is a file that can be read again. */
  path?: string;
}

export interface GunzipResult {
  /** gzip's "decompression OK, trailing garbage ignored". */
  trailingGarbage: boolean;
}

/**
 * Forwards to `sink` without handing it to pipeline(), which would destroy
 * it when decoding fails: a second pass may still complete the output. The
 * first `skip` bytes are dropped (the first pass already wrote them).
 */
function shield(sink: Writable, skip: number, onWritten: (bytes: number) => void): Writable {
  let toSkip = skip;
  const proxy = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const dropped = Math.min(toSkip, chunk.length);
      toSkip -= dropped;
      const rest = dropped > 0 ? chunk.subarray(dropped) : chunk;
      if (rest.length === 0) return callback();
      onWritten(rest.length);
      if (sink.write(rest)) callback();
      else sink.once('drain', () => callback());
    },
  });
  const onError = (err: Error) => proxy.destroy(err);
  sink.on('error', onError);
  proxy.on('close', () => sink.removeListener('error', onError));
  return proxy;
}

async function decodeOnce(
  input: Readable,
  sink: Writable,
  skip: number,
  onInput: (bytes: number) => void,
  onWritten: (bytes: number) => void,
): Promise<number> {
  let inputBytes = 0;
  let head: Buffer = Buffer.alloc(0);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head.length < 2) head = Buffer.concat([head, chunk.subarray(0, 2)]);
      inputBytes += chunk.length;
      onInput(chunk.length);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      input,
      counter,
      createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }),
      shield(sink, skip, onWritten),
    );
  } catch (err) {
    throw gzipWording(err as Error, head[0] === 0x1f && head[1] === 0x8b);
  }
  return inputBytes;
}

export async function gunzipInto(
  input: GunzipInput,
  output: Writable | 'discard',
  onInput: (bytes: number) => void,
): Promise<GunzipResult> {
  const sink =
    output === 'discard' ? new Writable({ write: (_chunk, _encoding, callback) => callback() }) : output;
  let written = 0;
  let trailingGarbage = false;
  try {
    const inputBytes = await decodeOnce(input.open(), sink, 0, onInput, (n) => (written += n));
    // zlib accepts an empty input as no members at all; gzip calls it truncated.
    if (inputBytes === 0) throw new CorruptInputError('unexpected end of file');
  } catch (err) {
    // Without a way to read the input again (stdin), node's refusal stands.
    if (!(err instanceof TrailingGarbageError) || input.path === undefined) throw err;
    const end = await gzipMembersEnd(input.path);
    if (end === 0) throw err;
    await decodeOnce(input.open(end), sink, written, noop, noop);
    trailingGarbage = true;
  }
  // stdout outlives one file (-c with several files writes them all).
  if (sink !== process.stdout) {
    sink.end();
    await finished(sink);
  }
  return { trailingGarbage };
}

function noop(): void {}
