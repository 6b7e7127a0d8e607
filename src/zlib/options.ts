// Option validation for the zlib-format streams, in node's order so that the
// first error thrown for a bad options object is the one node would throw.
import * as buffer from 'buffer';
import { types } from 'util';
import { constants } from 'zlib';
import { checkRangesOrGetDefault, errInvalidArgType, errOutOfRange, validateFiniteNumber } from '../errors';

const { Buffer } = buffer;
// Read once at load, as node:zlib reads it: the default output limit does not
// follow later assignments to buffer.kMaxLength.
const kMaxLength = buffer.kMaxLength;
const kMaxBufferLength = buffer.constants.MAX_LENGTH;

const {
  DEFLATERAW,
  INFLATE,
  GUNZIP,
  GZIP,
  UNZIP,
  Z_NO_FLUSH,
  Z_BLOCK,
  Z_FINISH,
  Z_MIN_CHUNK,
  Z_DEFAULT_CHUNK,
  Z_MIN_WINDOWBITS,
  Z_MAX_WINDOWBITS,
  Z_DEFAULT_WINDOWBITS,
  Z_MIN_LEVEL,
  Z_MAX_LEVEL,
  Z_DEFAULT_COMPRESSION,
  Z_MIN_MEMLEVEL,
  Z_MAX_MEMLEVEL,
  Z_DEFAULT_MEMLEVEL,
  Z_DEFAULT_STRATEGY,
  Z_FIXED,
} = constants;

/** What callers may pass; every field is checked, so none is trusted. */
export interface ZlibOptionsInput {
  chunkSize?: unknown;
  flush?: unknown;
  finishFlush?: unknown;
  maxOutputLength?: unknown;
  windowBits?: unknown;
  level?: unknown;
  memLevel?: unknown;
  strategy?: unknown;
  dictionary?: unknown;
  info?: unknown;
}

export interface ZlibResolvedOptions {
  chunkSize: number;
  flush: number;
  finishFlush: number;
  maxOutputLength: number;
  windowBits: number;
  level: number;
  memLevel: number;
  strategy: number;
  /** Always a byte view over the caller's memory, never a copy. */
  dictionary: Uint8Array | undefined;
  info: boolean;
}

function toBytes(dictionary: unknown): Uint8Array | undefined {
  if (dictionary === undefined || dictionary instanceof Uint8Array) return dictionary;
  if (ArrayBuffer.isView(dictionary)) {
    return Buffer.from(dictionary.buffer, dictionary.byteOffset, dictionary.byteLength);
  }
  if (types.isAnyArrayBuffer(dictionary)) return Buffer.from(dictionary);
  throw errInvalidArgType(
    'options.dictionary',
    ['Buffer', 'TypedArray', 'DataView', 'ArrayBuffer'],
    dictionary,
  );
}

/**
 * Validates options for a zlib-format stream of the given mode (node's
 * numbering: DEFLATE=1 ... UNZIP=7) and fills in defaults. Numbers are
 * range-checked but, as in node, not rounded.
 */
export function validateZlibOptions(opts: unknown, mode: number): ZlibResolvedOptions {
  const resolved: ZlibResolvedOptions = {
    chunkSize: Z_DEFAULT_CHUNK,
    flush: Z_NO_FLUSH,
    finishFlush: Z_FINISH,
    maxOutputLength: kMaxLength,
    windowBits: Z_DEFAULT_WINDOWBITS,
    level: Z_DEFAULT_COMPRESSION,
    memLevel: Z_DEFAULT_MEMLEVEL,
    strategy: Z_DEFAULT_STRATEGY,
    dictionary: undefined,
    info: false,
  };
  // Node ignores any falsy options value, but reads fields off any truthy one.
  if (!opts) return resolved;
  const o = opts as ZlibOptionsInput;

  let windowBits = o.windowBits;
  // Node's DeflateRaw accepts 8 and quietly uses 9 (zlib rejects raw 8).
  if (mode === DEFLATERAW && windowBits === 8) windowBits = 9;
  // Decompressors treat 0 (or nothing) as "use the window size from the header".
  if ((windowBits == null || windowBits === 0) && (mode === INFLATE || mode === GUNZIP || mode === UNZIP)) {
    resolved.windowBits = 0;
  } else {
    // gzip cannot use the 8-bit window that plain deflate rounds up to 9.
    const min = Z_MIN_WINDOWBITS + (mode === GZIP ? 1 : 0);
    resolved.windowBits = checkRangesOrGetDefault(
      windowBits,
      'options.windowBits',
      min,
      Z_MAX_WINDOWBITS,
      Z_DEFAULT_WINDOWBITS,
    );
  }
  resolved.level = checkRangesOrGetDefault(
    o.level,
    'options.level',
    Z_MIN_LEVEL,
    Z_MAX_LEVEL,
    Z_DEFAULT_COMPRESSION,
  );
  resolved.memLevel = checkRangesOrGetDefault(
    o.memLevel,
    'options.memLevel',
    Z_MIN_MEMLEVEL,
    Z_MAX_MEMLEVEL,
    Z_DEFAULT_MEMLEVEL,
  );
  resolved.strategy = checkRangesOrGetDefault(
    o.strategy,
    'options.strategy',
    Z_DEFAULT_STRATEGY,
    Z_FIXED,
    Z_DEFAULT_STRATEGY,
  );
  resolved.dictionary = toBytes(o.dictionary);

  // Node checks the stream-level options only after the codec-level ones.
  const chunkSize = o.chunkSize;
  if (validateFiniteNumber(chunkSize, 'options.chunkSize')) {
    if (chunkSize < Z_MIN_CHUNK) throw errOutOfRange('options.chunkSize', `>= ${Z_MIN_CHUNK}`, chunkSize);
    resolved.chunkSize = chunkSize;
  }
  resolved.flush = checkRangesOrGetDefault(o.flush, 'options.flush', Z_NO_FLUSH, Z_BLOCK, Z_NO_FLUSH);
  resolved.finishFlush = checkRangesOrGetDefault(
    o.finishFlush,
    'options.finishFlush',
    Z_NO_FLUSH,
    Z_BLOCK,
    Z_FINISH,
  );
  resolved.maxOutputLength = checkRangesOrGetDefault(
    o.maxOutputLength,
    'options.maxOutputLength',
    1,
    kMaxLength,
    kMaxLength,
  );
  // Node then allocates the first output chunk, whose size check comes last
  // and uses Buffer's real limit.
  if (resolved.chunkSize > kMaxBufferLength) {
    throw errOutOfRange('size', `>= 0 && <= ${kMaxBufferLength}`, resolved.chunkSize);
  }
  resolved.info = Boolean(o.info);
  return resolved;
}
