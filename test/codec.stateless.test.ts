// The stateless deflate-family opcodes, driven through the descriptor queue in
// both memory modes with node:zlib as the oracle: blocks primed with the
// previous 32 KiB concatenate into one valid raw deflate stream (whichever
// codec the level selects), whole members come out in each wrapper format,
// and one-shot inflation decodes node's output and refuses bad input cleanly.
import { constants as osConstants } from 'node:os';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

import { binding } from '../src/native/binding';
import { type Completion, type Descriptor, DescriptorQueue } from '../src/ring/queue';
import { MODES } from './helpers/streams';
import { text } from './helpers/corpus';

const abi = binding!.abi;
const FIRST = abi.flag.FIRST;
const LAST = abi.flag.LAST;
const ENOSPC = -osConstants.errno.ENOSPC;
const Z_DATA_ERROR = zlib.constants.Z_DATA_ERROR;
const CODEC = { zlib: 1, isal: 2, libdeflate: 3 } as const;
const FORMAT = { raw: 0, zlib: 1, gzip: 2 } as const;
const BLOCK = 64 << 10; // fits one pinned slot
const HISTORY = 32 << 10;
const isalPresent = Boolean(binding!.codecs.isal);

function arg(level: number, format: number, noIsal = false): number {
  return (level + 1) | (format << 8) | ((noIsal ? 1 : 0) << 13);
}

function submit(queue: DescriptorQueue, d: Omit<Descriptor, 'done'>): Promise<Completion> {
  return new Promise((resolve) => queue.enqueue({ ...d, done: resolve }));
}

/** Compresses `input` as a chain of history-primed blocks; resolves the stream and per-block results. */
async function blockStream(queue: DescriptorQueue, input: Buffer, level: number, noIsal: boolean) {
  const jobs: Array<Promise<Completion>> = [];
  const outs: Buffer[] = [];
  for (let at = 0; at < input.length || at === 0; at += BLOCK) {
    const len = Math.min(BLOCK, input.length - at);
    const histStart = Math.max(0, at - HISTORY);
    const dst = Buffer.alloc(Math.min(queue.maxDescriptorBytes, len + (len >> 3) + 1024));
    outs.push(dst);
    jobs.push(
      submit(queue, {
        op: abi.op.DEFLATE_BLOCK,
        flush: 0,
        ctx: 0,
        src: input,
        srcOff: at,
        srcLen: len,
        dst,
        dstOff: 0,
        dstLen: dst.length,
        arg: arg(level, FORMAT.raw, noIsal),
        flags: (at === 0 ? FIRST : 0) | (at + BLOCK >= input.length ? LAST : 0),
        hist: input,
        histOff: histStart,
        histLen: at - histStart,
      }),
    );
    if (input.length === 0) break;
  }
  const done = await Promise.all(jobs);
  return { stream: Buffer.concat(done.map((c, i) => outs[i].subarray(0, c.produced))), done };
}

