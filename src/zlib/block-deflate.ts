// Parallel block compression for the deflate-family streams (the pigz
// technique, and the shape stateless hardware accepts). The input is cut into
// blocks; each block is one descriptor, compressed by whichever worker takes
// it, primed with the 32 KiB that precede it and ending byte-aligned and
// non-final, so the blocks' outputs concatenate into one deflate stream.
// Outputs are pushed in stream order; the wrapper's header and trailer are
// written here, the trailer's check folded from the per-block checks the
// device reports. Codec state lives per worker thread: an open stream holds
// only its unsent input and a copy of its last 32 KiB.
import { constants as osConstants } from 'os';
import { constants as zlibConstants } from 'zlib';

import { binding } from '../native/binding';
import type { Completion, DescriptorQueue } from '../ring/queue';
import { Mode, Z_DEFAULT_STRATEGY, Z_FINISH, Z_FULL_FLUSH, Z_NO_FLUSH } from './constants';

/** Deflate's window: the history each block is primed with. */
const WINDOW = 32 << 10;
/** Room a block's output needs beyond its input when it does not compress (stored blocks, markers). */
const OUTPUT_SLACK = 256;
/** Smallest block a caller may ask for: below it the sync markers start to cost ratio. */
const MIN_BLOCK_BYTES = 4 << 10;
/** Pending input up to this size grows by doubling; past it, to the whole block. */
const SMALL_PENDING = 4 << 10;
const { ENOSPC } = osConstants.errno;
const { Z_HUFFMAN_ONLY } = zlibConstants;

const FORMAT: Partial<Record<Mode, number>> = { [Mode.DEFLATERAW]: 0, [Mode.DEFLATE]: 1, [Mode.GZIP]: 2 };
const FORMAT_ZLIB = 1;
const FORMAT_GZIP = 2;
/** Descriptor `arg` bit: keep ISA-L out of this block (the zlib codec serves it). */
const ARG_NO_ISAL = 1 << 13;

function outputBound(n: number): number {
  return n + (n >>> 8) + OUTPUT_SLACK;
}

/** The largest block whose output bound still fits one descriptor. */
export function maxBlockBytes(maxDescriptorBytes: number): number {
  return Math.min(8 << 20, Math.floor(((maxDescriptorBytes - OUTPUT_SLACK) * 256) / 257) & ~1023);
}

/** Block size for a stream: the one asked for, clamped to what a descriptor carries. */
export function blockBytesFor(requested: number, maxDescriptorBytes: number): number {
  return Math.min(maxBlockBytes(maxDescriptorBytes), Math.max(MIN_BLOCK_BYTES, requested));
}

/** Whether a stream with these options can be compressed as blocks (otherwise: node's serial zlib). */
export function blockModeApplies(
  mode: Mode,
  o: { windowBits: number; dictionary: unknown },
  blockSize: number,
): boolean {
  return (
    binding !== null &&
    FORMAT[mode] !== undefined &&
    blockSize !== 0 &&
    o.windowBits === 15 &&
    o.dictionary === undefined
  );
}

interface Block {
  seq: number;
  src: Uint8Array;
  hist: Uint8Array | undefined;
  /** Starts a new member: the header goes before it. */
  first: boolean;
  /** Ends the member: final deflate block, then the trailer. */
  last: boolean;
  /** A whole member in one descriptor (libdeflate): header and trailer come with it. */
  whole: boolean;
  level: number;
  strategy: number;
  out: Buffer | undefined;
  produced: number;
  check: number;
}

/** What the engine needs from its stream. */
export interface BlockOutput {
  /** Pushes compressed bytes; false when the readable side is full. */
  emit(bytes: Buffer): boolean;
  fail(status: number, completion: Completion): void;
  readonly destroyed: boolean;
}

interface FlushWaiter {
  seq: number;
  cb: () => void;
}

