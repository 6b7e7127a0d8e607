// Stream semantics of node:zlib (chunking, flush markers, backpressure,
// output slicing, error shape), with each codec step sent to the device as a
// descriptor instead of a thread-pool job. The structure follows node's
// lib/zlib.js so that behaviour matches it case by case.
import { Transform, type TransformCallback, type TransformOptions, finished } from 'stream';
import { deprecate } from 'util';

import { errBufferTooLarge, zlibError } from '../errors';
import { currentQueue } from '../ring/current';
import type { Completion, DescriptorQueue } from '../ring/queue';
import { binding } from '../native/binding';
import {
  Mode,
  Z_BLOCK,
  Z_FINISH,
  Z_FULL_FLUSH,
  Z_NO_FLUSH,
  Z_PARTIAL_FLUSH,
  Z_SYNC_FLUSH,
  codes,
  isDeflateMode,
} from './constants';
import { type ZlibOptionsInput, validateZlibOptions } from './options';
import { deviceError } from './device-error';
import { BlockDeflater, blockBytesFor, blockModeApplies } from './block-deflate';
import { blockSizeOption } from './block-size';

export const kFlushFlag = Symbol('kFlushFlag');
export const kError = Symbol('kError');
export const kResume = Symbol('kResume');

/** Output buffers grow to this much (at least chunkSize) so one step rarely fills them. */
const OUT_BUFFER_BYTES = 64 << 10;
/**
 * Inflate expands, and a fast decoder finishes a step in tens of
 * microseconds: larger steps keep the round trip through the ring from
 * dominating. Output beyond what the reader takes waits here, unpushed.
 */
const INFLATE_OUT_BUFFER_BYTES = 1 << 20;
/**
 * Compressed input a decompressing stream takes while its step is on the
 * device: those writes are copied and called back at once, and the next
 * step carries them together (each still stepped as its own write, their
 * lengths in the descriptor, see UA_SQE_WRITES), so a stream fed small
 * writes makes few round trips.
 */
const READ_AHEAD_BYTES = 1 << 20;

const RESET = 'reset';

/** Writes taken while a step was in flight, to be stepped together. */
interface ReadAhead {
  chunks: Uint8Array[];
  bytes: number;
  /** The last write's flush kind. */
  flushFlag: number;
  /** No further write may join (a flushing or empty write came last). */
  closed: boolean;
  /** Callbacks of writes taken without calling back: run when their step is done. */
  held: TransformCallback[];
}
/** Smallest output buffer worth allocating; below 4 KiB Buffer.allocUnsafe uses its pool. */
const MIN_OUT_BUFFER_BYTES = 1 << 10;

/** Headroom over the expected output when sizing a step's buffer, so that it rarely fills. */
const OUT_MARGIN = 1.25;

/**
 * The native side of one stream: its queue and its codec context there, or
 * ctx 0 for a stream that sends only stateless blocks (it still keeps the
 * queue open while it lives).
 */
export class ZlibHandle {
  private open = true;

  constructor(
    readonly queue: DescriptorQueue,
    readonly ctx: number,
    readonly op: number,
  ) {}

  close(): void {
    if (!this.open) return;
    this.open = false;
    abandoned.unregister(this);
    if (this.ctx === 0) this.queue.releaseStateless();
    else this.queue.closeContext(this.ctx);
  }
}

// A stream dropped without end() or close() frees its codec context when it
// is collected, as node's zlib handles are weak. A descriptor in flight keeps
// its stream reachable, so a collected stream has nothing left on the device.
const abandoned = new FinalizationRegistry<ZlibHandle>((handle) => handle.close());

interface WriteState {
  /** The last step filled its output buffer: the codec has more to give. */
  draining: boolean;
  chunk: Uint8Array;
  cb: TransformCallback;
  inOff: number;
  availIn: number;
  flushFlag: number;
  /** When `chunk` holds several writes: where each ends in it; null for one write. */
  ends: number[] | null;
  /** The write `inOff` is in, an index into `ends`. */
  write: number;
}

