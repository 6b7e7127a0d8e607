// Response compression middleware for express/connect/node:http, a drop-in
// for the `compression` package that compresses gzip and deflate on uaccel's
// device (br on node:zlib's brotli).
//
// The response's write/end are wrapped (as `compression` does) so that
// handlers keep writing to `res`; the choice to compress is made when the
// headers go out, the one moment all of status, headers and (for a single
// res.end) length are known.
//
// A body that is whole by the time res.end() runs (res.send, res.end(body),
// or writes followed by end in the same tick) is compressed by one one-shot
// call: on the device that is a single whole-member descriptor, with no
// stream and no codec state per response. Anything still being written
// after that tick, or flushed, goes through a compression stream.
import type { IncomingMessage, ServerResponse } from 'http';
import { getDefaultHighWaterMark, type Transform } from 'stream';
import * as nodeZlib from 'zlib';

import { errStreamDestroyed } from '../errors';
import { createDeflate, createGzip, deflate, gzip } from '../index';
import { negotiate, type Coding } from './accept-encoding';
import { defaultFilter, resolveOptions, type CompressionOptions, type ResolvedOptions } from './options';

export type { CompressionOptions, Filter } from './options';

export type Next = (err?: unknown) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** What the middleware adds to a response: push out what is compressed so far. */
export interface FlushableResponse {
  flush(): void;
}

type Encoding = Exclude<Coding, 'identity'>;
type Chunk = Buffer | Uint8Array;
type WriteCallback = (err?: Error | null) => void;
type Listener = (...args: unknown[]) => void;
type Compressor = Transform & { flush(callback?: () => void): void };
type OneShot = (input: Chunk, callback: (err: Error | null, result: Buffer) => void) => void;

const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate', 'identity'];
const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i;
/** Statuses whose responses carry no body. */
const BODYLESS_STATUS = new Set([204, 304]);
const DRAIN_LISTENER_METHODS = [
  'on',
  'addListener',
  'once',
  'prependListener',
  'prependOnceListener',
  'removeListener',
  'off',
] as const;
/**
 * Bytes written before end() that are held for a one-shot; past this the
 * response is plainly being streamed and gets a stream (and backpressure).
 */
const MAX_GATHERED = 1 << 20;
const WRITABLE_HIGH_WATER_MARK = getDefaultHighWaterMark(false);

// Each socket's request runs in its own callback, and the device queue
// submits at the end of each: started together instead, at the end of the
// poll phase, the one-shots of all the requests read in one turn of the event
// loop share one submit (and the device's threads one wake-up).
let batch: (() => void)[] = [];

function runBatch(): void {
  const runs = batch;
  batch = [];
  for (const run of runs) run();
}

function later(run: () => void): void {
  if (batch.push(run) === 1) setImmediate(runBatch);
}

function createCompressor(coding: Encoding, opts: ResolvedOptions): Compressor {
  switch (coding) {
    case 'gzip':
      return createGzip(opts.zlib) as unknown as Compressor;
    case 'deflate':
      return createDeflate(opts.zlib) as unknown as Compressor;
    case 'br':
      return nodeZlib.createBrotliCompress(opts.brotli) as unknown as Compressor;
  }
}

function oneShots(opts: ResolvedOptions): Record<Encoding, OneShot> {
  return {
    gzip: (input, cb) => gzip(input, opts.zlib, cb),
    deflate: (input, cb) => deflate(input, opts.zlib, cb),
    br: (input, cb) => nodeZlib.brotliCompress(input, opts.brotli, cb),
  };
}

function addVary(res: ServerResponse, field: string): void {
  const current = res.getHeader('Vary');
  if (current === undefined) {
    res.setHeader('Vary', field);
    return;
  }
  const values = String(current)
    .split(',')
    .map((v) => v.trim());
  if (values.includes('*') || values.some((v) => v.toLowerCase() === field.toLowerCase())) return;
  res.setHeader('Vary', [...values.filter((v) => v !== ''), field].join(', '));
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return 0;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding as BufferEncoding | undefined);
  return (chunk as Uint8Array).byteLength;
}

function toBuffer(chunk: unknown, encoding: unknown): Chunk {
  return typeof chunk === 'string'
    ? Buffer.from(chunk, encoding as BufferEncoding | undefined)
    : (chunk as Chunk);
}

