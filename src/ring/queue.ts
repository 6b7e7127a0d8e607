// The JavaScript half of the ring: gathers every descriptor queued during one
// event-loop turn into a single native submit, keeps each in-flight
// descriptor's Buffers alive until its completion is delivered, stages data
// through the pinned region when the device cannot see process memory, and
// turns a full ring into backpressure (descriptors wait here, bounded by the
// streams that queued them, which stop reading their input meanwhile).
import type { Binding, NativeQueue, NativeQueueInfo } from '../native/binding';
import type { Config } from './config';
import { constants as osConstants } from 'os';

import { PinnedArena } from './pinned-arena';

export interface Completion {
  status: number;
  produced: number;
  consumed: number;
  flags: number;
  check: number;
  detail: number;
}

export interface Descriptor {
  op: number;
  flush: number;
  /** Context id from openContext, 0 for stateless ops. */
  ctx: number;
  src: Uint8Array | undefined;
  srcOff: number;
  srcLen: number;
  /** Where output lands, in both memory modes (pinned output is copied here). */
  dst: Uint8Array | undefined;
  dstOff: number;
  dstLen: number;
  arg: number;
  /** UA_SQE_FIRST / UA_SQE_LAST (binding.abi.flag); the queue adds PINNED itself. */
  flags?: number;
  /** History window for stateless compression: the bytes preceding src in the stream. */
  hist?: Uint8Array;
  histOff?: number;
  histLen?: number;
  done(completion: Completion): void;
}

/** Per-descriptor byte limit under SVA: the largest input real devices accept. */
const SVA_DESCRIPTOR_BYTES = 8 << 20;
/**
 * While a batch of completions is being delivered, descriptors its handlers
 * queue are submitted every this many, so the device works on them while the
 * JavaScript thread is still busy with the rest of the batch.
 */
const EARLY_SUBMIT = 8;
/** Allocation unit of the pinned region: a small one-shot's buffer takes one. */
const PINNED_UNIT_BYTES = 16 << 10;
/**
 * Per-descriptor byte limit in pinned mode: as large as the SVA steps that
 * matter (a 128 KiB block, a 1 MiB inflate step, a whole 256 KiB one-shot),
 * and at most a quarter of the region, so a descriptor's three buffers always
 * fit once the region drains.
 */
const PINNED_DESCRIPTOR_BYTES = 1 << 20;

export class DescriptorQueue {
  readonly native: NativeQueue;
  readonly config: Readonly<Config>;
  /** Largest src or dst length one descriptor may carry. */
  readonly maxDescriptorBytes: number;

  private readonly abi: Binding['abi'];
  private readonly depth: number;
  private readonly staging: Uint32Array;
  private readonly completions: Int32Array;
  private readonly buffers: Array<Uint8Array | undefined> = [];
  private readonly jobs: Array<Descriptor | undefined>;
  private readonly freeTags: number[] = [];
  /** Pinned runs per tag: [src, dst, hist] offsets, -1 when unused. */
  private readonly slotOf: Int32Array;
  private readonly arena: PinnedArena | undefined;
  private readonly region: Buffer | undefined;
  private readonly inlineFields: Uint32Array;
  private readonly inlineResult: Int32Array;
  private readonly inlineBuffers: Array<Uint8Array | undefined> = [undefined, undefined, undefined];
  private pending: Descriptor[] = [];
  private pendingHead = 0;
  private inflight = 0;
  private flushScheduled = false;
  private closed = false;
  private retiring = false;
  private contexts = 0;
  /**
   * Stateless descriptors and inflate stream steps completed, by the codec
   * the device reports in `detail` (index 1 zlib, 2 ISA-L, 3 libdeflate):
   * which codec served the work is otherwise invisible, since every one
   * decodes the same.
   */
  readonly codecRuns = [0, 0, 0, 0];

