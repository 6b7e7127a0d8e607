// uaccel: node:zlib's API, served by a descriptor ring and a device. When
// the native addon is unavailable every export is node:zlib's own.
import * as nodeZlib from 'zlib';

import { binding, nativeLoadError } from './native/binding';
import * as ours from './zlib/classes';
import { Mode } from './zlib/constants';
import { asyncMethod, syncMethod } from './zlib/convenience';
import { matchNodeZlibShape } from './zlib/export-shape';

export { info, type Info, type Counters } from './info';
export { configure } from './ring/current';
export type { Config, ConfigOptions } from './ring/config';
export { constants, codes } from './zlib/constants';
export type { ZlibOptions } from './zlib/classes';
export { crc32 } from './zlib/crc32';
export * from './zlib/legacy-constants';

const native = binding !== null;
if (!native) {
  process.emitWarning(`uaccel is delegating to node:zlib: ${nativeLoadError}`, { code: 'UACCEL_NO_NATIVE' });
}

function pick<T>(mine: T, theirs: unknown): T {
  return native ? mine : (theirs as T);
}

const z = nodeZlib as unknown as Record<string, unknown>;

export const Deflate: typeof ours.Deflate = pick(ours.Deflate, z.Deflate);
export const Inflate: typeof ours.Inflate = pick(ours.Inflate, z.Inflate);
export const Gzip: typeof ours.Gzip = pick(ours.Gzip, z.Gzip);
export const Gunzip: typeof ours.Gunzip = pick(ours.Gunzip, z.Gunzip);
export const DeflateRaw: typeof ours.DeflateRaw = pick(ours.DeflateRaw, z.DeflateRaw);
export const InflateRaw: typeof ours.InflateRaw = pick(ours.InflateRaw, z.InflateRaw);
export const Unzip: typeof ours.Unzip = pick(ours.Unzip, z.Unzip);
export type Deflate = ours.Deflate;
export type Inflate = ours.Inflate;
export type Gzip = ours.Gzip;
export type Gunzip = ours.Gunzip;
export type DeflateRaw = ours.DeflateRaw;
export type InflateRaw = ours.InflateRaw;
export type Unzip = ours.Unzip;

export const createDeflate = (options?: ours.ZlibOptions): Deflate => new Deflate(options);
export const createInflate = (options?: ours.ZlibOptions): Inflate => new Inflate(options);
export const createGzip = (options?: ours.ZlibOptions): Gzip => new Gzip(options);
export const createGunzip = (options?: ours.ZlibOptions): Gunzip => new Gunzip(options);
export const createDeflateRaw = (options?: ours.ZlibOptions): DeflateRaw => new DeflateRaw(options);
export const createInflateRaw = (options?: ours.ZlibOptions): InflateRaw => new InflateRaw(options);
export const createUnzip = (options?: ours.ZlibOptions): Unzip => new Unzip(options);

export const deflate = pick(asyncMethod(Deflate, Mode.DEFLATE), nodeZlib.deflate);
export const deflateSync = pick(syncMethod(Deflate, Mode.DEFLATE), nodeZlib.deflateSync);
export const inflate = pick(asyncMethod(Inflate, Mode.INFLATE), nodeZlib.inflate);
export const inflateSync = pick(syncMethod(Inflate, Mode.INFLATE), nodeZlib.inflateSync);
export const gzip = pick(asyncMethod(Gzip, Mode.GZIP), nodeZlib.gzip);
export const gzipSync = pick(syncMethod(Gzip, Mode.GZIP), nodeZlib.gzipSync);
export const gunzip = pick(asyncMethod(Gunzip, Mode.GUNZIP), nodeZlib.gunzip);
export const gunzipSync = pick(syncMethod(Gunzip, Mode.GUNZIP), nodeZlib.gunzipSync);
export const deflateRaw = pick(asyncMethod(DeflateRaw, Mode.DEFLATERAW), nodeZlib.deflateRaw);
export const deflateRawSync = pick(syncMethod(DeflateRaw, Mode.DEFLATERAW), nodeZlib.deflateRawSync);
export const inflateRaw = pick(asyncMethod(InflateRaw, Mode.INFLATERAW), nodeZlib.inflateRaw);
export const inflateRawSync = pick(syncMethod(InflateRaw, Mode.INFLATERAW), nodeZlib.inflateRawSync);
export const unzip = pick(asyncMethod(Unzip, Mode.UNZIP), nodeZlib.unzip);
export const unzipSync = pick(syncMethod(Unzip, Mode.UNZIP), nodeZlib.unzipSync);

// Brotli runs on node:zlib: the software device has no brotli codec yet.
export const {
  BrotliCompress,
  BrotliDecompress,
  createBrotliCompress,
  createBrotliDecompress,
  brotliCompress,
  brotliCompressSync,
  brotliDecompress,
  brotliDecompressSync,
} = nodeZlib;

matchNodeZlibShape(exports);
