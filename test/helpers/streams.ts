// Stream helpers shared by the conformance tests. Every helper works the same
// way on a uaccel stream and on a node:zlib stream, so a test runs one code
// path against both and compares.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { beforeAll, expect } from 'vitest';

import * as uaccel from '../../src/index';

/** The two memory modes every behaviour is checked under. */
export const MODES = [
  { name: 'sva', sva: true },
  { name: 'pinned', sva: false },
] as const;
export type ModeRow = (typeof MODES)[number];

/**
 * Configuration pinning the compressing streams to node's serial zlib (the
 * default compresses parallel blocks), under which their output is node's
 * byte for byte: the conformance tests whose oracle is node's bytes use it;
 * test/stream.blocks.test.ts covers the block path.
 */
export const SERIAL = { blockSize: 0 } as const;

/** Largest input one pinned descriptor carries; bigger writes are split. */
export const PINNED_DESCRIPTOR_BYTES = 64 * 1024;

/**
 * Switches uaccel to the given memory mode before the enclosing describe's
 * tests, and proves the switch: once a stream exists the open queue must
 * report that mode.
 */
export function useMode(sva: boolean, extra: Omit<uaccel.ConfigOptions, 'sva'> = {}): void {
  beforeAll(async () => {
    uaccel.configure({ sva, ...extra });
    const probe = uaccel.createGzip();
    const info = uaccel.info();
    expect(info.open).toBe(true);
    expect(info.sva).toBe(sva);
    probe.end('probe');
    probe.resume();
    await once(probe, 'end');
  });
}

export type ClassName = 'Deflate' | 'Inflate' | 'Gzip' | 'Gunzip' | 'DeflateRaw' | 'InflateRaw' | 'Unzip';
export type ZStream = Transform & {
  bytesWritten: number;
  flush(kind?: number | (() => void), cb?: () => void): void;
  params(level: number, strategy: number, cb?: () => void): void;
  reset(): void;
  close(cb?: () => void): void;
};
export type Factory = (opts?: zlib.ZlibOptions) => ZStream;

/** `create*` factories by class name, for uaccel and for node:zlib. */
export const ours: Record<ClassName, Factory> = {
  Deflate: (o) => uaccel.createDeflate(o) as unknown as ZStream,
  Inflate: (o) => uaccel.createInflate(o) as unknown as ZStream,
  Gzip: (o) => uaccel.createGzip(o) as unknown as ZStream,
  Gunzip: (o) => uaccel.createGunzip(o) as unknown as ZStream,
  DeflateRaw: (o) => uaccel.createDeflateRaw(o) as unknown as ZStream,
  InflateRaw: (o) => uaccel.createInflateRaw(o) as unknown as ZStream,
  Unzip: (o) => uaccel.createUnzip(o) as unknown as ZStream,
};
export const theirs: Record<ClassName, Factory> = {
  Deflate: (o) => zlib.createDeflate(o) as unknown as ZStream,
  Inflate: (o) => zlib.createInflate(o) as unknown as ZStream,
  Gzip: (o) => zlib.createGzip(o) as unknown as ZStream,
  Gunzip: (o) => zlib.createGunzip(o) as unknown as ZStream,
  DeflateRaw: (o) => zlib.createDeflateRaw(o) as unknown as ZStream,
  InflateRaw: (o) => zlib.createInflateRaw(o) as unknown as ZStream,
  Unzip: (o) => zlib.createUnzip(o) as unknown as ZStream,
};

/** The compressor/decompressor pairs that must interoperate. */
export const PAIRS: Array<{ comp: ClassName; decomp: ClassName }> = [
  { comp: 'Deflate', decomp: 'Inflate' },
  { comp: 'Gzip', decomp: 'Gunzip' },
  { comp: 'DeflateRaw', decomp: 'InflateRaw' },
  { comp: 'Gzip', decomp: 'Unzip' },
  { comp: 'Deflate', decomp: 'Unzip' },
];