export class BlockDeflater {
  level: number;
  strategy: number;
  /** Blocks in flight (or completed, awaiting their turn) beyond which writes wait. */
  private readonly window: number;
  private readonly format: number;
  /** UACCEL_ISAL=0 when the stream opened: its blocks stay on zlib (as inflate streams do). */
  private readonly noIsal: number;
  private pending: Buffer | null = null;
  private pendingLen = 0;
  private history: Uint8Array | undefined;
  private memberOpen = false;
  /** The last block cut ended a member and no input came since: a finish has nothing to add. */
  private finished = false;
  private memberCheck = 0;
  private memberBytes = 0;
  private nextSeq = 0;
  private emitSeq = 0;
  private readonly done = new Map<number, Block>();
  private waitingWrite: (() => void) | null = null;
  private readonly flushWaiters: FlushWaiter[] = [];
  private readableFull = false;
  private failed = false;

  constructor(
    private readonly queue: DescriptorQueue,
    mode: Mode,
    level: number,
    strategy: number,
    readonly blockBytes: number,
    private readonly out: BlockOutput,
  ) {
    this.format = FORMAT[mode] as number;
    this.level = level;
    this.strategy = strategy;
    this.window = Math.max(2, queue.config.workers * 2);
    this.noIsal = process.env.UACCEL_ISAL === '0' ? ARG_NO_ISAL : 0;
  }

  /** Input bytes held here that no descriptor carries yet. */
  get buffered(): number {
    return this.pendingLen;
  }

  /**
   * Takes a write: copies it (the caller may reuse its buffer once called
   * back, while blocks are still in flight), submits every full block and,
   * for a flush, the partial one. Calls back when the stream may take more:
   * at once while few blocks are in flight, after the flushed output is
   * pushed for a flush.
   */
  write(chunk: Uint8Array, flushFlag: number, cb: () => void): void {
    if (this.failed) return;
    for (const block of this.cut(chunk, flushFlag)) this.submit(block);
    if (flushFlag !== Z_NO_FLUSH) {
      this.flushWaiters.push({ seq: this.nextSeq - 1, cb });
      this.settleFlushes();
    } else if (this.hasRoom()) {
      // Called back on a later turn, as a write to node's zlib is once its
      // thread-pool job is done: a destroy() in the same turn is seen first.
      setImmediate(cb);
    } else {
      this.waitingWrite = cb;
    }
  }

  /** The Sync form of write: every block runs inline on this thread; returns the output. */
  writeSync(chunk: Uint8Array, flushFlag: number): Buffer[] {
    const output: Buffer[] = [];
    for (const block of this.cut(chunk, flushFlag)) {
      let c = this.queue.runInline(this.descriptor(block, noop));
      if (c.status === -ENOSPC) c = this.queue.runInline(this.descriptor(stored(block), noop));
      if (c.status < 0) {
        this.failed = true;
        this.out.fail(c.status, c);
        return output;
      }
      this.finish(block, c);
      this.emitSeq++;
      this.deliver(block, (b) => output.push(b));
    }
    return output;
  }

  /** Starts a new member on the next block; input not yet in a block is dropped, as zlib's reset drops it. */
  reset(): void {
    this.pending = null;
    this.pendingLen = 0;
    this.history = undefined;
    this.memberOpen = false;
    this.finished = false;
  }

  /** The readable side drained: writes held back for it may go on. */
  onRead(): void {
    if (!this.readableFull) return;
    this.readableFull = false;
    this.release();
  }

  private cut(chunk: Uint8Array, flushFlag: number): Block[] {
    const blocks: Block[] = [];
    let off = 0;
    while (off < chunk.byteLength) {
      const room = this.reserve(chunk.byteLength - off);
      const n = Math.min(room, chunk.byteLength - off);
      (this.pending as Buffer).set(chunk.subarray(off, off + n), this.pendingLen);
      this.pendingLen += n;
      off += n;
      if (this.pendingLen === this.blockBytes) blocks.push(this.takeBlock(false));
    }
    if (chunk.byteLength > 0) this.finished = false;
    if (flushFlag === Z_FINISH) {
      // Node's stream finishes its last write and then flushes with Z_FINISH
      // again, which zlib answers with nothing: no second, empty member.
      if (!this.finished) blocks.push(this.takeBlock(true));
    } else if (flushFlag !== Z_NO_FLUSH && this.pendingLen > 0) {
      blocks.push(this.takeBlock(false));
    }
    if (flushFlag === Z_FULL_FLUSH) this.history = undefined;
    return blocks;
  }

