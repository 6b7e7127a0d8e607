// Queue configuration: environment defaults, overridable by configure().
import { availableParallelism } from 'os';

export interface Config {
  /** Descriptors carry the user's Buffer addresses (true) or pinned-region offsets (false). */
  sva: boolean;
  /** Ring entries (rounded up to a power of two). */
  queueDepth: number;
  /** Software device worker threads. */
  workers: number;
  /** Size of the pinned region when `sva` is false. */
  pinnedBytes: number;
  /** Device to open; empty picks the best available. */
  device: string;
  /**
   * Default block size of deflate-family streams and one-shots when their
   * options name none: 0 keeps node's serial zlib and its exact bytes.
   */
  blockSize: number;
}

export type ConfigOptions = Partial<Config>;

const LIMITS = {
  queueDepth: [2, 65536],
  workers: [1, 256],
  pinnedBytes: [1 << 20, 1 << 30],
  blockSize: [0, 8 << 20],
} as const;

function intFromEnv(name: string, fallback: number, [min, max]: readonly [number, number]): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    process.emitWarning(`${name}=${raw} is not an integer in [${min}, ${max}]; using ${fallback}`, {
      code: 'UACCEL_BAD_ENV',
    });
    return fallback;
  }
  return value;
}

export function configFromEnv(): Config {
  return {
    sva: process.env.UACCEL_SVA !== '0',
    queueDepth: intFromEnv('UACCEL_QUEUE_DEPTH', 256, LIMITS.queueDepth),
    workers: intFromEnv('UACCEL_WORKERS', availableParallelism(), LIMITS.workers),
    pinnedBytes: intFromEnv('UACCEL_PINNED_BYTES', 4 << 20, LIMITS.pinnedBytes),
    device: process.env.UACCEL_DEVICE ?? '',
    blockSize: intFromEnv('UACCEL_BLOCK_SIZE', 128 << 10, LIMITS.blockSize),
  };
}

export { LIMITS as CONFIG_LIMITS };
