// The one-shot forms: gzip(buf, cb) runs a stream like node does, so its
// descriptors join whatever batch the event loop is building; gzipSync runs
// the same descriptors inline on this thread.
import { isAnyArrayBuffer, isArrayBufferView, isUint8Array } from 'util/types';

import { errBufferTooLarge, errInvalidArgType, validateFunction } from '../errors';
import type { InputType } from 'zlib';

import type { ZlibOptions } from './classes';
import type { Mode } from './constants';
import { wholeMember, wholeMemberSync } from './whole-member';
import { type ZlibBase, processChunkSync } from './zlib-base';

/** node's result Buffer type, whichever @types/node the caller compiles with. */
export type ZlibResult = ReturnType<typeof import('zlib').gzipSync>;
export type CompressCallback = (error: Error | null, result: ZlibResult) => void;

/**
 * A callback one-shot, typed as @types/node types node:zlib's: both call
 * forms, and the `__promisify__` signature through which util.promisify's
 * typings find the promise form (it exists for the type checker only).
 */
export interface AsyncCompress {
  (buf: InputType, callback: CompressCallback): void;
  (buf: InputType, options: ZlibOptions, callback: CompressCallback): void;
  __promisify__(buffer: InputType, options?: ZlibOptions): Promise<ZlibResult>;
}

export type SyncCompress = (buf: InputType, options?: ZlibOptions) => ZlibResult;

interface BufferingEngine extends ZlibBase {
  buffers: Buffer[] | null;
  nread: number;
  cb: (error: Error | null, result?: unknown) => void;
}

function zlibBuffer(engine: BufferingEngine, buffer: unknown, callback: unknown): void {
  validateFunction(callback, 'callback');
  let input = buffer;
  // Streams take Uint8Arrays only; view other ArrayBufferViews without copying.
  if (isArrayBufferView(input) && !isUint8Array(input)) {
    input = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  } else if (isAnyArrayBuffer(input)) {
    input = Buffer.from(input as ArrayBuffer);
  }
  engine.buffers = null;
  engine.nread = 0;
  engine.cb = callback as BufferingEngine['cb'];
  engine.on('data', onData);
  engine.on('error', onError);
  engine.on('end', onEnd);
  engine.end(input);
}

function onData(this: BufferingEngine, chunk: Buffer): void {
  if (!this.buffers) this.buffers = [chunk];
  else this.buffers.push(chunk);
  this.nread += chunk.length;
  if (this.nread > this._maxOutputLength) {
    this.close();
    this.removeAllListeners('end');
    this.cb(errBufferTooLarge(this._maxOutputLength));
  }
}

function onError(this: BufferingEngine, err: Error): void {
  this.removeAllListeners('end');
  this.cb(err);
}

function onEnd(this: BufferingEngine): void {
  let buf: Buffer;
  if (this.nread === 0) {
    buf = Buffer.alloc(0);
  } else {
    const bufs = this.buffers as Buffer[];
    buf = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, this.nread);
  }
  this.close();
  if (this._info) this.cb(null, { buffer: buf, engine: this });
  else this.cb(null, buf);
}

function zlibBufferSync(engine: ZlibBase, buffer: unknown): Buffer | { buffer: Buffer; engine: ZlibBase } {
  let input: Uint8Array;
  if (typeof buffer === 'string') {
    input = Buffer.from(buffer);
  } else if (!isArrayBufferView(buffer)) {
    if (isAnyArrayBuffer(buffer)) {
      input = Buffer.from(buffer as ArrayBuffer);
    } else {
      throw errInvalidArgType(
        'buffer',
        ['string', 'Buffer', 'TypedArray', 'DataView', 'ArrayBuffer'],
        buffer,
      );
    }
  } else {
    input = isUint8Array(buffer)
      ? buffer
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  const result = processChunkSync(engine, input, engine._finishFlushFlag);
  return engine._info ? { buffer: result, engine } : result;
}

type Ctor = new (opts?: ZlibOptions) => ZlibBase;

// One-shots first try a single whole-member descriptor (./whole-member.ts);
// everything else, and anything that does not fit one, runs a stream as node
// does.
export function asyncMethod(ctor: Ctor, mode: Mode): AsyncCompress {
  return function asyncBufferWrapper(
    buffer: InputType,
    opts: ZlibOptions | CompressCallback,
    callback?: CompressCallback,
  ): void {
    if (typeof opts === 'function') {
      callback = opts;
      opts = {};
    }
    const options = opts;
    const viaStream = () => zlibBuffer(new ctor(options) as BufferingEngine, buffer, callback);
    const done = callback as (err: Error | null, result?: Buffer) => void;
    if (!wholeMember(mode, buffer, options, done, viaStream)) viaStream();
  } as AsyncCompress;
}

export function syncMethod(ctor: Ctor, mode: Mode): SyncCompress {
  return function syncBufferWrapper(buffer: InputType, opts?: ZlibOptions): ZlibResult {
    const whole = wholeMemberSync(mode, buffer, opts);
    if (whole !== undefined) return whole as ZlibResult;
    return zlibBufferSync(new ctor(opts), buffer) as ZlibResult;
  };
}