  constructor(binding: Binding, config: Config) {
    this.abi = binding.abi;
    this.config = Object.freeze({ ...config });
    let depth = 2;
    while (depth < config.queueDepth) depth <<= 1;
    this.depth = depth;
    const { submitFields, completionFields } = binding.abi;
    this.staging = new Uint32Array(depth * submitFields);
    this.completions = new Int32Array(depth * completionFields);
    this.inlineFields = new Uint32Array(submitFields);
    this.inlineResult = new Int32Array(completionFields);
    this.jobs = new Array<Descriptor | undefined>(depth).fill(undefined);
    for (let t = depth - 1; t >= 0; t--) this.freeTags.push(t);
    this.slotOf = new Int32Array(depth * 3).fill(-1);
    this.native = new binding.Queue(
      {
        device: config.device,
        sva: config.sva,
        depth,
        workers: config.workers,
        regionBytes: config.pinnedBytes,
      },
      this.staging,
      this.completions,
      (count) => this.onComplete(count),
    );
    this.region = this.native.region();
    if (this.region) {
      const state = this.native.info();
      if (!state.regionLocked) {
        process.emitWarning(
          `uaccel: the pinned region (${this.region.length} bytes) could not be locked in memory ` +
            `(${state.regionLockError}); it is used unlocked. Raise RLIMIT_MEMLOCK (ulimit -l) ` +
            'or lower UACCEL_PINNED_BYTES.',
          { code: 'UACCEL_PINNED_UNLOCKED' },
        );
      }
      this.arena = new PinnedArena(this.region.length, PINNED_UNIT_BYTES);
      const quarter = Math.floor(this.region.length / 4 / PINNED_UNIT_BYTES) * PINNED_UNIT_BYTES;
      this.maxDescriptorBytes = Math.min(PINNED_DESCRIPTOR_BYTES, quarter);
    } else {
      this.maxDescriptorBytes = SVA_DESCRIPTOR_BYTES;
    }
  }

  get sva(): boolean {
    return this.region === undefined;
  }

  /** Descriptors queued here or on the ring, not yet delivered. */
  get busy(): boolean {
    return this.inflight > 0 || this.pendingHead < this.pending.length;
  }

