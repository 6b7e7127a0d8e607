// Backpressure: a slow consumer slows the codec instead of growing buffers,
// write() reports a full stream, output waiting for a reader stays bounded
// (also for a decompression bomb), and a small ring shared by hundreds of
// streams makes them wait, never fail. Streams here run node's serial zlib
// (its bytes are the oracle); the bound for parallel blocks is checked in
// test/stream.blocks.test.ts.
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, MiB, binary, prng, text } from './helpers/corpus';
import {
  MODES,
  SERIAL,
  type ZStream,
  expectSameBytes,
  ours,
  pipeThrough,
  splitWrites,
  theirs,
  within,
} from './helpers/streams';
import { useMode } from './helpers/streams';

/**
 * How far past its highWaterMark a stream's readable buffer may grow: one
 * codec step's output. A uaccel step writes at most one output buffer
 * (64 KiB, or chunkSize if larger) and pushes it in chunkSize slices before it
 * can see the reader is full.
 */
function readableBound(s: ZStream, chunkSize = zlib.constants.Z_DEFAULT_CHUNK): number {
  return s.readableHighWaterMark + Math.max(64 * KiB, chunkSize) + chunkSize;
}

function slowSink(delayMs: number, sample: () => void) {
  const parts: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 16 * KiB,
    write(chunk: Buffer, _enc, cb) {
      sample();
      parts.push(chunk);
      setTimeout(cb, delayMs);
    },
  });
  return { sink, output: () => Buffer.concat(parts) };
}

