// The seven zlib stream classes. Like node's, each can be called with or
// without `new`, and instanceof holds against these classes.
import { checkRangesOrGetDefault } from '../errors';
import { Mode, Z_DEFAULT_STRATEGY, Z_FIXED, Z_MAX_LEVEL, Z_MIN_LEVEL, Z_SYNC_FLUSH } from './constants';
import type { Transform, TransformOptions } from 'stream';
import type { ZlibOptions as NodeZlibOptions } from 'zlib';
import { ZlibBase, failStream } from './zlib-base';
import { zlibError } from '../errors';
import { codes } from './constants';
import { matchNodePrototypes } from './prototype-shape';

export class Zlib extends ZlibBase {
  /** Deprecated alias of bytesWritten (DEP0108), an accessor on ZlibBase.prototype. */
  declare bytesRead: number;

  params(level: number, strategy: number, callback?: () => void): void {
    checkRangesOrGetDefault(level, 'level', Z_MIN_LEVEL, Z_MAX_LEVEL);
    checkRangesOrGetDefault(strategy, 'strategy', Z_DEFAULT_STRATEGY, Z_FIXED);
    if (this._level === level && this._strategy === strategy) {
      process.nextTick(callback ?? noop);
      return;
    }
    // Parameters change only between steps: after a sync flush has drained
    // everything written so far through the device.
    this.flush(Z_SYNC_FLUSH, () => {
      const handle = this._handle;
      if (!handle) throw internalClosed();
      if (this._blocks) {
        // Blocks take the parameters current when they are cut.
        this._blocks.level = level;
        this._blocks.strategy = strategy;
        this._level = level;
        this._strategy = strategy;
        if (callback) callback();
        return;
      }
      const err = handle.queue.native.paramsContext(handle.ctx, level, strategy);
      if (err !== 0) {
        const code = (codes as unknown as Record<number, string>)[err] ?? 'Z_UNKNOWN';
        failStream(this, zlibError(handle.queue.native.contextMessage(handle.ctx), err, code));
        return;
      }
      if (!this.destroyed) {
        this._level = level;
        this._strategy = strategy;
        if (callback) callback();
      }
    });
  }
}

function internalClosed(): Error {
  const err = new Error('zlib binding closed') as Error & { code: string };
  err.code = 'ERR_INTERNAL_ASSERTION';
  return err;
}

function noop(): void {}

/** node:zlib's options, as @types/node declares them; the validator still checks whatever arrives at run time. */
export type ZlibOptions = NodeZlibOptions & {
  /**
   * 0: node's serial zlib, byte-identical output. Absent: the device picks
   * (one-shots compress as one whole member).
   */
  blockSize?: number;
};

matchNodePrototypes(Zlib.prototype, ZlibBase.prototype);

// One class per mode: distinct prototypes (so instanceof tells them apart)
// and hidden classes, the constructor differing only in the mode it passes.
function modeClass(mode: Mode, name: string): new (opts?: ZlibOptions) => Zlib {
  const cls = class extends Zlib {
    constructor(opts?: ZlibOptions) {
      // node rewrites the caller's object the same way: zlib no longer
      // supports 8-bit windows for raw deflate.
      if (mode === Mode.DEFLATERAW && opts && opts.windowBits === 8) opts.windowBits = 9;
      super(opts, mode);
    }
  };
  Object.defineProperty(cls, 'name', { value: `${name}Stream` });
  return cls;
}

/** Callable constructor; statics (Readable.from, toWeb, ...) are inherited from Transform, as node's are. */
type StreamClass<T> = Omit<typeof Transform, 'prototype'> & {
  new (opts?: ZlibOptions): T;
  (opts?: ZlibOptions): T;
  prototype: T;
};

// A constructor that also answers a plain call with a new instance, as
// node's function-style constructors do. `new Gzip()` and `Gzip()` construct
// the class itself (new.target = the class: V8 then reuses one hidden class
// per stream type; any other new.target costs a fresh map per instance);
// subclasses pass their own new.target through. instanceof holds because the
// wrapper and the class share one prototype.
function callable<T>(cls: new (opts?: ZlibOptions) => T, name: string): StreamClass<T> {
  const ctor = function (this: unknown, opts?: ZlibOptions): T | undefined {
    if (new.target === undefined && this instanceof ctor) {
      initializeInPlace(cls, this, opts);
      return undefined;
    }
    const target = new.target === undefined || new.target === ctor ? cls : new.target;
    return Reflect.construct(cls, [opts], target) as T;
  };
  Object.defineProperty(ctor, 'name', { value: name });
  ctor.prototype = cls.prototype;
  Object.defineProperty(cls.prototype, 'constructor', {
    value: ctor,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Object.setPrototypeOf(ctor, Object.getPrototypeOf(cls));
  return ctor as unknown as StreamClass<T>;
}

// node's constructors are functions, so subclasses written the old way
// (util.inherits or Object.setPrototypeOf, then `Gzip.call(this, opts)`)
// initialise an object that already exists. A class constructor cannot run
// on an existing object, but a derived class adopts whatever its base
// constructor returns: for this one construction ZlibBase's base is a function
// that initialises the caller's object as a Transform and returns it.
function initializeInPlace(cls: new (opts?: ZlibOptions) => unknown, self: object, opts?: ZlibOptions): void {
  const transform = Object.getPrototypeOf(ZlibBase) as (this: object, options?: TransformOptions) => void;
  const adopt = function (options?: TransformOptions): object {
    transform.call(self, options);
    return self;
  };
  Object.setPrototypeOf(ZlibBase, adopt);
  try {
    Reflect.construct(cls, [opts]);
  } finally {
    Object.setPrototypeOf(ZlibBase, transform);
  }
}

export const Deflate = callable(modeClass(Mode.DEFLATE, 'Deflate'), 'Deflate');
export const Inflate = callable(modeClass(Mode.INFLATE, 'Inflate'), 'Inflate');
export const Gzip = callable(modeClass(Mode.GZIP, 'Gzip'), 'Gzip');
export const Gunzip = callable(modeClass(Mode.GUNZIP, 'Gunzip'), 'Gunzip');
export const DeflateRaw = callable(modeClass(Mode.DEFLATERAW, 'DeflateRaw'), 'DeflateRaw');
export const InflateRaw = callable(modeClass(Mode.INFLATERAW, 'InflateRaw'), 'InflateRaw');
export const Unzip = callable(modeClass(Mode.UNZIP, 'Unzip'), 'Unzip');

export type Deflate = Zlib;
export type Inflate = Zlib;
export type Gzip = Zlib;
export type Gunzip = Zlib;
export type DeflateRaw = Zlib;
export type InflateRaw = Zlib;
export type Unzip = Zlib;
