// The device as an IOMMU would enforce it: on a pinned queue every descriptor
// address is an offset that must lie inside the queue's pinned region;
// anything else (an offset past the end, a range running off the end, a raw
// process address) completes with -EFAULT and touches no memory. On an SVA
// queue, which has no region, a PINNED descriptor is malformed (-EINVAL).
//
// These descriptors cannot be produced through the public API (the stream
// layer only ever names slots it owns), so this file drives the native Queue
// directly: it fills the shared staging array with the ten 32-bit fields per
// descriptor (native/addon/queue.h, SubmitField) and reads the eight fields
// per completion (CompletionField).
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type NativeQueue, type QueueOptions, binding } from '../src/native/binding';

const EFAULT = -14;
const EINVAL = -22;
const REGION = 1 << 20;
const SLOT = 64 << 10;
const DEPTH = 8;

interface Raw {
  op: number;
  flush?: number;
  flags?: number;
  ctx?: number;
  srcOff?: number;
  srcLen?: number;
  dstOff?: number;
  dstLen?: number;
  arg?: number;
  /** Buffers for raw (non-PINNED) addresses: [src, dst]. */
  src?: Uint8Array;
  dst?: Uint8Array;
}

interface Cqe {
  tag: number;
  status: number;
  produced: number;
  consumed: number;
  flags: number;
  check: number;
  detail: number;
  ctx: number;
}

/** A native queue opened the way DescriptorQueue opens it, with its shared arrays. */
class TestQueue {
  readonly native: NativeQueue;
  private readonly staging: Uint32Array;
  private readonly completions: Int32Array;
  private nextTag = 1;
  private readonly waiting = new Map<number, (c: Cqe) => void>();

  constructor(options: QueueOptions) {
    const abi = binding!.abi;
    this.staging = new Uint32Array(options.depth * abi.submitFields);
    this.completions = new Int32Array(options.depth * abi.completionFields);
    this.native = new binding!.Queue(options, this.staging, this.completions, (count) =>
      this.onComplete(count),
    );
  }

  private onComplete(count: number): void {
    const per = binding!.abi.completionFields;
    const c = this.completions;
    for (let i = 0; i < count; i++) {
      const e = i * per;
      const cqe: Cqe = {
        tag: c[e],
        status: c[e + 1],
        produced: c[e + 2] >>> 0,
        consumed: c[e + 3] >>> 0,
        flags: c[e + 4] >>> 0,
        check: c[e + 5] >>> 0,
        detail: c[e + 6],
        ctx: c[e + 7],
      };
      const resolve = this.waiting.get(cqe.tag);
      this.waiting.delete(cqe.tag);
      resolve?.(cqe);
    }
  }

  /** Submits up to DEPTH descriptors in one batch and resolves with their completions, in order. */
  run(descs: Raw[]): Promise<Cqe[]> {
    expect(descs.length).toBeLessThanOrEqual(DEPTH);
    const per = binding!.abi.submitFields;
    const buffers: Array<Uint8Array | undefined> = [];
    const results: Array<Promise<Cqe>> = [];
    descs.forEach((d, n) => {
      const tag = this.nextTag++;
      const f = n * per;
      const s = this.staging;
      s[f] = d.op | ((d.flush ?? 0) << 8) | ((d.flags ?? 0) << 16);
      s[f + 1] = d.ctx ?? 0;
      s[f + 2] = tag;
      s[f + 3] = d.srcOff ?? 0;
      s[f + 4] = d.srcLen ?? 0;
      s[f + 5] = d.dstOff ?? 0;
      s[f + 6] = d.dstLen ?? 0;
      s[f + 7] = 0;
      s[f + 8] = 0;
      s[f + 9] = d.arg ?? 0;
      buffers.push(d.src, d.dst, undefined);
      results.push(new Promise((resolve) => this.waiting.set(tag, resolve)));
    });
    const accepted = this.native.submit(descs.length, buffers);
    expect(accepted).toBe(descs.length);
    return Promise.all(results);
  }

  async one(d: Raw): Promise<Cqe> {
    return (await this.run([d]))[0];
  }
}

// zlib.crc32 arrived in Node 20.15; compute it in JavaScript on older 20.x.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Uint8Array, seed = 0): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, seed);
  let c = ~seed >>> 0;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function patterned(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 17 + (i >>> 8)) & 0xff;
  return b;
}