function source(data: Buffer, writeSize: number): Readable {
  return Readable.from(splitWrites(data, writeSize), { objectMode: false });
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(MODES)('backpressure ($name)', ({ sva }) => {
  useMode(sva, SERIAL);

  it.each([
    {
      what: 'Gzip of incompressible data',
      cls: 'Gzip' as const,
      data: binary(3 * MiB, 111),
      writeSize: 64 * KiB,
    },
    {
      what: 'Gunzip of text (output 4x input)',
      cls: 'Gunzip' as const,
      data: zlib.gzipSync(text(4 * MiB, 112)),
      writeSize: 256 * KiB,
    },
  ])(
    '$what into a slow consumer: correct output, readable buffer bounded',
    async ({ cls, data, writeSize }) => {
      const s = ours[cls]();
      let peak = 0;
      const sample = () => {
        peak = Math.max(peak, s.readableLength);
      };
      const timer = setInterval(sample, 1);
      const { sink, output } = slowSink(1, sample);
      try {
        await within(30_000, pipeline(source(data, writeSize), s, sink), 'pipeline');
      } finally {
        clearInterval(timer);
      }
      const expected = cls === 'Gzip' ? data : zlib.gunzipSync(data);
      const got = cls === 'Gzip' ? zlib.gunzipSync(output()) : output();
      expectSameBytes(got, expected, 'through the pipeline');
      if (cls === 'Gzip')
        expectSameBytes(output(), zlib.gzipSync(data), "compressed (node's bytes for 64 KiB writes)");
      expect(peak, 'peak readableLength').toBeLessThanOrEqual(readableBound(s));
    },
    40_000,
  );

  it.each([
    { name: 'Gzip', factory: ours.Gzip },
    { name: 'node Gzip (reference)', factory: theirs.Gzip },
  ])(
    '$name: with nobody reading, write() returns false and stays false; reading drains it',
    async ({ factory }) => {
      const s = factory();
      const data = binary(2 * MiB, 113);
      const pieces = splitWrites(data, 1 * KiB);
      // Write as a well-behaved producer does (waiting for 'drain' after a
      // false) until 'drain' stops coming: the unread output has stalled the stream.
      let i = 0;
      let stalled = false;
      while (i < pieces.length && !stalled) {
        if (!s.write(pieces[i++])) {
          const drained = await Promise.race([
            once(s, 'drain').then(() => true),
            tick(150).then(() => false),
          ]);
          stalled = !drained;
        }
      }
      expect(stalled, 'the stream stopped draining without a reader').toBe(true);
      expect(s.writableNeedDrain).toBe(true);
      expect(i, 'writes accepted before the stall').toBeLessThan(pieces.length);
      expect(s.readableLength, 'unread output').toBeLessThanOrEqual(readableBound(s));
      expect(s.writableLength, 'unprocessed input').toBeLessThanOrEqual(s.writableHighWaterMark + KiB);

      const parts: Buffer[] = [];
      const drained = once(s, 'drain');
      s.on('data', (c: Buffer) => parts.push(c));
      const ended = once(s, 'end');
      await within(10_000, drained, 'drain after reading');
      for (; i < pieces.length; i++) {
        if (!s.write(pieces[i])) await once(s, 'drain');
      }
      s.end();
      await within(20_000, ended, 'end');
      expectSameBytes(zlib.gunzipSync(Buffer.concat(parts)), data, 'decompressed');
    },
    30_000,
  );

  it.each([{ chunkSize: zlib.constants.Z_DEFAULT_CHUNK }, { chunkSize: 256 * KiB }])(
    'a decompression bomb with no reader stays bounded (chunkSize $chunkSize)',
    async ({ chunkSize }) => {
      const plain = Buffer.alloc(16 * MiB); // zeros: 16 MiB from ~16 KiB
      const bomb = zlib.gzipSync(plain, { level: 9 });
      for (const factory of [ours.Gunzip, theirs.Gunzip]) {
        const s = factory({ chunkSize });
        s.write(bomb);
        s.end();
        await tick(150);
        expect(s.readableLength, 'buffered while paused').toBeLessThanOrEqual(readableBound(s, chunkSize));
        let total = 0;
        s.on('data', (c: Buffer) => {
          total += c.length;
          expect(c.every((b) => b === 0)).toBe(true);
        });
        await within(20_000, once(s, 'end'), 'end');
        expect(total).toBe(plain.length);
      }
    },
    30_000,
  );

  it('pause() and resume() mid-stream: nothing lost, nothing duplicated', async () => {
    const data = text(2 * MiB, 114);
    const packed = zlib.gzipSync(data);
    const s = ours.Gunzip();
    const parts: Buffer[] = [];
    let n = 0;
    s.on('data', (c: Buffer) => {
      parts.push(c);
      if (++n % 10 === 0) {
        s.pause();
        setTimeout(() => s.resume(), 2);
      }
    });
    const ended = once(s, 'end');
    for (const piece of splitWrites(packed, 32 * KiB)) {
      if (!s.write(piece)) await once(s, 'drain');
    }
    s.end();
    await within(20_000, ended, 'end');
    expectSameBytes(Buffer.concat(parts), data, 'decompressed');
  }, 30_000);

  describe('300 streams on a ring of depth 8', () => {
    beforeAll(async () => {
      uaccel.configure({ sva, queueDepth: 8 });
      const probe = uaccel.createGzip();
      expect(uaccel.info()).toMatchObject({ sva, queueDepth: 8, open: true });
      probe.end();
      probe.resume();
      await once(probe, 'end');
    });
    afterAll(() => {
      uaccel.configure({ queueDepth: 256 });
    });

    it("all complete with node's bytes: a full queue means waiting, not failure", async () => {
      const next = prng(115);
      const jobs = Array.from({ length: 300 }, (_, i) => {
        const size = [0, 1, 3 * KiB, 40 * KiB, 100 * KiB, 300 * KiB][next() % 6];
        const plain = (i % 2 ? text : binary)(size, 2000 + i);
        const kind = i % 3; // 0: Gzip stream, 1: Gunzip stream, 2: one-shot deflate
        return {
          i,
          kind,
          plain,
          packed: kind === 1 ? zlib.gzipSync(plain) : plain,
          writeSize: [1000, 16 * KiB, 70 * KiB][next() % 3],
        };
      });
      const before = uaccel.info().counters;
      const run = (j: (typeof jobs)[number]) => {
        if (j.kind === 0) return pipeThrough(ours.Gzip, j.plain, j.writeSize).then((r) => r.output);
        if (j.kind === 1) return pipeThrough(ours.Gunzip, j.packed, j.writeSize).then((r) => r.output);
        return new Promise<Buffer>((resolve, reject) =>
          // blockSize 0: node's serial path, so the bytes can be compared with node's.
          uaccel.deflate(j.plain, { blockSize: 0 }, (err, out) => (err ? reject(err) : resolve(out))),
        );
      };
      const results = await within(60_000, Promise.all(jobs.map(run)), '300 streams');
      for (const j of jobs) {
        const expected =
          j.kind === 0
            ? (await pipeThrough(theirs.Gzip, j.plain, j.writeSize)).output
            : j.kind === 1
              ? j.plain
              : zlib.deflateSync(j.plain);
        expectSameBytes(results[j.i], expected, `job ${j.i} (kind ${j.kind}, ${j.plain.length} B)`);
      }
      const after = uaccel.info();
      expect(after.queueDepth).toBe(8);
      expect(after.counters.descriptors - before.descriptors).toBeGreaterThan(300);
    }, 90_000);
  });
});
