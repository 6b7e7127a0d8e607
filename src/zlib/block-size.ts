// The `blockSize` option uaccel adds to node's zlib options: 0 keeps node's
// serial zlib (and its exact output bytes); a positive size sets the block
// size of parallel stream compression; absent, the device picks.
import { errInvalidArgType, errOutOfRange } from '../errors';

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
