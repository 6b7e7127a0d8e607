// One-shot compression of a whole input as a single descriptor: the device
// compresses it with libdeflate into a complete member (header, data,
// trailer), with per-thread compressor state, so a call costs no stream and
// no codec initialisation. Output decompresses anywhere node's does but is not
// byte-identical to node:zlib's; `blockSize: 0` keeps node's serial zlib path
// (and its exact bytes) for callers that need them.
import { isAnyArrayBuffer, isArrayBufferView } from 'util/types';

import { errBufferTooLarge, errOutOfRange, errInvalidArgType } from '../errors';
import { binding } from '../native/binding';
import { currentQueue } from '../ring/current';
import type { Completion, Descriptor } from '../ring/queue';
import { Mode, Z_DEFAULT_STRATEGY, Z_FINISH, Z_NO_FLUSH } from './constants';
import { validateZlibOptions } from './options';

const FORMAT: Partial<Record<Mode, number>> = {
  [Mode.DEFLATERAW]: 0,
  [Mode.DEFLATE]: 1,
  [Mode.GZIP]: 2,
};

/** Largest input the Sync form compresses in one descriptor (the output bound is allocated up front). */
const MAX_SYNC_INPUT = 64 << 20;

/** The `blockSize` option: 0 selects node's serial zlib; absent, the device picks. */
export function blockSizeOption(opts: unknown): number | undefined {
  if (!opts || typeof opts !== 'object') return undefined;
  const value = (opts as { blockSize?: unknown }).blockSize;
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw errInvalidArgType('options.blockSize', 'number', value);
  if (!Number.isInteger(value) || value < 0) {
    throw errOutOfRange('options.blockSize', 'an integer >= 0', value);
  }
  return value;
}

interface Plan {
  input: Uint8Array;
  dst: Buffer;
  descriptor: Omit<Descriptor, 'done'>;
  maxOutputLength: number;
}

function asBytes(buffer: unknown): Uint8Array | undefined {
  if (typeof buffer === 'string') return Buffer.from(buffer);
  if (isArrayBufferView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (isAnyArrayBuffer(buffer)) return new Uint8Array(buffer as ArrayBuffer);
  return undefined;
}

// A whole-member descriptor when the call can take one: a compressing mode,
// no option libdeflate does not honour (dictionary, strategy, a smaller
// window, flush kinds, info), and an output bound that fits one descriptor.
// Options are validated first so errors are node's, thrown where node throws.
function plan(mode: Mode, buffer: unknown, opts: unknown, maxBytes: number): Plan | undefined {
  const format = FORMAT[mode];
  if (format === undefined || binding === null) return undefined;
  const o = validateZlibOptions(opts, mode);
  if (blockSizeOption(opts) === 0) return undefined;
  if (
    o.dictionary !== undefined ||
    o.strategy !== Z_DEFAULT_STRATEGY ||
    o.windowBits !== 15 ||
    o.flush !== Z_NO_FLUSH ||
    o.finishFlush !== Z_FINISH ||
    o.info
  ) {
    return undefined;
  }
  const input = asBytes(buffer);
  if (input === undefined) return undefined;
  const bound = input.length + (input.length >>> 3) + 1024;
  if (bound > maxBytes) return undefined;
  const dst = Buffer.allocUnsafe(bound);
  const level = o.level < 0 ? 6 : o.level;
  const { op, flag } = binding.abi;
  return {
    input,
    dst,
    maxOutputLength: o.maxOutputLength,
    descriptor: {
      op: op.DEFLATE_BLOCK,
      flush: 0,
      ctx: 0,
      src: input,
      srcOff: 0,
      srcLen: input.length,
      dst,
      dstOff: 0,
      dstLen: dst.length,
      arg: (level + 1) | (format << 8),
      flags: flag.FIRST | flag.LAST,
    },
  };
}

function result(p: Plan, c: Completion): Buffer | Error | undefined {
  if (c.status !== 0) return undefined; // e.g. -ENOSPC: the caller takes the stream path
  if (c.produced > p.maxOutputLength) return errBufferTooLarge(p.maxOutputLength);
  return p.dst.subarray(0, c.produced);
}

/**
 * Compresses `buffer` as one member on the device and calls back, or
 * returns false (having done nothing) when the call must take the stream path.
 */
export function compressWhole(
  mode: Mode,
  buffer: unknown,
  opts: unknown,
  callback: (err: Error | null, result?: Buffer) => void,
  fallback: () => void,
): boolean {
  if (typeof callback !== 'function') return false;
  const queue = binding === null ? null : currentQueue();
  if (queue === null) return false;
  const p = plan(mode, buffer, opts, queue.maxDescriptorBytes);
  if (p === undefined) return false;
  queue.enqueue({
    ...p.descriptor,
    done: (c) => {
      const r = result(p, c);
      if (r === undefined) fallback();
      else if (r instanceof Error) callback(r);
      else callback(null, r);
    },
  });
  return true;
}

/** The Sync form of compressWhole: the result, or undefined for the stream path. */
export function compressWholeSync(mode: Mode, buffer: unknown, opts: unknown): Buffer | undefined {
  if (binding === null) return undefined;
  const p = plan(mode, buffer, opts, MAX_SYNC_INPUT);
  if (p === undefined) return undefined;
  const r = result(p, currentQueue().runInline({ ...p.descriptor, done: noop }));
  if (r instanceof Error) throw r;
  return r;
}

function noop(): void {}