describe.each(MODES)('stateless deflate ops ($name)', ({ sva }) => {
  const queue = new DescriptorQueue(binding!, {
    sva,
    queueDepth: 64,
    workers: 2,
    pinnedBytes: 16 << 20,
    device: '',
  });
  afterAll(() => queue.close());
  const input = text(700_000, 11);

  it.each([
    { level: 1, noIsal: false },
    { level: 3, noIsal: false },
    { level: 1, noIsal: true },
    { level: 6, noIsal: false },
    { level: 9, noIsal: false },
  ])('blocks at level $level (noIsal: $noIsal) form one raw stream', async ({ level, noIsal }) => {
    const { stream, done } = await blockStream(queue, input, level, noIsal);
    expect(zlib.inflateRawSync(stream).equals(input)).toBe(true);
    const expectIsal = isalPresent && !noIsal && level === 1;
    for (const c of done) {
      expect(c.status).toBe(0);
      expect(c.detail).toBe(expectIsal ? CODEC.isal : CODEC.zlib);
    }
    // Each block reports the CRC-32 of its own input.
    done.forEach((c, i) => {
      expect(c.check).toBe(zlib.crc32(input.subarray(i * BLOCK, (i + 1) * BLOCK)));
    });
    // Priming with history keeps the size close to one serial stream's.
    const serial = zlib.deflateRawSync(input, { level }).length;
    expect(stream.length).toBeLessThan(serial * 1.1);
  });

  it.each(Object.entries(FORMAT))('a whole %s member comes from libdeflate', async (name, format) => {
    const small = input.subarray(0, 50_000);
    const dst = Buffer.alloc(60_000);
    const c = await submit(queue, {
      op: abi.op.DEFLATE_BLOCK,
      flush: 0,
      ctx: 0,
      src: small,
      srcOff: 0,
      srcLen: small.length,
      dst,
      dstOff: 0,
      dstLen: dst.length,
      arg: arg(6, format),
      flags: FIRST | LAST,
    });
    expect(c.status).toBe(0);
    expect(c.detail).toBe(CODEC.libdeflate);
    const out = dst.subarray(0, c.produced);
    const back =
      name === 'gzip'
        ? zlib.gunzipSync(out)
        : name === 'zlib'
          ? zlib.inflateSync(out)
          : zlib.inflateRawSync(out);
    expect(back.equals(small)).toBe(true);
  });

  it('reports -ENOSPC when the output cannot hold a block', async () => {
    const dst = Buffer.alloc(100);
    const c = await submit(queue, {
      op: abi.op.DEFLATE_BLOCK,
      flush: 0,
      ctx: 0,
      src: input,
      srcOff: 0,
      srcLen: BLOCK,
      dst,
      dstOff: 0,
      dstLen: dst.length,
      arg: arg(6, FORMAT.raw),
      flags: FIRST,
    });
    expect(c.status).toBe(ENOSPC);
  });

  const oneshot = (src: Buffer, dstLen: number) => {
    const dst = Buffer.alloc(dstLen);
    return submit(queue, {
      op: abi.op.INFLATE_ONESHOT,
      flush: 0,
      ctx: 0,
      src,
      srcOff: 0,
      srcLen: src.length,
      dst,
      dstOff: 0,
      dstLen: dst.length,
      arg: arg(-1, FORMAT.gzip),
    }).then((c) => ({ c, out: dst.subarray(0, c.produced) }));
  };

  it('inflates a whole gzip member in one descriptor when the output fits', async () => {
    // A pinned slot caps one descriptor at 64 KiB each way.
    const size = sva ? 200_000 : 60_000;
    const src = zlib.gzipSync(input.subarray(0, size));
    const { c, out } = await oneshot(src, size);
    expect(c.status).toBe(0);
    expect(c.consumed).toBe(src.length);
    expect(out.equals(input.subarray(0, size))).toBe(true);
  });

  it('refuses corrupt or truncated members and too-small outputs', async () => {
    const small = zlib.gzipSync(input.subarray(0, 30_000));
    const truncated = small.subarray(0, small.length - 9);
    const badCrc = Buffer.from(small);
    badCrc[small.length - 8] ^= 0xff;
    expect((await oneshot(truncated, 30_000)).c).toMatchObject({
      status: abi.statusCodec,
      detail: Z_DATA_ERROR,
    });
    expect((await oneshot(badCrc, 30_000)).c).toMatchObject({
      status: abi.statusCodec,
      detail: Z_DATA_ERROR,
    });
    expect((await oneshot(small, 1000)).c.status).toBe(ENOSPC);
    // A corrupt body may decode to garbage that overflows the output: either
    // way the one-shot fails and the caller falls back to a stateful stream.
    const corrupt = Buffer.from(small);
    corrupt[small.length >> 1] ^= 0xff;
    const { c } = await oneshot(corrupt, 30_000);
    expect([abi.statusCodec, ENOSPC]).toContain(c.status);
  });
});

describe('ISA-L', () => {
  it.skipIf(isalPresent)(`is absent here: ${binding!.codecs.isalStatus}`, () => {
    expect(binding!.codecs.isal).toBeFalsy();
  });
  it.skipIf(!isalPresent)('is loaded at run time from libisal.so.2', () => {
    expect(binding!.codecs.isalStatus).toBe('libisal.so.2');
  });
});
