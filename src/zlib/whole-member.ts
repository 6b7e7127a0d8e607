// One-shots as a single descriptor: the device compresses the whole input
// with libdeflate into a complete member (header, data, trailer), or inflates
// a whole gzip member whose trailer states its size, with per-thread codec
// state, so a call costs no stream and no codec initialisation. Compressed
// output decodes anywhere node's does but is not byte-identical to
// node:zlib's; `blockSize: 0` keeps node's serial zlib path (and its exact
// bytes) for callers that need them. Anything the single descriptor cannot
// settle exactly as node would (several members, trailing data, corrupt
// input, a size past maxOutputLength) goes back to the stream path, whose
// results and errors are node's.
import { isAnyArrayBuffer, isArrayBufferView } from 'util/types';

import { errBufferTooLarge } from '../errors';
import { binding } from '../native/binding';
import { currentConfig, currentQueue } from '../ring/current';
import type { Completion, Descriptor } from '../ring/queue';
import { Mode, Z_DEFAULT_STRATEGY, Z_FINISH, Z_NO_FLUSH } from './constants';
import { validateZlibOptions } from './options';
import { blockSizeOption } from './block-size';

const FORMAT: Partial<Record<Mode, number>> = {
  [Mode.DEFLATERAW]: 0,
  [Mode.DEFLATE]: 1,
  [Mode.GZIP]: 2,
};

/** Largest input the Sync form compresses in one descriptor (the output bound is allocated up front). */
const MAX_SYNC_INPUT = 64 << 20;

interface Plan {
  input: Uint8Array;
  dst: Buffer;
  descriptor: Descriptor;
  maxOutputLength: number;
  /** For inflation: the exact output size the member's trailer promised. */
  inflatedSize?: number;
}

const GZIP_MIN_MEMBER = 18; // 10-byte header, empty deflate body, 8-byte trailer

function asBytes(buffer: unknown): Uint8Array | undefined {
  if (typeof buffer === 'string') return Buffer.from(buffer);
  if (isArrayBufferView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (isAnyArrayBuffer(buffer)) return new Uint8Array(buffer as ArrayBuffer);
  return undefined;
}

// A whole-member descriptor when the call can take one: no option the
// single descriptor cannot honour (dictionary, strategy, a smaller window,
// flush kinds, info, blockSize 0), and sizes that fit one descriptor.
// Options are validated first so errors are node's, thrown where node throws.
function plan(mode: Mode, buffer: unknown, opts: unknown, maxBytes: number): Plan | undefined {
  if (binding === null) return undefined;
  const inflating = mode === Mode.GUNZIP || mode === Mode.UNZIP;
  if (FORMAT[mode] === undefined && !inflating) return undefined;
  const o = validateZlibOptions(opts, mode);
  if ((blockSizeOption(opts) ?? currentConfig().blockSize) === 0) return undefined;
  const window = inflating ? o.windowBits === 0 || o.windowBits === 15 : o.windowBits === 15;
  if (
    !window ||
    o.dictionary !== undefined ||
    o.strategy !== Z_DEFAULT_STRATEGY ||
    o.flush !== Z_NO_FLUSH ||
    o.finishFlush !== Z_FINISH ||
    o.info
  ) {
    return undefined;
  }
  const input = asBytes(buffer);
  if (input === undefined || input.length > maxBytes) return undefined;
  return inflating ? planInflate(input, o.maxOutputLength, maxBytes) : planDeflate(mode, input, o, maxBytes);
}

function planDeflate(
  mode: Mode,
  input: Uint8Array,
  o: { level: number; maxOutputLength: number },
  maxBytes: number,
): Plan | undefined {
  const bound = input.length + (input.length >>> 3) + 1024;
  if (bound > maxBytes) return undefined;
  const dst = Buffer.allocUnsafe(bound);
  const level = o.level < 0 ? 6 : o.level;
  const { op, flag } = binding!.abi;
  return {
    input,
    dst,
    maxOutputLength: o.maxOutputLength,
    descriptor: wholeDescriptor(
      op.DEFLATE_BLOCK,
      input,
      dst,
      (level + 1) | ((FORMAT[mode] as number) << 8),
      flag.FIRST | flag.LAST,
    ),
  };
}

/** One descriptor over all of `input` and all of `dst`; the caller sets `done`. */
function wholeDescriptor(op: number, input: Uint8Array, dst: Buffer, arg: number, flags = 0): Descriptor {
  return {
    op,
    flush: 0,
    ctx: 0,
    src: input,
    srcOff: 0,
    srcLen: input.length,
    dst,
    dstOff: 0,
    dstLen: dst.length,
    arg,
    flags,
    done: noop,
  };
}

// A gzip member states its size (mod 2^32) in its last four bytes; when the
// input is exactly one member that size is the output buffer, filled in one
// step. Unzip takes the same path when the input starts with gzip's magic.
function planInflate(input: Uint8Array, maxOutputLength: number, maxBytes: number): Plan | undefined {
  if (input.length < GZIP_MIN_MEMBER || input[0] !== 0x1f || input[1] !== 0x8b) return undefined;
  const end = input.length;
  const size =
    (input[end - 4] | (input[end - 3] << 8) | (input[end - 2] << 16) | (input[end - 1] << 24)) >>> 0;
  if (size > maxOutputLength || size > maxBytes) return undefined;
  const dst = Buffer.allocUnsafe(size);
  return {
    input,
    dst,
    maxOutputLength,
    inflatedSize: size,
    descriptor: wholeDescriptor(
      binding!.abi.op.INFLATE_ONESHOT,
      input,
      dst,
      (FORMAT[Mode.GZIP] as number) << 8,
    ),
  };
}

function result(p: Plan, c: Completion): Buffer | Error | undefined {
  if (c.status !== 0) return undefined;
  if (p.inflatedSize !== undefined && (c.consumed !== p.input.length || c.produced !== p.inflatedSize)) {
    return undefined;
  }
  if (c.produced > p.maxOutputLength) return errBufferTooLarge(p.maxOutputLength);
  return p.dst.subarray(0, c.produced);
}

/**
 * Runs the one-shot as one descriptor and calls back, or returns false
 * (having done nothing) when the call must take the stream path.
 */
export function wholeMember(
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
  p.descriptor.done = (c) => {
    const r = result(p, c);
    if (r === undefined) fallback();
    else if (r instanceof Error) callback(r);
    else callback(null, r);
  };
  queue.enqueue(p.descriptor);
  return true;
}

/** The Sync form of wholeMember: the result, or undefined for the stream path. */
export function wholeMemberSync(mode: Mode, buffer: unknown, opts: unknown): Buffer | undefined {
  if (binding === null) return undefined;
  const p = plan(mode, buffer, opts, MAX_SYNC_INPUT);
  if (p === undefined) return undefined;
  const r = result(p, currentQueue().runInline(p.descriptor));
  if (r instanceof Error) throw r;
  return r;
}

function noop(): void {}