const skip = binding === null;

describe.skipIf(skip)('pinned queue: addresses outside the region fault like an IOMMU', () => {
  let q: TestQueue;
  let region: Buffer;
  let abi: NonNullable<typeof binding>['abi'];
  let PINNED: number;

  beforeAll(() => {
    abi = binding!.abi;
    PINNED = abi.flag.PINNED;
    q = new TestQueue({ sva: false, depth: DEPTH, workers: 1, regionBytes: REGION, device: '' });
    region = q.native.region()!;
  });

  afterAll(() => {
    q?.native.close();
  });

  it('is a pinned queue with a region of the requested size', () => {
    const info = q.native.info();
    expect(info.sva).toBe(false);
    expect(info.regionBytes).toBe(REGION);
    expect(region).toBeInstanceOf(Buffer);
    expect(region.length).toBe(REGION);
  });

  it('a NOP with valid offsets completes with status 0', async () => {
    const c = await q.one({
      op: abi.op.NOP,
      flags: PINNED,
      srcOff: 0,
      srcLen: SLOT,
      dstOff: SLOT,
      dstLen: SLOT,
    });
    expect(c.status).toBe(0);
    // The last byte of the region is still inside it.
    const edge = await q.one({ op: abi.op.NOP, flags: PINNED, srcOff: REGION - 1, srcLen: 1 });
    expect(edge.status).toBe(0);
  });

  it('CRC32 over a region slot matches zlib.crc32 of the same bytes, seeded and unseeded', async () => {
    const data = patterned(SLOT, 1);
    data.copy(region, 3 * SLOT);
    const [whole, first] = await q.run([
      { op: abi.op.CRC32, flags: PINNED, srcOff: 3 * SLOT, srcLen: SLOT },
      { op: abi.op.CRC32, flags: PINNED, srcOff: 3 * SLOT, srcLen: 1000 },
    ]);
    expect(whole.status).toBe(0);
    expect(whole.consumed).toBe(SLOT);
    expect(whole.check).toBe(crc32(data));
    expect(first.check).toBe(crc32(data.subarray(0, 1000)));
    // arg seeds the CRC: continuing from the first 1000 bytes gives the whole slot's CRC.
    const rest = await q.one({
      op: abi.op.CRC32,
      flags: PINNED,
      srcOff: 3 * SLOT + 1000,
      srcLen: SLOT - 1000,
      arg: first.check,
    });
    expect(rest.status).toBe(0);
    expect(rest.check).toBe(crc32(data));
  });

  it('a source offset beyond the region faults with -EFAULT', async () => {
    const cases: Raw[] = [
      { op: abi.op.CRC32, flags: PINNED, srcOff: REGION, srcLen: 1 },
      { op: abi.op.CRC32, flags: PINNED, srcOff: REGION + 4096, srcLen: 16 },
      { op: abi.op.NOP, flags: PINNED, srcOff: 0xffff_fff0, srcLen: 1 },
      { op: abi.op.NOP, flags: PINNED, srcOff: 2 * REGION, srcLen: 0 },
    ];
    const got = await q.run(cases);
    expect(got.map((c) => c.status)).toEqual([EFAULT, EFAULT, EFAULT, EFAULT]);
    // A refused CRC32 computed nothing.
    expect(got[0].check).toBe(0);
    expect(got[0].consumed).toBe(0);
  });

  it('a range that starts inside but runs off the end of the region faults with -EFAULT', async () => {
    const got = await q.run([
      { op: abi.op.CRC32, flags: PINNED, srcOff: REGION - 100, srcLen: 200 },
      { op: abi.op.CRC32, flags: PINNED, srcOff: REGION - SLOT, srcLen: SLOT + 1 },
      // offset + len wraps a 32-bit sum: must not pass a naive bounds check.
      { op: abi.op.CRC32, flags: PINNED, srcOff: 0x1000, srcLen: 0xffff_f000 },
      { op: abi.op.CRC32, flags: PINNED, srcOff: 0xffff_ffff, srcLen: 0xffff_ffff },
      // Destination ranges are checked too.
      { op: abi.op.NOP, flags: PINNED, srcOff: 0, srcLen: 16, dstOff: REGION - 8, dstLen: 16 },
      { op: abi.op.NOP, flags: PINNED, srcOff: 0, srcLen: 16, dstOff: REGION + SLOT, dstLen: 16 },
    ]);
    expect(got.map((c) => c.status)).toEqual([EFAULT, EFAULT, EFAULT, EFAULT, EFAULT, EFAULT]);
  });

  it('a faulting descriptor touches nothing: its valid destination slot keeps its bytes', async () => {
    const ctx = q.native.openContext(zlib.constants.DEFLATE, 6, 15, 8, 0);
    try {
      const dstOff = 5 * SLOT;
      region.fill(0xa5, dstOff, dstOff + SLOT);
      const c = await q.one({
        op: abi.op.DEFLATE,
        flush: zlib.constants.Z_FINISH,
        flags: PINNED,
        ctx,
        srcOff: REGION - 10,
        srcLen: 4096,
        dstOff,
        dstLen: SLOT,
      });
      expect(c.status).toBe(EFAULT);
      expect(c.produced).toBe(0);
      expect(region.subarray(dstOff, dstOff + SLOT).every((b) => b === 0xa5)).toBe(true);

      // The same context still works on in-region addresses afterwards.
      const input = patterned(20_000, 7);
      input.copy(region, 4 * SLOT);
      const ok = await q.one({
        op: abi.op.DEFLATE,
        flush: zlib.constants.Z_FINISH,
        flags: PINNED,
        ctx,
        srcOff: 4 * SLOT,
        srcLen: input.length,
        dstOff,
        dstLen: SLOT,
      });
      expect(ok.status).toBe(0);
      expect(ok.consumed).toBe(input.length);
      expect(ok.flags & abi.flag.STREAM_END).toBe(abi.flag.STREAM_END);
      expect(zlib.inflateSync(region.subarray(dstOff, dstOff + ok.produced)).equals(input)).toBe(true);
    } finally {
      q.native.closeContext(ctx);
    }
  });

  it('a descriptor without the PINNED flag (a raw process address) is refused with -EFAULT', async () => {
    const src = patterned(4096, 3);
    const dst = Buffer.alloc(4096, 0x5a);
    const [crc, nop] = await q.run([
      { op: abi.op.CRC32, srcOff: 0, srcLen: src.length, src },
      { op: abi.op.NOP, srcOff: 0, srcLen: src.length, src, dstOff: 0, dstLen: dst.length, dst },
    ]);
    expect(crc.status).toBe(EFAULT);
    expect(crc.check).toBe(0);
    expect(crc.consumed).toBe(0);
    expect(nop.status).toBe(EFAULT);
    expect(dst.every((b) => b === 0x5a)).toBe(true);
  });

  it('after all of that nothing is in flight', () => {
    expect(q.native.info().inflight).toBe(0);
  });
});

