// Response compression middleware for express/connect/node:http, a drop-in
// for the `compression` package that compresses gzip and deflate on uaccel's
// device (br on node:zlib's brotli).
//
// The response's write/end/on are wrapped (as `compression` does) so that
// handlers keep writing to `res`; the choice to compress is made when the
// headers go out, the one moment all of status, headers and (for a single
// res.end) length are known.
import type { IncomingMessage, ServerResponse } from 'http';
import type { Transform } from 'stream';
import * as nodeZlib from 'zlib';

import { createDeflate, createGzip } from '../index';
import { negotiate, type Coding } from './accept-encoding';
import { defaultFilter, resolveOptions, type CompressionOptions, type ResolvedOptions } from './options';

export type { CompressionOptions, Filter } from './options';

export type Next = (err?: unknown) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** What the middleware adds to a response: push out what is compressed so far. */
export interface FlushableResponse {
  flush(): void;
}

const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate', 'identity'];
const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i;
/** Statuses whose responses carry no body. */
const BODYLESS_STATUS = new Set([204, 304]);

type Listener = (...args: unknown[]) => void;
const DRAIN_LISTENER_METHODS = [
  'on',
  'addListener',
  'once',
  'prependListener',
  'prependOnceListener',
  'removeListener',
  'off',
] as const;

type Compressor = Transform & { flush(callback?: () => void): void };

function createCompressor(coding: Exclude<Coding, 'identity'>, opts: ResolvedOptions): Compressor {
  switch (coding) {
    case 'gzip':
      return createGzip(opts.zlib) as unknown as Compressor;
    case 'deflate':
      return createDeflate(opts.zlib) as unknown as Compressor;
    case 'br':
      return nodeZlib.createBrotliCompress(opts.brotli) as unknown as Compressor;
  }
}

function addVary(res: ServerResponse, field: string): void {
  const current = res.getHeader('Vary');
  const values =
    current === undefined
      ? []
      : String(current)
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

function toBuffer(chunk: unknown, encoding: unknown): Buffer | Uint8Array {
  return typeof chunk === 'string'
    ? Buffer.from(chunk, encoding as BufferEncoding | undefined)
    : (chunk as Uint8Array);
}

/** Whether the response's content would be compressed for a client that accepts it. */
function compressibleContent(req: IncomingMessage, res: ServerResponse, opts: ResolvedOptions): boolean {
  return opts.filter(req, res) && !NO_TRANSFORM.test(String(res.getHeader('Cache-Control') ?? ''));
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
  return String(res.getHeader('Content-Encoding') ?? 'identity').toLowerCase() === 'identity';
}

export function compression(options?: CompressionOptions): Middleware {
  const opts = resolveOptions(options);

  return function compressionMiddleware(req, res, next) {
    let compressor: Compressor | undefined;
    let ended = false;
    /** Body length when res.end(chunk) sends the whole body before headers. */
    let endLength: number | undefined;

    const write = res.write;
    const end = res.end;
    const on = res.on;
    const removeListener = res.removeListener;
    const writeHead = res.writeHead;

    (res as ServerResponse & FlushableResponse).flush = function flush() {
      compressor?.flush();
    };

    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      // Apply a status and headers passed here before deciding on them.
      if (typeof args[0] === 'number') this.statusCode = args[0];
      const headers = args.find((a, i) => i > 0 && typeof a === 'object' && a !== null && !Array.isArray(a));
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
      if (!compressor) return (write as (...a: unknown[]) => boolean).call(this, chunk, encoding, callback);
      if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding];
      return compressor.write(toBuffer(chunk, encoding), callback as (err?: Error | null) => void);
    } as typeof res.write;

    res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
      if (ended) return this;
      if (typeof chunk === 'function') [chunk, callback] = [undefined, chunk];
      else if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding];
      if (!this.headersSent) {
        endLength = byteLength(chunk, encoding);
        this.writeHead(this.statusCode);
      }
      if (!compressor)
        return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, encoding, callback);
      ended = true;
      if (typeof callback === 'function') this.once('finish', callback as () => void);
      if (chunk !== undefined && chunk !== null) compressor.end(toBuffer(chunk, encoding));
      else compressor.end();
      return this;
    } as typeof res.end;

    // 'drain' must come from the compressor once one exists: it is what
    // res.write's return value refers to. Every listener method is
    // redirected, so once() and removeListener() act on the same emitter.
    for (const method of DRAIN_LISTENER_METHODS) {
      const original = res[method] as (event: string | symbol, listener: Listener) => ServerResponse;
      res[method] = function (this: ServerResponse, event: string | symbol, listener: Listener) {
        if (event === 'drain' && compressor) {
          (compressor[method] as (event: string, listener: Listener) => unknown).call(
            compressor,
            'drain',
            listener,
          );
          return this;
        }
        return original.call(this, event, listener);
      } as never;
    }

    function decide(): void {
      if (!compressibleContent(req, res, opts)) return;
      // The representation depends on Accept-Encoding whether or not this
      // particular response ends up compressed (a HEAD, a short body).
      addVary(res, 'Accept-Encoding');
      if (!compressibleBody(req, res, opts, endLength)) return;
      const coding = negotiate(req.headers['accept-encoding'], CODINGS);
      if (coding === undefined || coding === 'identity') return;

      const c = createCompressor(coding, opts);
      compressor = c;
      res.setHeader('Content-Encoding', coding);
      res.removeHeader('Content-Length');
      const etag = res.getHeader('ETag');
      // The bytes differ from the identity representation's: a strong
      // validator would now be wrong.
      if (typeof etag === 'string' && !etag.startsWith('W/')) res.setHeader('ETag', `W/${etag}`);
      // Listeners added before the decision move over to the compressor.
      for (const listener of res.rawListeners('drain') as Listener[]) {
        removeListener.call(res, 'drain', listener);
        c.on('drain', listener);
      }
      c.on('data', (chunk: Buffer) => {
        if ((write as (chunk: Buffer) => boolean).call(res, chunk) === false) c.pause();
      });
      on.call(res, 'drain', () => c.resume());
      c.on('end', () => (end as () => void).call(res));
      c.on('error', (err) => res.destroy(err));
      // A client that goes away must not leave a compressor holding work.
      on.call(res, 'close', () => {
        if (!res.writableFinished) c.destroy();
      });
    }

    next();
  };
}

/** The default filter, exported as `compression.filter` is. */
compression.filter = defaultFilter;
/** For `import { compression } from 'uaccel/http'`. */
compression.compression = compression;
