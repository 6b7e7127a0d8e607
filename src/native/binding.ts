// Loads the native addon once. When it cannot load (no matching prebuild and
// no compiler, an unsupported platform, or UACCEL_NATIVE=0), the package keeps
// working by delegating to node:zlib, and this module says why.
import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

export interface QueueOptions {
  device: string;
  sva: boolean;
  depth: number;
  workers: number;
  regionBytes: number;
}

export interface NativeQueueInfo {
  device: string;
  sva: boolean;
  workers: number;
  queueDepth: number;
  inflight: number;
  regionBytes?: number;
  regionLocked?: boolean;
  regionLockError?: string;
  counters: {
    descriptors: number;
    batches: number;
    completionBatches: number;
    bytesIn: number;
    bytesOut: number;
  };
}

export interface NativeQueue {
  submit(count: number, buffers: Array<Uint8Array | undefined>): number;
  runInline(fields: Uint32Array, buffers: Array<Uint8Array | undefined>, out: Int32Array): number;
  openContext(
    mode: number,
    level: number,
    windowBits: number,
    memLevel: number,
    strategy: number,
    dictionary?: Uint8Array,
  ): number;
  resetContext(id: number): number;
  paramsContext(id: number, level: number, strategy: number): number;
  contextMessage(id: number): string;
  closeContext(id: number): void;
  close(): void;
  info(): NativeQueueInfo;
  region(): Buffer | undefined;
}

export interface Abi {
  version: number;
  submitFields: number;
  completionFields: number;
  statusCodec: number;
  op: {
    NOP: number;
    DEFLATE: number;
    INFLATE: number;
    CRC32: number;
    DEFLATE_BLOCK: number;
    INFLATE_ONESHOT: number;
  };
  flag: { PINNED: number; FIRST: number; LAST: number; WRITES: number; STREAM_END: number };
}

export interface Binding {
  Queue: new (
    options: QueueOptions,
    staging: Uint32Array,
    completions: Int32Array,
    onComplete: (count: number) => void,
  ) => NativeQueue;
  abi: Abi;
  devices: Array<{ name: string; available: boolean; sva: boolean; pinned: boolean }>;
  sourceHash: string;
  zlibVersion: string;
  /** Check value (CRC-32, or Adler-32 for format 1) of A then B, from both checks and B's length. */
  checkCombine(format: number, checkA: number, checkB: number, lengthB: number): number;
  /** Codecs linked or loaded: zlib always, libdeflate when built with it, ISA-L when libisal.so.2 loaded. */
  codecs: { zlib: string; libdeflate?: string; isal?: string; isalStatus?: string };
}

/** The package root: the nearest directory above this file holding our package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'uaccel') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('uaccel: cannot find the package root');
    dir = parent;
  }
}

function describePlatform(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const libc = report?.header?.glibcVersionRuntime
    ? `glibc ${report.header.glibcVersionRuntime}`
    : 'non-glibc';
  return `${process.platform}-${process.arch} (${libc}, node ${process.versions.node}, N-API ${process.versions.napi})`;
}

function load(): { binding: Binding | null; reason: string } {
  if (process.env.UACCEL_NATIVE === '0') {
    return { binding: null, reason: 'disabled by UACCEL_NATIVE=0' };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => Binding;
    return { binding: nodeGypBuild(packageRoot()), reason: '' };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      binding: null,
      reason:
        `no native build for ${describePlatform()}: ${why}. ` +
        'Install a C++ toolchain (python3, make, g++) and run `npm rebuild uaccel`, ' +
        'or use a platform with a prebuild (linux-x64 glibc).',
    };
  }
}

const loaded = load();

/** The addon, or null when it could not load (see `nativeLoadError`). */
export const binding: Binding | null = loaded.binding;
/** Why the addon is unavailable; empty when it loaded. */
export const nativeLoadError: string = loaded.reason;