/** Whether the response's content would be compressed for a client that accepts it. */
function compressibleContent(req: IncomingMessage, res: ServerResponse, opts: ResolvedOptions): boolean {
  if (!opts.filter(req, res)) return false;
  const cacheControl = res.getHeader('Cache-Control');
  return cacheControl === undefined || !NO_TRANSFORM.test(String(cacheControl));
}

/** Whether this particular response has a body worth compressing. */
function compressibleBody(
  req: IncomingMessage,
  res: ServerResponse,
  opts: ResolvedOptions,
  endLength?: number,
): boolean {
  if (req.method === 'HEAD' || BODYLESS_STATUS.has(res.statusCode)) return false;
  const declared = res.getHeader('Content-Length');
  const length = declared !== undefined ? Number(declared) : endLength;
  if (length !== undefined && length < opts.threshold) return false;
  const encoding = res.getHeader('Content-Encoding');
  return encoding === undefined || String(encoding).toLowerCase() === 'identity';
}

export function compression(options?: CompressionOptions): Middleware {
  const opts = resolveOptions(options);
  const oneShot = oneShots(opts);

  return function compressionMiddleware(req, res, next) {
    /** Set when the headers went out compressed; the body is then compressed once or streamed. */
    let coding: Encoding | undefined;
    let compressor: Compressor | undefined;
    /** Chunks written while the body may still turn out whole (see MAX_GATHERED). */
    let gathered: Chunk[] | undefined;
    let gatheredBytes = 0;
    let gatheredCallbacks: WriteCallback[] | undefined;
    let endCallback: WriteCallback | undefined;
    let ended = false;
    /** Body length when res.end(chunk) sends the whole body before headers. */
    let endLength: number | undefined;

    const write = res.write;
    const end = res.end;
    const on = res.on;
    const removeListener = res.removeListener;
    const writeHead = res.writeHead;

    (res as ServerResponse & FlushableResponse).flush = function flush() {
      if (!compressor && gathered && !ended) startStream();
      compressor?.flush();
    };

    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      // Apply a status and headers passed here before deciding on them.
      if (typeof args[0] === 'number') this.statusCode = args[0];
      const headers =
        args.length > 1
          ? args.find((a, i) => i > 0 && typeof a === 'object' && a !== null && !Array.isArray(a))
          : undefined;
      if (headers) {
        for (const [k, v] of Object.entries(headers as Record<string, unknown>))
          this.setHeader(k, v as string);
        args = args.filter((a) => a !== headers);
      }
      if (!this.headersSent) decide();
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.writeHead;

    res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
      if (ended) return false;
      if (!this.headersSent) this.writeHead(this.statusCode);
      if (coding === undefined)
        return (write as (...a: unknown[]) => boolean).call(this, chunk, encoding, callback);
      if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding];
      const buffer = toBuffer(chunk, encoding);
      if (compressor) return compressor.write(buffer, callback as WriteCallback);
      // Hold the chunk: an end() in this same tick makes the body whole.
      if (gathered === undefined) {
        gathered = [];
        process.nextTick(startStream);
      }
      gathered.push(buffer);
      gatheredBytes += buffer.byteLength;
      if (typeof callback === 'function') (gatheredCallbacks ??= []).push(callback as WriteCallback);
      if (gatheredBytes > MAX_GATHERED) {
        startStream();
        return !(compressor as Compressor | undefined)?.writableNeedDrain;
      }
      // What the stream would answer; a 'drain' listener added now moves to
      // the stream when it starts, and that stream's drain is the one awaited.
      return gatheredBytes < WRITABLE_HIGH_WATER_MARK;
    } as typeof res.write;

    res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
      if (ended) return this;
      if (typeof chunk === 'function') [chunk, callback] = [undefined, chunk];
      else if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding];
      if (!this.headersSent) {
        endLength = byteLength(chunk, encoding);
        this.writeHead(this.statusCode);
      }
      if (coding === undefined)
        return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, encoding, callback);
      ended = true;
      if (typeof callback === 'function') {
        this.once('finish', callback as () => void);
        endCallback = callback as WriteCallback;
      }
      const last = chunk !== undefined && chunk !== null ? toBuffer(chunk, encoding) : undefined;
      if (compressor) {
        if (last) compressor.end(last);
        else compressor.end();
      } else {
        const parts = gathered ?? [];
        if (last) parts.push(last);
        gathered = undefined;
        compressWhole(coding, parts.length === 1 ? parts[0] : Buffer.concat(parts));
      }
      return this;
    } as typeof res.end;

    function decide(): void {
      if (!compressibleContent(req, res, opts)) return;
      // The representation depends on Accept-Encoding whether or not this
      // particular response ends up compressed (a HEAD, a short body).
      addVary(res, 'Accept-Encoding');
      if (!compressibleBody(req, res, opts, endLength)) return;
      const chosen = negotiate(req.headers['accept-encoding'], CODINGS);
      if (chosen === undefined || chosen === 'identity') return;

      coding = chosen;
      res.setHeader('Content-Encoding', chosen);
      res.removeHeader('Content-Length');
      const etag = res.getHeader('ETag');
      // The bytes differ from the identity representation's: a strong
      // validator would now be wrong.
      if (typeof etag === 'string' && !etag.startsWith('W/')) res.setHeader('ETag', `W/${etag}`);
      // A client that goes away must not leave a compressor holding work.
      on.call(res, 'close', () => {
        if (!res.writableFinished) compressor?.destroy();
      });
    }

    function compressWhole(chosen: Encoding, input: Chunk): void {
      const callbacks = gatheredCallbacks;
      gatheredCallbacks = undefined;
      // The response was destroyed (the client went away) before the body
      // reached it: nothing was written, and every callback still hears so,
      // as node calls back a write or end on a destroyed response.
      const abandon = (): void => {
        if (callbacks) {
          const err = errStreamDestroyed('write');
          callbacks.forEach((cb) => cb(err));
        }
        if (endCallback) {
          res.removeListener('finish', endCallback as () => void);
          endCallback(errStreamDestroyed('end'));
        }
      };
      const done = (err: Error | null, result: Buffer): void => {
        if (res.destroyed) return abandon();
        if (err) return void res.destroy(err);
        if (callbacks) {
          const written = () => callbacks.forEach((cb) => cb());
          (end as (data: Buffer, cb: () => void) => void).call(res, result, written);
        } else {
          (end as (data: Buffer) => void).call(res, result);
        }
      };
      later(() => {
        if (res.destroyed) return abandon();
        try {
          oneShot[chosen](input, done);
        } catch (err) {
          res.destroy(err as Error);
        }
      });
    }

    // From here on the body is streamed: what was gathered goes first.
    function startStream(): void {
      if (compressor || ended || coding === undefined || res.destroyed) return;
      const c = createCompressor(coding, opts);
      compressor = c;
      redirectDrain(c);
      c.on('data', (chunk: Buffer) => {
        if ((write as (chunk: Buffer) => boolean).call(res, chunk) === false) c.pause();
      });
      on.call(res, 'drain', () => c.resume());
      c.on('end', () => (end as () => void).call(res));
      c.on('error', (err) => res.destroy(err));
      const chunks = gathered ?? [];
      const callbacks = gatheredCallbacks;
      gathered = gatheredCallbacks = undefined;
      const lastIndex = chunks.length - 1;
      chunks.forEach((chunk, i) =>
        c.write(
          chunk,
          i === lastIndex && callbacks ? (err) => callbacks.forEach((cb) => cb(err)) : undefined,
        ),
      );
    }

    // 'drain' must come from the compressor once one exists: it is what
    // res.write's return value refers to. Every listener method is
    // redirected, so once() and removeListener() act on the same emitter;
    // listeners added before move over.
    function redirectDrain(c: Compressor): void {
      for (const listener of res.rawListeners('drain') as Listener[]) {
        removeListener.call(res, 'drain', listener);
        c.on('drain', listener);
      }
      for (const method of DRAIN_LISTENER_METHODS) {
        const original = res[method] as (event: string | symbol, listener: Listener) => ServerResponse;
        res[method] = function (this: ServerResponse, event: string | symbol, listener: Listener) {
          if (event !== 'drain') return original.call(this, event, listener);
          (c[method] as (event: string, listener: Listener) => unknown).call(c, 'drain', listener);
          return this;
        } as never;
      }
    }

    next();
  };
}

/** The default filter, exported as `compression.filter` is. */
compression.filter = defaultFilter;
/** For `import { compression } from 'uaccel/http'`. */
compression.compression = compression;