  enqueue(d: Descriptor): void {
    if (this.closed) throw new Error('uaccel: queue is closed');
    if (d.srcLen > this.maxDescriptorBytes || d.dstLen > this.maxDescriptorBytes) {
      throw new RangeError('uaccel: descriptor larger than the queue accepts');
    }
    this.pending.push(d);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushOnTick, this);
    }
  }

  /** Submits every waiting descriptor the ring (and pinned region) has room for, in one call. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const fieldsPer = this.abi.submitFields;
    let n = 0;
    while (this.pendingHead < this.pending.length && this.inflight + n < this.depth) {
      const d = this.pending[this.pendingHead];
      const histLen = d.histLen ?? 0;
      const tag = this.freeTags[this.freeTags.length - 1];
      if (this.arena && !this.takeRuns(tag, d.srcLen, d.dstLen, histLen)) break;
      this.freeTags.pop();
      this.pendingHead++;
      this.jobs[tag] = d;
      const f = n * fieldsPer;
      const s = this.staging;
      const flags = d.flags ?? 0;
      s[f + 1] = d.ctx;
      s[f + 2] = tag;
      s[f + 4] = d.srcLen;
      s[f + 6] = d.dstLen;
      s[f + 8] = histLen;
      s[f + 9] = d.arg;
      if (this.arena && this.region) {
        const slotOf = this.slotOf;
        if (d.srcLen > 0) this.stage(slotOf[tag * 3], d.src, d.srcOff, d.srcLen);
        if (histLen > 0) this.stage(slotOf[tag * 3 + 2], d.hist, d.histOff ?? 0, histLen);
        s[f] = d.op | (d.flush << 8) | ((flags | this.abi.flag.PINNED) << 16);
        s[f + 3] = Math.max(slotOf[tag * 3], 0);
        s[f + 5] = Math.max(slotOf[tag * 3 + 1], 0);
        s[f + 7] = Math.max(slotOf[tag * 3 + 2], 0);
      } else {
        s[f] = d.op | (d.flush << 8) | (flags << 16);
        s[f + 3] = d.srcOff;
        s[f + 5] = d.dstOff;
        s[f + 7] = d.histOff ?? 0;
        this.buffers[n * 3] = d.src;
        this.buffers[n * 3 + 1] = d.dst;
        this.buffers[n * 3 + 2] = histLen > 0 ? d.hist : undefined;
      }
      n++;
    }
    if (this.pendingHead === this.pending.length) {
      this.pending = [];
      this.pendingHead = 0;
    }
    if (n === 0) return;
    const accepted = this.native.submit(n, this.buffers);
    // The ring has at least `depth - inflight` free slots by construction.
    if (accepted !== n) throw new Error(`uaccel: ring accepted ${accepted} of ${n} descriptors`);
    this.inflight += n;
    this.buffers.fill(undefined, 0, n * 3);
  }

  /**
   * Takes the pinned runs a descriptor's buffers need, recorded under its
   * tag; all or none (false: the region must drain first).
   */
  private takeRuns(tag: number, srcLen: number, dstLen: number, histLen: number): boolean {
    const k = tag * 3;
    if (this.takeRun(k, srcLen) && this.takeRun(k + 1, dstLen) && this.takeRun(k + 2, histLen)) return true;
    this.giveRuns(tag);
    return false;
  }

  /** One buffer's run into slotOf[k] (-1 for an empty buffer); false when it does not fit. */
  private takeRun(k: number, bytes: number): boolean {
    const at = bytes > 0 ? (this.arena as PinnedArena).take(bytes) : -1;
    this.slotOf[k] = at;
    return at >= 0 || bytes === 0;
  }

  private giveRuns(tag: number): void {
    for (let k = tag * 3; k < tag * 3 + 3; k++) {
      if (this.slotOf[k] >= 0) (this.arena as PinnedArena).give(this.slotOf[k]);
      this.slotOf[k] = -1;
    }
  }

  /** Copies a buffer's bytes into its pinned run. */
  private stage(at: number, src: Uint8Array | undefined, offset: number, length: number): void {
    (this.region as Buffer).set((src as Uint8Array).subarray(offset, offset + length), at);
  }

  // One call per batch of completions. Handlers run in completion order; an
  // exception from one is re-thrown after the whole batch is delivered, so a
  // throwing 'data' listener cannot strand other streams.
  private onComplete(count: number): void {
    const per = this.abi.completionFields;
    const c = this.completions;
    let firstError: unknown;
    let failed = false;
    for (let i = 0; i < count; i++) {
      const e = i * per;
      const tag = c[e];
      const d = this.jobs[tag];
      this.jobs[tag] = undefined;
      this.freeTags.push(tag);
      this.inflight--;
      if (d === undefined) continue;
      const completion: Completion = {
        status: c[e + 1],
        produced: c[e + 2] >>> 0,
        consumed: c[e + 3] >>> 0,
        flags: c[e + 4] >>> 0,
        check: c[e + 5] >>> 0,
        detail: c[e + 6],
      };
      if (this.arena && this.region) {
        const dstOff = this.slotOf[tag * 3 + 1];
        // A codec error may come with output (that of the writes before it).
        const kept = completion.status >= 0 || completion.status === this.abi.statusCodec;
        if (completion.produced > 0 && kept && d.dst) {
          d.dst.set(this.region.subarray(dstOff, dstOff + completion.produced), d.dstOff);
        }
        this.giveRuns(tag);
      }
      this.countCodec(d.op, completion);
      try {
        d.done(completion);
        if (this.pending.length - this.pendingHead >= EARLY_SUBMIT) this.flush();
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        } else {
          process.nextTick(rethrow, err);
        }
      }
    }
    this.flush();
    this.closeIfRetired();
    if (failed) throw firstError;
  }

  /** Executes one descriptor synchronously on this thread (the *Sync APIs). */
  runInline(d: Descriptor): Completion {
    const f = this.inlineFields;
    f[0] = d.op | (d.flush << 8) | ((d.flags ?? 0) << 16);
    f[1] = d.ctx;
    f[2] = 0;
    f[3] = d.srcOff;
    f[4] = d.srcLen;
    f[5] = d.dstOff;
    f[6] = d.dstLen;
    f[7] = d.histOff ?? 0;
    f[8] = d.histLen ?? 0;
    f[9] = d.arg;
    this.inlineBuffers[0] = d.src;
    this.inlineBuffers[1] = d.dst;
    this.inlineBuffers[2] = d.histLen ? d.hist : undefined;
    const r = this.inlineResult;
    this.native.runInline(f, this.inlineBuffers, r);
    this.inlineBuffers.fill(undefined);
    const completion = {
      status: r[1],
      produced: r[2] >>> 0,
      consumed: r[3] >>> 0,
      flags: r[4] >>> 0,
      check: r[5] >>> 0,
      detail: r[6],
    };
    this.countCodec(d.op, completion);
    return completion;
  }

  private countCodec(op: number, c: Completion): void {
    if (c.status < 0 || c.detail < 1 || c.detail > 3) return;
    const { op: ops } = this.abi;
    if (op === ops.DEFLATE_BLOCK || op === ops.INFLATE_ONESHOT || op === ops.INFLATE)
      this.codecRuns[c.detail]++;
  }

  openContext(
    mode: number,
    level: number,
    windowBits: number,
    memLevel: number,
    strategy: number,
    dictionary: Uint8Array | undefined,
  ): number {
    const id = this.native.openContext(mode, level, windowBits, memLevel, strategy, dictionary);
    this.contexts++;
    return id;
  }

  /**
   * Frees a context; natively deferred until its in-flight descriptors
   * complete. Descriptors still waiting here are withdrawn first and
   * completed as cancelled: the id may be reused by the next context opened,
   * so they must never reach the ring.
   */
  closeContext(id: number): void {
    if (this.closed) return;
    this.cancelPending(id);
    this.native.closeContext(id);
    this.contexts--;
    this.closeIfRetired();
  }

  /**
   * A stream that sends only stateless descriptors keeps the queue open as a
   * context does, so a retired queue waits for it to close.
   */
  holdStateless(): void {
    this.contexts++;
  }

  releaseStateless(): void {
    if (this.closed) return;
    this.contexts--;
    this.closeIfRetired();
  }

  private cancelPending(ctx: number): void {
    let kept = this.pendingHead;
    for (let i = this.pendingHead; i < this.pending.length; i++) {
      const d = this.pending[i];
      // Delivered on a later turn, as a real completion would be: after the
      // 'close' the stream's teardown schedules.
      if (d.ctx === ctx) setImmediate(cancel, d);
      else this.pending[kept++] = d;
    }
    this.pending.length = kept;
  }

  /** Closes the queue once its last context is closed and nothing is in flight. */
  retire(): void {
    this.retiring = true;
    this.closeIfRetired();
  }

  private closeIfRetired(): void {
    if (this.retiring && this.contexts === 0 && !this.busy) this.close();
  }

  info(): NativeQueueInfo {
    return this.native.info();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }
}

function flushOnTick(queue: DescriptorQueue): void {
  queue.flush();
}

const ECANCELED = osConstants.errno.ECANCELED;

function cancel(d: Descriptor): void {
  d.done({ status: -ECANCELED, produced: 0, consumed: 0, flags: 0, check: 0, detail: 0 });
}

function rethrow(err: unknown): never {
  throw err;
}