  /** Makes room for more pending input; returns how many bytes fit before the block is full. */
  private reserve(want: number): number {
    const need = this.pendingLen + want;
    const capacity = this.pending?.length ?? 0;
    if (need > capacity && capacity < this.blockBytes) {
      // Small input grows by doubling; a first large write gets exactly its
      // size (a stream that ends or dies after one write never holds a whole
      // block), and the next growth goes straight to the block size.
      const grown =
        need <= SMALL_PENDING
          ? Math.min(this.blockBytes, Math.max(256, need * 2))
          : capacity === 0
            ? Math.min(this.blockBytes, need)
            : this.blockBytes;
      const next = Buffer.allocUnsafe(grown);
      if (this.pending !== null) this.pending.copy(next, 0, 0, this.pendingLen);
      this.pending = next;
    }
    return (this.pending as Buffer).length - this.pendingLen;
  }

  private takeBlock(last: boolean): Block {
    const src = this.pending === null ? Buffer.alloc(0) : this.pending.subarray(0, this.pendingLen);
    this.pending = null;
    this.pendingLen = 0;
    const first = !this.memberOpen;
    const whole = first && last && this.strategy === Z_DEFAULT_STRATEGY;
    const block: Block = {
      seq: this.nextSeq++,
      src,
      hist: this.history,
      first,
      last,
      whole,
      level: this.level,
      strategy: this.strategy,
      out: undefined,
      produced: 0,
      check: 0,
    };
    this.memberOpen = !last;
    this.finished = last;
    this.history = last ? undefined : nextHistory(this.history, src);
    return block;
  }

  private descriptor(block: Block, done: (c: Completion) => void) {
    const { op, flag } = binding!.abi;
    const n = block.src.byteLength;
    if (block.out === undefined) block.out = Buffer.allocUnsafe(outputBound(n));
    const histLen = block.hist?.byteLength ?? 0;
    return {
      op: op.DEFLATE_BLOCK,
      flush: 0,
      ctx: 0,
      src: block.src,
      srcOff: 0,
      srcLen: n,
      dst: block.out,
      dstOff: 0,
      dstLen: block.out.length,
      hist: block.hist,
      histOff: 0,
      histLen,
      arg: (block.level + 1) | (this.format << 8) | (block.strategy << 10) | this.noIsal,
      flags: block.whole ? flag.FIRST | flag.LAST : block.last ? flag.LAST : 0,
      done,
    };
  }

  private submit(block: Block): void {
    this.queue.enqueue(
      this.descriptor(block, (c) => {
        // Output that does not fit its bound only comes from a codec that
        // expands incompressible input; stored blocks always fit.
        if (c.status === -ENOSPC && !this.out.destroyed) {
          const retry = stored(block);
          this.queue.enqueue(this.descriptor(retry, (c2) => this.onComplete(retry, c2)));
          return;
        }
        this.onComplete(block, c);
      }),
    );
  }

  private onComplete(block: Block, c: Completion): void {
    if (this.failed || this.out.destroyed) {
      this.release();
      return;
    }
    if (c.status < 0) {
      this.failed = true;
      this.out.fail(c.status, c);
      return;
    }
    this.finish(block, c);
    this.done.set(block.seq, block);
    while (this.done.has(this.emitSeq)) {
      const next = this.done.get(this.emitSeq) as Block;
      this.done.delete(this.emitSeq);
      this.emitSeq++;
      this.deliver(next, (b) => {
        if (!this.out.emit(b)) this.readableFull = true;
      });
      if (this.out.destroyed) return;
    }
    this.settleFlushes();
    this.release();
  }

  private finish(block: Block, c: Completion): void {
    block.produced = c.produced;
    block.check = c.check;
  }

