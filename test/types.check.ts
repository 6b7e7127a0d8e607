// Type-level conformance: code written against @types/node's node:zlib
// declarations compiles unchanged against uaccel. Never executed; compiled
// with tsc --noEmit by types.test.ts.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline, type Transform } from 'node:stream';
import { pipeline as pipelinePromise } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

import * as uaccel from '../src/index';
import uaccelDefault = require('../src/index');

declare const buf: Buffer;
declare const bytes: Uint8Array;
declare const view: DataView;
declare const arrayBuffer: ArrayBuffer;

export async function promisified(): Promise<Buffer[]> {
  const level: number = 9;
  return Promise.all([
    promisify(uaccel.gzip)(buf, { level }),
    promisify(uaccel.gzip)('text'),
    promisify(uaccel.gunzip)(buf),
    promisify(uaccel.deflate)(bytes, { windowBits: 12, memLevel: 9, strategy: zlib.constants.Z_RLE }),
    promisify(uaccel.inflateRaw)(arrayBuffer, { chunkSize: 64 * 1024, maxOutputLength: 1 << 20 }),
    promisify(uaccel.unzip)(view),
  ]);
}

export function callbacks(): void {
  uaccel.gzip(buf, (err: Error | null, result: Buffer) => void [err, result]);
  uaccel.gzip('text', { level: 1 }, (err, result) => void result.byteLength);
  uaccel.inflate(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH }, (err) => void err?.message);
  uaccel.brotliCompress(buf, (err, result) => void result.length);
}

export function sync(): Buffer[] {
  return [
    uaccel.gzipSync(buf),
    uaccel.gzipSync('text', { level: zlib.constants.Z_BEST_SPEED }),
    uaccel.gunzipSync(bytes),
    uaccel.deflateRawSync(view, { dictionary: buf }),
    uaccel.inflateSync(arrayBuffer, { info: false }),
    uaccel.brotliDecompressSync(buf),
  ];
}

export function streamsAreNodeStreams(): void {
  const gzip: zlib.Gzip = uaccel.createGzip({ level: 6 });
  const gunzip: zlib.Gunzip = new uaccel.Gunzip();
  const deflate: zlib.Deflate = uaccel.Deflate({ level: 1 });
  const inflate: zlib.Inflate = uaccel.createInflate();
  const deflateRaw: zlib.DeflateRaw = uaccel.createDeflateRaw();
  const inflateRaw: zlib.InflateRaw = uaccel.createInflateRaw();
  const unzip: zlib.Unzip = uaccel.createUnzip();
  const asTransform: Transform = gzip;
  const asZlib: zlib.Zlib = deflate;
  const asRW: NodeJS.ReadWriteStream = gunzip;
  void [inflate, deflateRaw, inflateRaw, unzip, asTransform, asZlib, asRW];

  const opts: zlib.ZlibOptions = { level: 3, flush: zlib.constants.Z_NO_FLUSH };
  const factory: (options?: zlib.ZlibOptions) => zlib.Gzip = uaccel.createGzip;
  factory(opts);

  const ours = uaccel.createGzip();
  ours.params(1, zlib.constants.Z_DEFAULT_STRATEGY, () => undefined);
  ours.flush();
  ours.flush(() => undefined);
  ours.flush(zlib.constants.Z_SYNC_FLUSH, () => undefined);
  ours.reset();
  const written: number = ours.bytesWritten;
  const read: number = ours.bytesRead;
  ours.close(() => undefined);
  gzip.close();
  void [written, read];
}

export async function pipelines(): Promise<void> {
  pipeline(createReadStream('in'), uaccel.createGzip(), createWriteStream('out.gz'), (err) => void err);
  await pipelinePromise(createReadStream('out.gz'), uaccel.createGunzip(), createWriteStream('out'));
}

export function constantsAndChecks(): void {
  const constants: typeof zlib.constants = uaccel.constants;
  const ok: number = uaccel.constants.Z_OK;
  const checksum: number = uaccel.crc32('text');
  const chained: number = uaccel.crc32(bytes, checksum);
  const fromDefault: number = uaccelDefault.crc32(view);
  const brotli: zlib.BrotliCompress = uaccel.createBrotliCompress({
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 },
  });
  const legacy: number[] = [
    uaccel.Z_SYNC_FLUSH,
    uaccel.Z_BEST_COMPRESSION,
    uaccel.Z_DATA_ERROR,
    uaccelDefault.Z_FINISH,
  ];
  void [constants, ok, chained, fromDefault, brotli, uaccel.codes, legacy];
}

export function extras(): void {
  const info: uaccel.Info = uaccel.info();
  uaccel.configure({ sva: false, queueDepth: 64 });
  void info.counters.descriptors;
}

// The whole module stands in wherever node:zlib's module type is expected.
export const asNodeZlib: typeof zlib = uaccel;
export const defaultAsNodeZlib: typeof zlib = uaccelDefault;
