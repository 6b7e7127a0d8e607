// Options of the compression middleware, spelled and defaulted as in the
// `compression` package, validated once with node's error shapes.
import type { IncomingMessage, ServerResponse } from 'http';
import * as nodeZlib from 'zlib';
import compressible = require('compressible');

import { errInvalidArgType, errOutOfRange } from '../errors';
import type { ZlibOptions } from '../index';

export type Filter = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface CompressionOptions extends Pick<
  ZlibOptions,
  'level' | 'memLevel' | 'strategy' | 'windowBits' | 'chunkSize' | 'blockSize'
> {
  /** Bytes below which a response is sent as is: a number, or a string such as '1kb'. Default 1kb. */
  threshold?: number | string;
  /** Decides whether a response may be compressed; default: compressible Content-Type. */
  filter?: Filter;
  /** Options for br responses; default quality 4, the `compression` package's. */
  brotli?: nodeZlib.BrotliOptions;
}

export interface ResolvedOptions {
  threshold: number;
  filter: Filter;
  zlib: ZlibOptions;
  brotli: nodeZlib.BrotliOptions;
}

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1 << 10, mb: 1 << 20, gb: 1 << 30 };

export function parseBytes(value: number | string, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw errOutOfRange(name, 'a finite number', value);
    return value;
  }
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) throw errOutOfRange(name, "a byte count such as 1024 or '1kb'", value);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]);
}

/** The default filter: compress when the response's Content-Type is compressible. */
export function defaultFilter(_req: IncomingMessage, res: ServerResponse): boolean {
  const type = res.getHeader('Content-Type');
  if (type === undefined) return false;
  return compressible(String(type)) === true;
}

const DEFAULT_BROTLI: nodeZlib.BrotliOptions = { params: { [nodeZlib.constants.BROTLI_PARAM_QUALITY]: 4 } };

export function resolveOptions(options: CompressionOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw errInvalidArgType('options', 'Object', options);
  const {
    threshold = 1024,
    filter = defaultFilter,
    brotli,
    level,
    memLevel,
    strategy,
    windowBits,
    chunkSize,
    blockSize,
  } = options;
  if (typeof filter !== 'function') throw errInvalidArgType('options.filter', 'Function', filter);
  if (typeof threshold !== 'number' && typeof threshold !== 'string') {
    throw errInvalidArgType('options.threshold', ['number', 'string'], threshold);
  }
  const zlib: ZlibOptions = {};
  for (const [key, value] of Object.entries({ level, memLevel, strategy, windowBits, chunkSize })) {
    if (value !== undefined) (zlib as Record<string, unknown>)[key] = value;
  }
  // Checked now rather than on the first request: construct a compressor once.
  nodeZlib.createDeflate(zlib).close();
  if (blockSize !== undefined) {
    if (typeof blockSize !== 'number') throw errInvalidArgType('options.blockSize', 'number', blockSize);
    if (!Number.isInteger(blockSize) || blockSize < 0) {
      throw errOutOfRange('options.blockSize', 'an integer >= 0', blockSize);
    }
    zlib.blockSize = blockSize;
  }
  return {
    threshold: parseBytes(threshold, 'options.threshold'),
    filter,
    zlib,
    brotli: brotli ?? DEFAULT_BROTLI,
  };
}