  /** Hands a block's bytes on in stream order, with the member's header before its first block and trailer after its last. */
  private deliver(block: Block, emit: (b: Buffer) => void): void {
    const out = block.out as Buffer;
    block.out = undefined;
    if (block.whole) {
      emit(compact(out, block.produced));
      return;
    }
    if (block.first) {
      emit(this.header(block));
      this.memberCheck = block.check;
      this.memberBytes = block.src.byteLength;
    } else {
      this.memberCheck = binding!.checkCombine(
        this.format,
        this.memberCheck,
        block.check,
        block.src.byteLength,
      );
      this.memberBytes += block.src.byteLength;
    }
    if (block.produced > 0) emit(compact(out, block.produced));
    if (block.last) {
      const trailer = this.trailer();
      if (trailer) emit(trailer);
    }
  }

  private header(block: Block): Buffer {
    const level = block.level < 0 ? 6 : block.level;
    if (this.format === FORMAT_GZIP) {
      // zlib's own header for a stream without name, mtime or extra field.
      const xfl = level === 9 ? 2 : block.strategy >= Z_HUFFMAN_ONLY || level < 2 ? 4 : 0;
      return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
    }
    if (this.format === FORMAT_ZLIB) {
      const levelFlags =
        block.strategy >= Z_HUFFMAN_ONLY || level < 2 ? 0 : level < 6 ? 1 : level === 6 ? 2 : 3;
      let header = (0x78 << 8) | (levelFlags << 6);
      header += 31 - (header % 31);
      return Buffer.from([header >>> 8, header & 0xff]);
    }
    return Buffer.alloc(0);
  }

  private trailer(): Buffer | undefined {
    if (this.format === FORMAT_GZIP) {
      const t = Buffer.allocUnsafe(8);
      t.writeUInt32LE(this.memberCheck >>> 0, 0);
      t.writeUInt32LE(this.memberBytes % 0x100000000, 4);
      return t;
    }
    if (this.format === FORMAT_ZLIB) {
      const t = Buffer.allocUnsafe(4);
      t.writeUInt32BE(this.memberCheck >>> 0, 0);
      return t;
    }
    return undefined;
  }

  private settleFlushes(): void {
    while (this.flushWaiters.length > 0 && this.flushWaiters[0].seq < this.emitSeq) {
      (this.flushWaiters.shift() as FlushWaiter).cb();
    }
  }

  /** Calls back a write held for room once few enough blocks are outstanding and the reader keeps up. */
  private release(): void {
    const cb = this.waitingWrite;
    if (cb === null) return;
    if (!this.out.destroyed && !this.hasRoom()) return;
    this.waitingWrite = null;
    cb();
  }

  private hasRoom(): boolean {
    return this.nextSeq - this.emitSeq < this.window && !this.readableFull;
  }
}

/** The same block at level 0: stored blocks, whose size is known in advance. */
function stored(block: Block): Block {
  return { ...block, level: 0, strategy: Z_DEFAULT_STRATEGY, out: undefined };
}

/** The 32 KiB before the next block: copied, so a stream keeps no whole block alive. */
function nextHistory(prev: Uint8Array | undefined, block: Uint8Array): Uint8Array | undefined {
  if (block.byteLength >= WINDOW) return Buffer.from(block.subarray(block.byteLength - WINDOW));
  if (block.byteLength === 0) return prev;
  const keep = Math.min(prev?.byteLength ?? 0, WINDOW - block.byteLength);
  const h = Buffer.allocUnsafe(keep + block.byteLength);
  if (keep > 0) h.set((prev as Uint8Array).subarray((prev as Uint8Array).byteLength - keep), 0);
  h.set(block, keep);
  return h;
}

/** Output worth keeping on its own: a block's output buffer is sized for the worst case. */
function compact(out: Buffer, produced: number): Buffer {
  return produced * 2 < out.length ? Buffer.from(out.subarray(0, produced)) : out.subarray(0, produced);
}

function noop(): void {}
