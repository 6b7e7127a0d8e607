// Request-body decompression for fastify: a preParsing hook that hands
// fastify's body parsers the decoded body of a gzip or deflate request,
// decoded on uaccel's device and cut off at a limit.
//
// Response compression needs nothing from here: @fastify/compress takes the
// zlib implementation as an option, `{ zlib: require('uaccel') }`.
import type { FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import { Transform, type Readable, type TransformCallback } from 'stream';

import {
  createDecoder,
  hasBody,
  invalidBody,
  requestCoding,
  resolveLimit,
  tooLarge,
  unsupportedEncoding,
  type DecompressRequestOptions,
} from './request-decoding';

export type { DecompressRequestOptions, HttpError } from './request-decoding';

/** The decoded body: fails with 413 once more than `limit` bytes have passed. */
class LimitedBody extends Transform {
  /** Bytes of the encoded body read so far; fastify checks it against Content-Length. */
  receivedEncodedLength = 0;
  private received = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.limit) callback(tooLarge(this.limit));
    else callback(null, chunk);
  }
}

/**
 * A preParsing hook: `app.addHook('preParsing', decompressRequest({ limit }))`.
 * `limit` defaults to the route's bodyLimit.
 */
export function decompressRequest(options?: DecompressRequestOptions): preParsingHookHandler {
  const configured = resolveLimit(options, undefined);

  return function decompressRequestHook(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: Readable,
    done: (err?: Error | null, payload?: Readable) => void,
  ): void {
    const header = request.headers['content-encoding'];
    const coding = requestCoding(header);
    if (coding === undefined) return done(unsupportedEncoding(String(header)));
    if (coding === 'identity' || !hasBody(request.headers)) return done(null, payload);
    // Decoded here: a decoder later in the chain (@fastify/compress's) must
    // not decode a second time.
    delete request.headers['content-encoding'];

    const decoder = createDecoder(coding);
    const body = new LimitedBody(configured ?? request.routeOptions.bodyLimit);
    const countEncoded = (chunk: Buffer): void => {
      body.receivedEncodedLength += chunk.length;
    };
    let finished = false;
    // Once the body has failed (413, 400) or the reply is out before it was
    // read, the decoder goes and the rest of the upload is read and dropped
    // undecoded, so that the connection can carry the response and stay usable.
    const stop = (): void => {
      if (finished) return;
      finished = true;
      payload.unpipe(decoder);
      payload.removeListener('data', countEncoded);
      decoder.destroy();
      body.destroy();
      payload.resume();
    };

    payload.on('data', countEncoded);
    payload.pipe(decoder).pipe(body);
    decoder.on('error', (err) => {
      body.destroy(invalidBody(coding, err));
      stop();
    });
    body.on('error', stop);
    body.on('end', () => {
      finished = true;
      payload.removeListener('data', countEncoded);
    });
    reply.raw.once('close', stop);
    done(null, body);
  } as preParsingHookHandler;
}
