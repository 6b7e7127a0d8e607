// Request-body decompression for express/connect/node:http: a gzip or
// deflate body is decoded on uaccel's device, up to a limit, before the body
// parsers downstream run, so that express.json(), express.text() and
// express.raw() see the decoded body.
//
// Parsers read `req` itself, so the decoded bytes have to come out of `req`.
// The middleware takes over the one producer side of the request stream, the
// HTTP parser's req.push(), sends what arrives through the decoder, and
// pushes the decoded body into `req` once it is complete. Only then does the
// chain continue: a body past the limit or a corrupt one becomes next(err)
// before any parser has started, which is what lets express answer 413/400.
import type { IncomingMessage } from 'http';

import type { Middleware } from './compression';
import {
  createDecoder,
  decodeWhole,
  hasBody,
  invalidBody,
  requestCoding,
  resolveLimit,
  tooLarge,
  unsupportedEncoding,
  type DecompressRequestOptions,
} from './request-decoding';

export type { DecompressRequestOptions, HttpError } from './request-decoding';

const DEFAULT_LIMIT = 1 << 20;

type Push = IncomingMessage['push'];

/** The request now reads as an unencoded body of `length` bytes. */
function describeDecoded(req: IncomingMessage, length: number): void {
  // Without Content-Encoding, body-parser does not decode a second time.
  delete req.headers['content-encoding'];
  delete req.headers['transfer-encoding'];
  if (length > 0) req.headers['content-length'] = String(length);
  else delete req.headers['content-length'];
}

export function decompressRequest(options?: DecompressRequestOptions): Middleware {
  const limit = resolveLimit(options, DEFAULT_LIMIT);

  return function decompressRequestMiddleware(req, _res, next) {
    const header = req.headers['content-encoding'];
    const coding = requestCoding(header);
    if (coding === undefined) return next(unsupportedEncoding(String(header)));
    if (coding === 'identity' || !hasBody(req.headers)) return next();
    if (req.readableDidRead) {
      return next(new Error('decompressRequest() must run before anything reads the request body'));
    }

    if (req.complete) {
      // The whole body arrived while earlier middleware ran: it sits in req's
      // buffer, after the end of the stream. Decoding it in this same tick
      // and putting the result back in front keeps 'end' from being emitted
      // in between. It is small: the parser stops reading at the high-water mark.
      const chunks: Buffer[] = [];
      for (let c: Buffer | null; (c = req.read() as Buffer | null) !== null;) chunks.push(c);
      const decoded = decodeWhole(coding, Buffer.concat(chunks), limit);
      if (decoded instanceof Error) return next(decoded);
      if (decoded.length > 0) req.unshift(decoded);
      describeDecoded(req, decoded.length);
      return next();
    }

    const decoder = createDecoder(coding);
    const decoded: Buffer[] = [];
    let size = 0;
    let settled = false;
    let inputEnded = false;
    const push: Push = req.push;

    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      decoded.length = 0;
      decoder.destroy();
      // The error response waits for the request to end (express's final
      // handler reads it out); the rest of the upload is dropped undecoded.
      if (inputEnded) endInput();
      next(err);
    };
    const endInput = (): void => {
      req.push = push;
      push.call(req, null);
    };

    // The HTTP parser pushes Buffers, then null at the end of the message.
    req.push = function (this: IncomingMessage, chunk: unknown): boolean {
      if (chunk === null) {
        inputEnded = true;
        if (settled) endInput();
        else decoder.end();
        return false;
      }
      if (settled) return true;
      return decoder.write(chunk);
    };
    // A false return from push() paused the socket; the decoder's 'drain' is
    // what its consumer would otherwise signal through req._read().
    decoder.on('drain', () => {
      const socket = req.socket;
      if (!settled && socket && socket.readable) socket.resume();
    });
    decoder.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else decoded.push(chunk);
    });
    decoder.on('error', (err) => fail(invalidBody(coding, err)));
    decoder.on('end', () => {
      if (settled) return;
      settled = true;
      req.push = push;
      for (const chunk of decoded) push.call(req, chunk);
      decoded.length = 0;
      push.call(req, null);
      describeDecoded(req, size);
      next();
    });
    // A client that goes away mid-upload must not leave the decoder holding work.
    req.once('close', () => {
      if (settled) return;
      settled = true;
      decoded.length = 0;
      decoder.destroy();
    });

    // Whatever the parser delivered before this middleware ran.
    for (let c: Buffer | null; (c = req.read() as Buffer | null) !== null;) decoder.write(c);
  };
}
