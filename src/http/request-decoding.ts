// What the request decoders for express and fastify share: which
// Content-Encoding a request body has, the decoder for it on uaccel's device,
// the limit option, and the HTTP errors (shaped as `http-errors` makes them,
// which express's and fastify's error handlers both turn into a status).
import type { IncomingHttpHeaders } from 'http';
import type { Transform } from 'stream';

import { errInvalidArgType, errOutOfRange } from '../errors';
import { createGunzip, createInflate, gunzipSync, inflateSync } from '../index';
import { parseBytes } from './options';

/** A body coding the decoders read; anything else is answered with 415. */
export type RequestCoding = 'gzip' | 'deflate' | 'identity';

export interface DecompressRequestOptions {
  /**
   * Largest decoded body accepted, in bytes or as a string such as '1mb';
   * past it the request is answered with 413 and decoding stops.
   */
  limit?: number | string;
}

/** An error that carries the response status, as `http-errors` shapes them. */
export interface HttpError extends Error {
  code: string;
  status: number;
  statusCode: number;
  /** The message is safe to show the client. */
  expose: boolean;
  /** body-parser's name for the same condition, for handlers written against it. */
  type: string;
}

function httpError(status: number, code: string, type: string, message: string): HttpError {
  return Object.assign(new Error(message), { code, status, statusCode: status, expose: true, type });
}

export function tooLarge(limit: number): HttpError & { limit: number } {
  return Object.assign(
    httpError(
      413,
      'UACCEL_BODY_TOO_LARGE',
      'entity.too.large',
      `Decoded request body exceeds ${limit} bytes`,
    ),
    { limit },
  );
}

export function unsupportedEncoding(header: string): HttpError {
  return httpError(
    415,
    'UACCEL_UNSUPPORTED_CONTENT_ENCODING',
    'encoding.unsupported',
    `Unsupported Content-Encoding: ${header}`,
  );
}

export function invalidBody(coding: string, cause: unknown): HttpError {
  const err = httpError(
    400,
    'UACCEL_INVALID_COMPRESSED_BODY',
    'encoding.invalid',
    `Request body is not valid ${coding} data`,
  );
  (err as Error).cause = cause;
  return err;
}

/** Resolves `limit`, validated with node's error shapes; `fallback` when absent. */
export function resolveLimit<T>(options: DecompressRequestOptions | undefined, fallback: T): number | T {
  if (options === undefined) return fallback;
  if (options === null || typeof options !== 'object') throw errInvalidArgType('options', 'Object', options);
  const { limit } = options;
  if (limit === undefined) return fallback;
  if (typeof limit !== 'number' && typeof limit !== 'string') {
    throw errInvalidArgType('options.limit', ['number', 'string'], limit);
  }
  const bytes = parseBytes(limit, 'options.limit');
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw errOutOfRange('options.limit', '>= 0', limit);
  return bytes;
}

/**
 * The coding of a request body with this Content-Encoding header, or
 * undefined when it is not one the decoders read (several codings included:
 * no client stacks them on a request body).
 */
export function requestCoding(header: string | string[] | undefined): RequestCoding | undefined {
  if (header === undefined) return 'identity';
  const codings = String(header)
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length > 1) return undefined;
  switch (codings[0]) {
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    default:
      return undefined;
  }
}

/**
 * Whether a request has a body to decode, judged as body-parser judges it;
 * an empty one stays as it is, whatever its Content-Encoding says.
 */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length'] ?? NaN);
  return !Number.isNaN(length) && length > 0;
}

/** A streaming decoder for `coding` on uaccel's device. */
export function createDecoder(coding: Exclude<RequestCoding, 'identity'>): Transform {
  return coding === 'gzip' ? createGunzip() : createInflate();
}

/**
 * Decodes a body that is already in memory, producing at most `limit` bytes:
 * the result, or the 413 or 400 error to answer with.
 */
export function decodeWhole(
  coding: Exclude<RequestCoding, 'identity'>,
  body: Buffer,
  limit: number,
): Buffer | HttpError {
  try {
    // Decoding stops, and throws, as soon as the output passes the limit.
    const opts = { maxOutputLength: Math.max(limit, 1) };
    const out = coding === 'gzip' ? gunzipSync(body, opts) : inflateSync(body, opts);
    return out.length > limit ? tooLarge(limit) : out;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(limit);
    return invalidBody(coding, err);
  }
}