describe.skipIf(skip)('SVA queue: a PINNED descriptor is malformed', () => {
  let q: TestQueue;
  let abi: NonNullable<typeof binding>['abi'];

  beforeAll(() => {
    abi = binding!.abi;
    q = new TestQueue({ sva: true, depth: DEPTH, workers: 1, regionBytes: REGION, device: '' });
  });

  afterAll(() => {
    q?.native.close();
  });

  it('has no region', () => {
    expect(q.native.info().sva).toBe(true);
    expect(q.native.region()).toBeUndefined();
  });

  it('a PINNED descriptor completes with -EINVAL, whatever its offsets', async () => {
    const got = await q.run([
      { op: abi.op.NOP, flags: abi.flag.PINNED, srcOff: 0, srcLen: 16 },
      { op: abi.op.CRC32, flags: abi.flag.PINNED, srcOff: 0, srcLen: 16 },
      { op: abi.op.CRC32, flags: abi.flag.PINNED, srcOff: REGION * 4, srcLen: 16 },
    ]);
    expect(got.map((c) => c.status)).toEqual([EINVAL, EINVAL, EINVAL]);
    expect(got[1].check).toBe(0);
  });

  it('the same CRC32 with a process address (no flag) succeeds', async () => {
    const src = patterned(10_000, 9);
    const c = await q.one({ op: abi.op.CRC32, srcOff: 100, srcLen: 9000, src });
    expect(c.status).toBe(0);
    expect(c.check).toBe(crc32(src.subarray(100, 9100)));
  });

  it('after all of that nothing is in flight', () => {
    expect(q.native.info().inflight).toBe(0);
  });
});