export const COMPRESSORS: ClassName[] = ['Deflate', 'Gzip', 'DeflateRaw'];
export const DECOMPRESSORS: ClassName[] = ['Inflate', 'Gunzip', 'InflateRaw', 'Unzip'];
/** Which compressor produces input for each decompressor. */
export const FORMAT_OF: Record<ClassName, ClassName> = {
  Deflate: 'Deflate',
  Inflate: 'Deflate',
  Gzip: 'Gzip',
  Gunzip: 'Gzip',
  DeflateRaw: 'DeflateRaw',
  InflateRaw: 'DeflateRaw',
  Unzip: 'Gzip',
};

/** Everything a stream emits until 'end', as one Buffer; rejects on 'error'. */
export function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return collectChunks(stream).then((chunks) => Buffer.concat(chunks));
}

/** The 'data' chunks a stream emits until 'end'; rejects on 'error'. */
export function collectChunks(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('error', reject);
    stream.once('end', () => resolve(chunks));
  });
}

/** Splits `input` into writes: a fixed size, or sizes taken cyclically from a list. */
export function splitWrites(input: Uint8Array, writeSize: number | readonly number[]): Buffer[] {
  const sizes = typeof writeSize === 'number' ? [writeSize] : writeSize;
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]);
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

export interface Piped {
  output: Buffer;
  chunks: Buffer[];
  stream: ZStream;
}

/**
 * Creates a stream, writes `input` in pieces of `writeSize` (honouring
 * 'drain'), ends it and gathers its output. Rejects with the stream's error.
 */
export async function pipeThrough(
  factory: Factory,
  input: Uint8Array,
  writeSize: number | readonly number[] = 64 * 1024,
  opts?: zlib.ZlibOptions,
): Promise<Piped> {
  const stream = factory(opts);
  const gathered = collectChunks(stream);
  // Attach a rejection handler now: a failure while writing must not be reported as unhandled.
  gathered.catch(() => undefined);
  for (const piece of splitWrites(input, writeSize)) {
    if (stream.destroyed) break;
    if (!stream.write(piece)) {
      await Promise.race([
        once(stream, 'drain'),
        gathered.then(
          () => undefined,
          () => undefined,
        ),
      ]);
    }
  }
  if (!stream.destroyed) stream.end();
  const chunks = await gathered;
  return { output: Buffer.concat(chunks), chunks, stream };
}

/** The observable shape of an error, for comparing uaccel's against node's. */
export function errorShape(err: unknown): Record<string, unknown> {
  const e = err as Error & { code?: unknown; errno?: unknown };
  return {
    ctor: e?.constructor?.name,
    name: e?.name,
    code: e?.code,
    errno: e?.errno,
    message: e?.message,
  };
}

/** Rejects after `ms` so a hung stream fails its test with a clear reason. */
export function within<T>(ms: number, p: Promise<T>, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} neither finished nor failed within ${ms} ms`)), ms);
    }),
  ]);
}

/** Index of the first differing byte, or -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Byte equality with a short, readable failure (lengths and first difference) instead of a giant diff. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  const at = firstDifference(actual, expected);
  expect(
    at === -1
      ? 'identical'
      : `${what} differ at offset ${at} (lengths ${actual.length} vs ${expected.length})`,
  ).toBe('identical');
}

/** Outcome of running data through a stream, as comparable plain data. */
export type Outcome =
  { ok: true; length: number; sha: string } | { ok: false; error: Record<string, unknown> };

export function digest(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex');
}

/** Runs input through a fresh stream and reduces the result to an Outcome. */
export async function outcome(
  factory: Factory,
  input: Uint8Array,
  writeSize: number | readonly number[] = 64 * 1024,
  opts?: zlib.ZlibOptions,
): Promise<Outcome> {
  try {
    const { output } = await pipeThrough(factory, input, writeSize, opts);
    return { ok: true, length: output.length, sha: digest(output) };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}