// Flush strength, weakest first, to pick the flag for the last chunk.
const flushiness: number[] = [];
const kFlushFlagList = [Z_NO_FLUSH, Z_BLOCK, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH];
kFlushFlagList.forEach((flag, i) => {
  flushiness[flag] = i;
});

function maxFlush(a: number, b: number): number {
  return flushiness[a] > flushiness[b] ? a : b;
}

// Empty buffers tagged with a flush kind: flush() writes one so the flush is
// ordered with the writes before it.
type FlushBuffer = Buffer & { [kFlushFlag]?: number };
const kFlushBuffers: FlushBuffer[] = [];
for (const flag of kFlushFlagList) {
  const b: FlushBuffer = Buffer.from(new ArrayBuffer(0));
  b[kFlushFlag] = flag;
  kFlushBuffers[flag] = b;
}

export class ZlibBase extends Transform {
  bytesWritten = 0;
  _handle: ZlibHandle | null;
  _outBuffer: Buffer | null = null;
  _outOffset = 0;
  _chunkSize: number;
  _defaultFlushFlag: number;
  _finishFlushFlag: number;
  _defaultFullFlushFlag: number;
  _info: boolean | undefined;
  _maxOutputLength: number;
  _level: number;
  _strategy: number;
  _mode: Mode;
  /** Set when the stream compresses as parallel blocks rather than through one serial codec context. */
  _blocks: BlockDeflater | null = null;
  /** The write whose step is on the device (a serial stream runs one step at a time). */
  _active: WriteState | null = null;
  /**
   * What waits behind the active step, in order: writes taken ahead of the
   * codec (decompressing streams) and reset() calls made meanwhile, which
   * apply between the writes before and after them.
   */
  _pending: Array<ReadAhead | typeof RESET> = [];
  _pendingBytes = 0;
  /** Whether writes may be taken ahead of the codec (decompressing streams with a full window). */
  _readAhead = false;
  /** A step's output is being pushed while the next step is already on the device. */
  _pushing = false;
  /** The next step's completion, when it came back during those pushes. */
  _deferred: (() => void) | null = null;
  [kError]: Error | null = null;
  [kResume]: (() => void) | null = null;
  /** Largest output buffer: at least chunkSize, at most one descriptor's worth. */
  readonly outCapacity: number;
  /** Output bytes so far; with bytesWritten, the stream's observed ratio. */
  _produced = 0;
  /** Output expected per input byte before any is seen (inflate expands). */
  private readonly _ratioPrior: number;

  constructor(opts: ZlibOptionsInput | undefined | null, mode: Mode) {
    const o = validateZlibOptions(opts, mode);
    let streamOptions = (opts ?? undefined) as TransformOptions | undefined;
    if (
      streamOptions &&
      (streamOptions.encoding || streamOptions.objectMode || streamOptions.writableObjectMode)
    ) {
      streamOptions = { ...streamOptions, encoding: undefined, objectMode: false, writableObjectMode: false };
    }
    super({ autoDestroy: true, ...streamOptions });
    const queue = currentQueue();
    const blockSize = blockSizeOption(opts) ?? queue.config.blockSize;
    const op = isDeflateMode(mode) ? binding!.abi.op.DEFLATE : binding!.abi.op.INFLATE;
    if (blockModeApplies(mode, o, blockSize)) {
      queue.holdStateless();
      this._handle = new ZlibHandle(queue, 0, op);
      this._blocks = new BlockDeflater(
        queue,
        mode,
        o.level,
        o.strategy,
        blockBytesFor(blockSize, queue.maxDescriptorBytes),
        blockOutput(this),
      );
    } else {
      const ctx = queue.openContext(mode, o.level, o.windowBits, o.memLevel, o.strategy, o.dictionary);
      this._handle = new ZlibHandle(queue, ctx, op);
    }
    abandoned.register(this, this._handle, this._handle);
    this._chunkSize = o.chunkSize;
    this._defaultFlushFlag = o.flush;
    this._finishFlushFlag = o.finishFlush;
    this._defaultFullFlushFlag = Z_FULL_FLUSH;
    this._info = o.info;
    this._maxOutputLength = o.maxOutputLength;
    this._level = o.level;
    this._strategy = o.strategy;
    this._mode = mode;
    // zlib lets inflate copy matches from output it wrote in the same call,
    // so an explicitly small window is only enforced across calls: with
    // node's chunkSize-sized output steps a stream that needs a larger
    // window fails as it does in node, instead of passing in our larger ones.
    const smallWindow = !isDeflateMode(mode) && o.windowBits > 0 && o.windowBits < 15;
    this.outCapacity = smallWindow
      ? Math.min(queue.maxDescriptorBytes, o.chunkSize)
      : Math.min(
          queue.maxDescriptorBytes,
          Math.max(o.chunkSize, isDeflateMode(mode) ? OUT_BUFFER_BYTES : INFLATE_OUT_BUFFER_BYTES),
        );
    this._ratioPrior = isDeflateMode(mode) ? 1 : 4;
    this._readAhead = !isDeflateMode(mode) && !smallWindow;
  }

