// Response compression for koa with gzip and deflate on uaccel's device (br
// on node:zlib's brotli), taking uaccel/http's options. koa-compress cannot
// be pointed at uaccel: it binds zlib.createGzip and friends when it is
// first required.
//
// koa makes the decision easy: the body is final once the downstream
// middleware has resolved, so the compressor simply becomes the new body.
import type { Middleware, ParameterizedContext } from 'koa';
import { Stream, pipeline, type Readable, type Transform } from 'stream';
import * as nodeZlib from 'zlib';

import { createDeflate, createGzip } from '../index';
import { negotiate, type Coding } from './accept-encoding';
import { resolveOptions, type CompressionOptions, type ResolvedOptions } from './options';

export type { CompressionOptions, Filter } from './options';

const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate', 'identity'];
const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i;
/** Statuses whose responses carry no body. */
const BODYLESS_STATUS = new Set([204, 205, 304]);

/** A response header as one string, '' when absent (koa 3 returns undefined then). */
function header(ctx: ParameterizedContext, name: string): string {
  const value: unknown = ctx.response.get(name);
  return value === undefined || value === null ? '' : String(value);
}

function createCompressor(coding: Exclude<Coding, 'identity'>, opts: ResolvedOptions): Transform {
  switch (coding) {
    case 'gzip':
      return createGzip(opts.zlib);
    case 'deflate':
      return createDeflate(opts.zlib);
    case 'br':
      return nodeZlib.createBrotliCompress(opts.brotli);
  }
}

/** What koa would send for `body` as bytes, or the stream itself. */
function payloadOf(body: unknown): Buffer | string | Stream | undefined {
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Stream) return body;
  // Objects and arrays are sent as JSON, as koa itself sends them.
  if (typeof body === 'object' && body !== null && Object.getPrototypeOf(body) !== null) {
    if (Array.isArray(body) || Object.getPrototypeOf(body) === Object.prototype) return JSON.stringify(body);
  }
  // Blobs, web streams and Responses are left to koa.
  return undefined;
}

export function compress(options?: CompressionOptions): Middleware {
  const opts = resolveOptions(options);

  return async function compressMiddleware(ctx, next) {
    await next();

    const { req, res } = ctx;
    if (ctx.body == null || res.headersSent || !ctx.writable) return;
    if (!opts.filter(req, res) || NO_TRANSFORM.test(header(ctx, 'Cache-Control'))) return;
    // The representation depends on Accept-Encoding whether or not this
    // particular response ends up compressed (a HEAD, a short body).
    ctx.vary('Accept-Encoding');
    if (req.method === 'HEAD' || BODYLESS_STATUS.has(ctx.status)) return;
    const encoding = header(ctx, 'Content-Encoding');
    if (encoding !== '' && encoding.toLowerCase() !== 'identity') return;
    const length = ctx.response.length;
    if (length !== undefined && length < opts.threshold) return;
    const coding = negotiate(req.headers['accept-encoding'], CODINGS);
    if (coding === undefined || coding === 'identity') return;
    const payload = payloadOf(ctx.body);
    if (payload === undefined) return;

    const compressor = createCompressor(coding, opts);
    ctx.set('Content-Encoding', coding);
    ctx.remove('Content-Length');
    const etag = header(ctx, 'ETag');
    // The bytes differ from the identity representation's: a strong
    // validator would now be wrong.
    if (etag !== '' && !etag.startsWith('W/')) ctx.set('ETag', `W/${etag}`);
    // koa pipes the body to the response and destroys it when the client goes away.
    ctx.body = compressor;
    if (payload instanceof Stream) {
      // An error in the source reaches koa through the compressor.
      pipeline(payload as Readable, compressor, () => {});
    } else {
      compressor.end(payload);
    }
  };
}