  get _closed(): boolean {
    return !this._handle;
  }

  reset(): void {
    if (!this._handle) throw internalAssertion('zlib binding closed');
    if (this._blocks) {
      this._blocks.reset();
      return;
    }
    if (this._active) {
      this._pending.push(RESET);
      return;
    }
    resetNow(this);
  }

  override _flush(callback: TransformCallback): void {
    this._transform(Buffer.alloc(0), '', callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  flush(kind?: number | (() => void), callback?: () => void): void {
    if (typeof kind === 'function' || (kind === undefined && !callback)) {
      callback = kind as (() => void) | undefined;
      kind = this._defaultFullFlushFlag;
    }
    if (this.writableFinished) {
      if (callback) process.nextTick(callback);
    } else if (this.writableEnded) {
      if (callback) this.once('end', callback);
    } else {
      this.write(kFlushBuffers[kind as number], callback);
    }
  }

  close(callback?: (err?: Error | null) => void): void {
    if (callback) finished(this, callback);
    this.destroy();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    closeHandle(this);
    callback(err);
  }

  override _transform(chunk: FlushBuffer, _encoding: BufferEncoding | string, cb: TransformCallback): void {
    let flushFlag = this._defaultFlushFlag;
    if (typeof chunk[kFlushFlag] === 'number') flushFlag = chunk[kFlushFlag] as number;
    if (this.writableEnded && this.writableLength === chunk.byteLength) {
      flushFlag = maxFlush(flushFlag, this._finishFlushFlag);
    }
    processChunk(this, chunk, flushFlag, cb);
  }

  override _read(size: number): void {
    this._blocks?.onRead();
    const resume = this[kResume];
    if (resume) {
      this[kResume] = null;
      resume();
    }
    super._read(size);
  }

  /** Kept for code written against node's private API. */
  _processChunk(chunk: Uint8Array, flushFlag: number, cb?: TransformCallback): Buffer | undefined {
    if (typeof cb === 'function') {
      processChunk(this, chunk, flushFlag, cb);
      return undefined;
    }
    return processChunkSync(this, chunk, flushFlag);
  }

  /**
   * Output buffer for a step over `srcLen` input bytes, sized from the
   * stream's own output/input ratio so far so that one step usually fits in
   * one descriptor (every extra step is a round trip through the ring) while
   * small one-shots do not allocate 64 KiB each (that external memory drives
   * the GC). The unused tail of the current buffer is reused when the
   * estimate fits in it, as node reuses its output buffer.
   */
  outBuffer(srcLen: number, draining: boolean): Buffer {
    // After a step that filled its output, the codec holds output of unknown
    // size: give it a whole buffer.
    const capacity = this.stepCapacity();
    const estimate = draining ? capacity : Math.ceil(srcLen * this.outputRatio() * OUT_MARGIN) + 256;
    const want = Math.min(capacity, Math.max(MIN_OUT_BUFFER_BYTES, estimate));
    const buf = this._outBuffer;
    if (buf === null || buf.length - this._outOffset < want) {
      this._outBuffer = Buffer.allocUnsafe(want);
      this._outOffset = 0;
      return this._outBuffer;
    }
    return buf;
  }

  /**
   * Input one step should carry when it can choose: as much as the output
   * buffer is expected to hold the output of. A step whose output fills in
   * the middle of a write leaves the rest of that write to the next step.
   */
  inputPerStep(): number {
    return Math.floor(this.stepCapacity() / (this.outputRatio() * OUT_MARGIN));
  }

  /** Largest output buffer for the next step. */
  private stepCapacity(): number {
    // Buffers past 64 KiB only for a stream that has produced four times as
    // much: many short streams at once must not each hold a large one.
    return Math.min(this.outCapacity, Math.max(OUT_BUFFER_BYTES, this._produced >>> 2));
  }

  /** Output bytes per input byte so far (a prior guess before any). */
  private outputRatio(): number {
    return (this._produced + this._ratioPrior) / (this.bytesWritten + 1);
  }

  /** Continue a step once the consumer has read (node's readable backpressure). */
  resumeOnRead(fn: () => void): void {
    this[kResume] = fn;
  }
}

// node's deprecated alias, kept so code reading it sees the same numbers.
Object.defineProperty(ZlibBase.prototype, 'bytesRead', {
  configurable: true,
  enumerable: true,
  get: deprecate(
    function (this: ZlibBase) {
      return this.bytesWritten;
    },
    'zlib.bytesRead is deprecated and will change its meaning in the future. Use zlib.bytesWritten instead.',
    'DEP0108',
  ),
  set: deprecate(
    function (this: ZlibBase, value: number) {
      this.bytesWritten = value;
    },
    'Setting zlib.bytesRead is deprecated. This feature will be removed in the future.',
    'DEP0108',
  ),
});

function internalAssertion(message: string): Error {
  const err = new Error(message) as Error & { code: string };
  err.code = 'ERR_INTERNAL_ASSERTION';
  return err;
}

function codeName(errno: number): string {
  return (codes as unknown as Record<number, string>)[errno] ?? 'Z_UNKNOWN';
}

export function closeHandle(engine: ZlibBase): void {
  engine._handle?.close();
  engine._handle = null;
}

export function failStream(engine: ZlibBase, error: Error): void {
  engine.destroy(error);
  engine[kError] = error;
}

function completionError(handle: ZlibHandle, c: Completion): Error {
  if (c.status === binding!.abi.statusCodec) {
    return zlibError(handle.queue.native.contextMessage(handle.ctx), c.detail, codeName(c.detail));
  }
  return deviceError(c.status);
}

function processChunk(self: ZlibBase, chunk: Uint8Array, flushFlag: number, cb: TransformCallback): void {
  if (!self._handle) {
    process.nextTick(cb);
    return;
  }
  if (self._blocks) {
    self.bytesWritten += chunk.byteLength;
    self._blocks.write(chunk, flushFlag, cb);
    return;
  }
  if (self._readAhead) {
    if (self._active) {
      takeAhead(self, chunk, flushFlag, cb);
      return;
    }
    if (flushFlag === Z_NO_FLUSH) {
      // Called back on a later turn with the bytes copied, so the writer
      // hands over its next chunk while this one decodes.
      chunk = Buffer.from(chunk);
      setImmediate(cb);
      cb = noop;
    }
  }
  self._active = {
    draining: false,
    chunk,
    cb,
    inOff: 0,
    availIn: chunk.byteLength,
    flushFlag,
    ends: null,
    write: 0,
  };
  submitStep(self, self._active);
}

function resetNow(self: ZlibBase): void {
  if (!self._handle) return;
  const { queue, ctx } = self._handle;
  const err = queue.native.resetContext(ctx);
  if (err !== 0) failStream(self, zlibError(queue.native.contextMessage(ctx), err, codeName(err)));
}

function takeAhead(self: ZlibBase, chunk: Uint8Array, flushFlag: number, cb: TransformCallback): void {
  const len = chunk.byteLength;
  const last = self._pending[self._pending.length - 1];
  // Only writes that each fit a descriptor travel together.
  const fits = len > 0 && len <= (self._handle?.queue.maxDescriptorBytes ?? 0);
  let group: ReadAhead;
  if (last !== undefined && last !== RESET && !last.closed && fits) {
    group = last;
  } else {
    group = { chunks: [], bytes: 0, flushFlag: Z_NO_FLUSH, closed: false, held: [] };
    self._pending.push(group);
  }
  group.chunks.push(Buffer.from(chunk));
  group.bytes += len;
  group.flushFlag = flushFlag;
  group.closed = flushFlag !== Z_NO_FLUSH || !fits;
  self._pendingBytes += len;
  // A flushing write is called back once its output is out; any write once
  // enough is waiting.
  if (flushFlag === Z_NO_FLUSH && self._pendingBytes < READ_AHEAD_BYTES) setImmediate(cb);
  else group.held.push(cb);
}

/** The active write is done: what waited behind it goes next, then the write is called back. */
function finishWrite(self: ZlibBase, st: WriteState, readableFull: boolean): void {
  self._active = null;
  while (self._pending[0] === RESET && !self.destroyed) {
    self._pending.shift();
    resetNow(self);
  }
  const group = self._pending.shift() as ReadAhead | undefined;
  if (group !== undefined && !self.destroyed) {
    self._pendingBytes -= group.bytes;
    const several = group.chunks.length > 1;
    const chunk = several ? Buffer.concat(group.chunks, group.bytes) : group.chunks[0];
    let end = 0;
    const ends = several ? group.chunks.map((c) => (end += c.byteLength)) : null;
    const held = group.held;
    const next: WriteState = {
      draining: false,
      chunk,
      cb: held.length === 0 ? noop : () => held.forEach((f) => f()),
      inOff: 0,
      availIn: chunk.byteLength,
      flushFlag: group.flushFlag,
      ends,
      write: 0,
    };
    self._active = next;
    if (!readableFull) submitStep(self, next);
    else self.resumeOnRead(() => submitStep(self, next));
  }
  st.cb();
}

/** Calls back everything taken ahead without decoding it (the stream ended or was destroyed). */
function dropAhead(self: ZlibBase): void {
  const pending = self._pending;
  self._pending = [];
  self._pendingBytes = 0;
  self._active = null;
  for (const group of pending) if (group !== RESET) for (const f of group.held) f();
}

function submitStep(self: ZlibBase, st: WriteState): void {
  const handle = self._handle;
  if (!handle) {
    dropAhead(self);
    st.cb();
    return;
  }
  const maxBytes = handle.queue.maxDescriptorBytes;
  let srcLen = Math.min(st.availIn, maxBytes);
  let lengths: Buffer | undefined;
  if (st.ends !== null && st.availIn > 0) {
    const ends = st.ends;
    while (ends[st.write] <= st.inOff) st.write++;
    // The rest of the write the last step stopped in (or all of it), then
    // as many whole writes as the output buffer is expected to hold.
    const budget = Math.min(maxBytes, Math.max(self.inputPerStep(), ends[st.write] - st.inOff));
    let last = st.write;
    while (last + 1 < ends.length && ends[last + 1] - st.inOff <= budget) last++;
    srcLen = ends[last] - st.inOff;
    if (last > st.write) {
      lengths = Buffer.allocUnsafe(4 * (last - st.write + 1));
      for (let w = st.write, at = st.inOff; w <= last; at = ends[w++]) {
        lengths.writeUInt32LE(ends[w] - at, 4 * (w - st.write));
      }
    }
  }
  const out = self.outBuffer(srcLen, st.draining);
  const dstOff = self._outOffset;
  const dstLen = out.length - dstOff;
  // A chunk split over several descriptors must not finish or flush the
  // codec before its last piece.
  const flush = srcLen < st.availIn ? Z_NO_FLUSH : st.flushFlag;
  handle.queue.enqueue({
    op: handle.op,
    flush,
    ctx: handle.ctx,
    src: st.chunk,
    srcOff: st.inOff,
    srcLen,
    dst: out,
    dstOff,
    dstLen,
    hist: lengths,
    histOff: 0,
    histLen: lengths?.byteLength ?? 0,
    arg: 0,
    flags: lengths ? binding!.abi.flag.WRITES : 0,
    done: (c) => onStepComplete(self, handle, st, out, dstOff, srcLen, dstLen, c, lengths !== undefined),
  });
}

function onStepComplete(
  self: ZlibBase,
  handle: ZlibHandle,
  st: WriteState,
  out: Buffer,
  dstOff: number,
  srcLen: number,
  dstLen: number,
  c: Completion,
  severalWrites = false,
): void {
  if (self._pushing) {
    // Output of the step before is still going out: this one's follows it.
    self._deferred = () => onStepComplete(self, handle, st, out, dstOff, srcLen, dstLen, c, severalWrites);
    return;
  }
  if (self.destroyed) {
    dropAhead(self);
    st.cb();
    return;
  }
  if (c.status < 0) {
    // Of several writes, node would have counted and emitted those before
    // the failing one: the device reports just those.
    if (severalWrites && c.status === binding!.abi.statusCodec) self.bytesWritten += c.consumed;
    if (severalWrites && c.status === binding!.abi.statusCodec && c.produced > 0) {
      for (let at = dstOff; at < dstOff + c.produced; at += self._chunkSize) {
        self.push(out.subarray(at, Math.min(dstOff + c.produced, at + self._chunkSize)));
      }
    }
    failStream(self, completionError(handle, c));
    return;
  }
  self.bytesWritten += c.consumed;
  self._produced += c.produced;
  st.inOff += c.consumed;
  st.availIn -= c.consumed;

  const end = dstOff + c.produced;
  if (c.produced > 0 && out === self._outBuffer) self._outOffset = end;
  if (
    self._readAhead &&
    c.produced > 0 &&
    self.readableLength < self.readableHighWaterMark &&
    continueEarly(self, st, srcLen, dstLen, c)
  ) {
    // The device decodes the next step while this one's output is pushed.
    self._pushing = true;
    pushOutput(self, out, dstOff, end, () => {
      self._pushing = false;
      const deferred = self._deferred;
      self._deferred = null;
      if (deferred) deferred();
    });
    return;
  }
  pushOutput(self, out, dstOff, end, (full) => afterStepOutput(self, st, srcLen, dstLen, c, full));
}

/**
 * Submits what follows a step before its output is pushed, where nothing
 * about it waits on those pushes: more of the same write, or the writes
 * taken ahead when this write's callback has already run. Returns whether
 * it did.
 */
function continueEarly(
  self: ZlibBase,
  st: WriteState,
  srcLen: number,
  dstLen: number,
  c: Completion,
): boolean {
  const outputFull = c.produced === dstLen;
  if (outputFull || (c.consumed === srcLen && st.availIn > 0)) {
    st.draining = outputFull;
    submitStep(self, st);
    return true;
  }
  // The stream's end, and a callback owed after this output, come after it.
  if (c.consumed < srcLen || st.cb !== noop || self._pending.length === 0) return false;
  finishWrite(self, st, false);
  return true;
}

/**
 * Pushes a step's output in 'data' chunks of at most chunkSize while the
 * reader keeps up; the rest waits here, unpushed, until it reads again, so
 * a large step never overfills the readable buffer. Then `next`, told
 * whether the last push found the readable side full.
 */
function pushOutput(
  self: ZlibBase,
  out: Buffer,
  at: number,
  end: number,
  next: (full: boolean) => void,
): void {
  while (at < end) {
    const stop = Math.min(end, at + self._chunkSize);
    const more = self.push(out.subarray(at, stop));
    at = stop;
    if (self.destroyed) break;
    if (!more) {
      // Only a push resets the reader's pending read: wait for the next
      // read only with output left to push, otherwise the caller decides.
      if (at < end) self.resumeOnRead(() => pushOutput(self, out, at, end, next));
      else next(true);
      return;
    }
  }
  next(false);
}

function afterStepOutput(
  self: ZlibBase,
  st: WriteState,
  srcLen: number,
  dstLen: number,
  c: Completion,
  readableFull: boolean,
): void {
  if (self.destroyed) {
    dropAhead(self);
    st.cb();
    return;
  }
  const outputFull = c.produced === dstLen;
  st.draining = outputFull;
  if (outputFull || (c.consumed === srcLen && st.availIn > 0)) {
    // More output is waiting in the codec, or more input beyond this
    // descriptor's share: take another step once the reader has room.
    if (!readableFull) {
      submitStep(self, st);
    } else {
      self.resumeOnRead(() => submitStep(self, st));
    }
    return;
  }
  if (c.consumed < srcLen) {
    // The codec stopped with input left and room to spare: its stream ended
    // (everything past it is ignored, as node does for all but gunzip's
    // further members).
    self.push(null);
    dropAhead(self);
    st.cb();
    return;
  }
  finishWrite(self, st, readableFull);
}

export function processChunkSync(self: ZlibBase, chunk: Uint8Array, flushFlag: number): Buffer {
  if (self._blocks) return processBlocksSync(self, self._blocks, chunk, flushFlag);
  let availIn = chunk.byteLength;
  let inOff = 0;
  const buffers: Buffer[] = [];
  let nread = 0;
  let inputRead = 0;
  const handle = self._handle;
  const chunkSize = self._chunkSize;
  let buffer = self._outBuffer ?? Buffer.allocUnsafe(chunkSize);
  let offset = self._outBuffer ? self._outOffset : 0;
  if (offset >= buffer.length) {
    buffer = Buffer.allocUnsafe(chunkSize);
    offset = 0;
  }

  let error: Error | undefined;
  self.on('error', (er: Error) => {
    error = er;
  });
  if (!handle) throw internalAssertion('zlib binding closed');

  for (;;) {
    const dstLen = Math.max(buffer.length - offset, 0);
    const c = handle.queue.runInline({
      op: handle.op,
      flush: flushFlag,
      ctx: handle.ctx,
      src: chunk,
      srcOff: inOff,
      srcLen: availIn,
      dst: buffer,
      dstOff: offset,
      dstLen,
      arg: 0,
      done: noop,
    });
    if (c.status < 0) {
      failStream(self, completionError(handle, c));
      throw error ?? self[kError];
    }
    inputRead += c.consumed;
    if (c.produced > 0) {
      buffers.push(buffer.subarray(offset, offset + c.produced));
      offset += c.produced;
      nread += c.produced;
      if (nread > self._maxOutputLength) {
        closeHandle(self);
        throw errBufferTooLarge(self._maxOutputLength);
      }
    }
    const outputFull = c.produced === dstLen;
    if (outputFull || offset >= chunkSize) {
      buffer = Buffer.allocUnsafe(chunkSize);
      offset = 0;
    }
    if (!outputFull) break;
    inOff += c.consumed;
    availIn -= c.consumed;
  }

  self.bytesWritten = inputRead;
  closeHandle(self);
  if (nread === 0) return Buffer.alloc(0);
  return buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, nread);
}

function processBlocksSync(
  self: ZlibBase,
  blocks: BlockDeflater,
  chunk: Uint8Array,
  flushFlag: number,
): Buffer {
  if (!self._handle) throw internalAssertion('zlib binding closed');
  let error: Error | undefined;
  self.on('error', (er: Error) => {
    error = er;
  });
  const buffers = blocks.writeSync(chunk, flushFlag);
  if (self.destroyed) throw error ?? self[kError];
  let nread = 0;
  for (const b of buffers) nread += b.byteLength;
  if (nread > self._maxOutputLength) {
    closeHandle(self);
    throw errBufferTooLarge(self._maxOutputLength);
  }
  self.bytesWritten += chunk.byteLength;
  self._produced += nread;
  closeHandle(self);
  if (nread === 0) return Buffer.alloc(0);
  return buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, nread);
}

/** Where a block-mode stream's output and failures go: node's 'data' slicing and error shape. */
function blockOutput(self: ZlibBase) {
  return {
    get destroyed(): boolean {
      return self.destroyed;
    },
    emit(bytes: Buffer): boolean {
      self._produced += bytes.byteLength;
      let ok = true;
      for (let at = 0; at < bytes.byteLength; at += self._chunkSize) {
        ok = self.push(bytes.subarray(at, Math.min(bytes.byteLength, at + self._chunkSize)));
      }
      return ok;
    },
    fail(status: number, c: Completion): void {
      failStream(
        self,
        status === binding!.abi.statusCodec
          ? zlibError('zlib error', c.detail, codeName(c.detail))
          : deviceError(status),
      );
    },
  };
}

function noop(): void {}

export { Z_SYNC_FLUSH };
