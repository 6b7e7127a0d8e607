// ISA-L igzip behind inflate streams: which codec decodes (the completions'
// codec, counted in info().counters.codecRuns), which options keep zlib, and
// every place ISA-L and zlib could part ways (stream ends, flushes, errors
// mid-member, reset) compared with node:zlib on the same bytes.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, MiB, binary, text } from './helpers/corpus';
import { isalMissingReason, isalPresent, useInflateCodec } from './helpers/inflate-codecs';
import {
  type ClassName,
  type Factory,
  MODES,
  errorShape,
  expectSameBytes,
  outcome,
  ours,
  pipeThrough,
  splitWrites,
  theirs,
  useMode,
  within,
} from './helpers/streams';

const C = zlib.constants;
const DATA = Buffer.concat([text(300 * KiB, 31), binary(20 * KiB, 32), text(100 * KiB, 33)]);
const PACKED: Record<'Gunzip' | 'Inflate' | 'InflateRaw', Buffer> = {
  Gunzip: zlib.gzipSync(DATA),
  Inflate: zlib.deflateSync(DATA),
  InflateRaw: zlib.deflateRawSync(DATA),
};

function codecRuns(): { zlib: number; isal: number } {
  const { zlib: z, isal } = uaccel.info().counters!.codecRuns;
  return { zlib: z, isal };
}

/** Codec runs of the inflate steps `fn` causes. */
async function runsOf(fn: () => Promise<unknown>): Promise<{ zlib: number; isal: number }> {
  const before = codecRuns();
  await fn();
  const after = codecRuns();
  return { zlib: after.zlib - before.zlib, isal: after.isal - before.isal };
}

/** Runs `run` on uaccel's Gunzip and node's, expects the same bytes, and returns uaccel's codec runs. */
async function sameAsNode(
  run: (factory: Factory) => Promise<Buffer>,
): Promise<{ zlib: number; isal: number }> {
  let mine: Buffer | undefined;
  const runs = await runsOf(async () => {
    mine = await run(ours.Gunzip);
  });
  expectSameBytes(mine!, await run(theirs.Gunzip));
  return runs;
}

interface Trace {
  output: Buffer;
  error: Record<string, unknown> | null;
  bytesWritten: number;
}

/** Writes `input` in pieces (each waiting for its callback), ends, and records everything. */
async function trace(factory: Factory, input: Buffer, writes: number | number[], opts?: zlib.ZlibOptions) {
  const s = factory(opts);
  const out: Buffer[] = [];
  s.on('data', (c: Buffer) => out.push(c));
  const settled = new Promise<Record<string, unknown> | null>((resolve) => {
    s.once('end', () => resolve(null));
    s.once('error', (err) => resolve(errorShape(err)));
  });
  for (const piece of splitWrites(input, writes)) {
    if (s.destroyed) break;
    // A write that fails the stream never calls back: settle on the error instead.
    await Promise.race([new Promise<void>((resolve) => s.write(piece, () => resolve())), settled]);
  }
  if (!s.destroyed) s.end();
  const error = await within(10_000, settled, 'stream');
  return { output: Buffer.concat(out), error, bytesWritten: s.bytesWritten } satisfies Trace;
}

const isalTitle = isalPresent ? 'ISA-L inflate' : `ISA-L inflate (skipped: ${isalMissingReason})`;
if (!isalPresent) console.warn(`[codec.isal-inflate] skipping the ISA-L tests: ${isalMissingReason}`);

describe.each(MODES)('inflate codecs ($name)', ({ sva }) => {
  useMode(sva);

  describe('UACCEL_ISAL=0', () => {
    useInflateCodec(false);

    it('every inflate class decodes with zlib', async () => {
      for (const cls of ['Gunzip', 'Inflate', 'InflateRaw'] as const) {
        const runs = await runsOf(() => pipeThrough(ours[cls], PACKED[cls]));
        expect(runs.isal, cls).toBe(0);
        expect(runs.zlib, cls).toBeGreaterThan(0);
      }
    });
  });

  describe.skipIf(!isalPresent)(isalTitle, () => {
    useInflateCodec(true);

    it.each([
      ['Gunzip', 'Gunzip'],
      ['Inflate', 'Inflate'],
      ['InflateRaw', 'InflateRaw'],
      ['Unzip', 'Gunzip'],
      ['Unzip', 'Inflate'],
    ] as const)('%s on %s data decodes with ISA-L and gives node output', async (cls, format) => {
      const input = PACKED[format];
      let mine: Awaited<ReturnType<typeof pipeThrough>> | undefined;
      const runs = await runsOf(async () => {
        mine = await pipeThrough(ours[cls], input, 64 * KiB);
      });
      expectSameBytes(mine!.output, DATA);
      expect(mine!.stream.bytesWritten).toBe(input.length);
      expect(runs.isal).toBeGreaterThan(0);
      expect(runs.zlib).toBe(0);
    });

    it('Unzip reads each member in its own format: a zlib stream after a gzip member, as node', async () => {
      const a = text(40 * KiB, 39);
      const b = text(30 * KiB, 40);
      const inputs = [
        Buffer.concat([zlib.gzipSync(a), zlib.deflateSync(b)]),
        Buffer.concat([zlib.gzipSync(a), zlib.deflateSync(b, { windowBits: 9 }), zlib.gzipSync(a)]),
      ];
      for (const input of inputs) {
        for (const writes of [input.length, 999]) {
          const [mine, node] = await Promise.all([
            trace(ours.Unzip, input, writes),
            trace(theirs.Unzip, input, writes),
          ]);
          expectSameBytes(mine.output, node.output, `writes of ${writes}`);
          expect({ error: mine.error, bytesWritten: mine.bytesWritten }).toEqual({
            error: node.error,
            bytesWritten: node.bytesWritten,
          });
        }
      }
    });

    it('options only zlib honours keep the stream on zlib, with node output', async () => {
      const dictionary = text(2 * KiB, 34);
      const cases: Array<{ cls: ClassName; input: Buffer; opts?: zlib.ZlibOptions }> = [
        { cls: 'Inflate', input: zlib.deflateSync(DATA, { dictionary }), opts: { dictionary } },
        { cls: 'InflateRaw', input: zlib.deflateRawSync(DATA, { dictionary }), opts: { dictionary } },
        { cls: 'Inflate', input: zlib.deflateSync(DATA, { windowBits: 12 }), opts: { windowBits: 12 } },
        // A zlib header asking for a small window: zlib reads the header and keeps the stream.
        { cls: 'Inflate', input: zlib.deflateSync(DATA, { windowBits: 9 }) },
        { cls: 'Unzip', input: zlib.deflateSync(DATA, { windowBits: 10 }) },
      ];
      for (const { cls, input, opts } of cases) {
        let mine: Awaited<ReturnType<typeof outcome>> | undefined;
        const runs = await runsOf(async () => {
          mine = await outcome(ours[cls], input, 64 * KiB, opts);
        });
        expect(mine, `${cls} ${JSON.stringify(opts)}`).toEqual(
          await outcome(theirs[cls], input, 64 * KiB, opts),
        );
        expect(runs.isal, `${cls} ${JSON.stringify(opts)}`).toBe(0);
      }
    });

    it('bytesWritten matches node where data follows the stream (raw, zlib, gzip, padding)', async () => {
      const small = text(50 * KiB, 35);
      const cases: Array<[ClassName, Buffer]> = [
        ['InflateRaw', Buffer.concat([zlib.deflateRawSync(small), Buffer.from('trailing bytes')])],
        ['InflateRaw', Buffer.concat([zlib.deflateRawSync(small, { level: 1 }), Buffer.alloc(9)])],
        ['Inflate', Buffer.concat([zlib.deflateSync(small), zlib.deflateSync(small)])],
        ['Gunzip', Buffer.concat([zlib.gzipSync(small), Buffer.alloc(5)])],
        ['Gunzip', Buffer.concat([zlib.gzipSync(small), zlib.gzipSync(small), Buffer.from('x')])],
      ];
      for (const [cls, input] of cases) {
        for (const writes of [input.length, 1000, [7, 3000]]) {
          const [mine, node] = await Promise.all([
            trace(ours[cls], input, writes),
            trace(theirs[cls], input, writes),
          ]);
          const what = `${cls}, ${input.length} bytes in writes of ${JSON.stringify(writes)}`;
          expectSameBytes(mine.output, node.output, what);
          expect({ error: mine.error, bytesWritten: mine.bytesWritten }, what).toEqual({
            error: node.error,
            bytesWritten: node.bytesWritten,
          });
        }
      }
    });

    it('a stream cut short and read with finishFlush Z_SYNC_FLUSH gives every byte node gives', async () => {
      const input = PACKED.Gunzip;
      for (const cut of [5000, 20_011, 77_777, input.length - 9]) {
        for (const writes of [cut, 4 * KiB]) {
          const opts = { finishFlush: C.Z_SYNC_FLUSH };
          const [mine, node] = await Promise.all([
            trace(ours.Gunzip, input.subarray(0, cut), writes, opts),
            trace(theirs.Gunzip, input.subarray(0, cut), writes, opts),
          ]);
          expectSameBytes(mine.output, node.output, `cut at ${cut}, writes of ${writes}`);
          expect(mine.error).toEqual(node.error);
        }
      }
    });

    it('sync-flushed messages decode on arrival and stay on ISA-L', async () => {
      const d = zlib.createDeflate();
      const pending: Buffer[] = [];
      d.on('data', (c: Buffer) => pending.push(c));
      const messages = Array.from({ length: 30 }, (_, i) => `message ${i} ${'abc'.repeat(i * 50)}\n`);
      const pieces: Buffer[] = [];
      for (const m of messages) {
        d.write(m);
        await new Promise<void>((resolve) => d.flush(C.Z_SYNC_FLUSH, () => resolve()));
        pieces.push(Buffer.concat(pending.splice(0)));
      }
      const inf = ours.Inflate({ flush: C.Z_SYNC_FLUSH });
      let got = '';
      inf.on('data', (c: Buffer) => (got += c.toString()));
      const runs = await runsOf(async () => {
        for (let i = 0; i < pieces.length; i++) {
          await new Promise<void>((resolve) => inf.write(pieces[i], () => resolve()));
          await new Promise((resolve) => setImmediate(resolve));
          expect(got.endsWith(messages[i]), `message ${i} on arrival`).toBe(true);
        }
      });
      inf.destroy();
      expect(runs.zlib).toBe(0);
      expect(runs.isal).toBeGreaterThanOrEqual(pieces.length);
    });

    it('a Z_BLOCK flush mid-member hands the member to zlib: output as node', async () => {
      const input = PACKED.Gunzip;
      const run = async (factory: Factory) => {
        const s = factory();
        const out: Buffer[] = [];
        s.on('data', (c: Buffer) => out.push(c));
        const ended = new Promise<void>((resolve, reject) => s.once('end', resolve).once('error', reject));
        await new Promise<void>((resolve) => s.write(input.subarray(0, 60_000), () => resolve()));
        await new Promise<void>((resolve) => s.flush(C.Z_BLOCK, () => resolve()));
        s.end(input.subarray(60_000));
        await ended;
        return Buffer.concat(out);
      };
      const runs = await sameAsNode(run);
      expect(runs.isal).toBeGreaterThan(0);
      expect(runs.zlib).toBeGreaterThan(0);
      // And a stream whose every write flushes with Z_BLOCK stays node's.
      const opts = { flush: C.Z_BLOCK };
      expect(await outcome(ours.Inflate, PACKED.Inflate, 16 * KiB, opts)).toEqual(
        await outcome(theirs.Inflate, PACKED.Inflate, 16 * KiB, opts),
      );
    });

    it('an error ISA-L meets mid-member is node error, after output node agrees with', async () => {
      // Damage zlib names precisely where ISA-L only says "invalid block":
      // 64 bytes of ones (an invalid block type) and 64 flipped bytes (in raw
      // deflate, an invalid code lengths set).
      const damages: Array<(b: Buffer) => void> = [
        (b) => b.fill(0xff, Math.floor(b.length * 0.2), Math.floor(b.length * 0.2) + 64),
        (b) => {
          for (let k = Math.floor(b.length * 0.6), end = k + 64; k < end; k++) b[k] ^= 0xa5;
        },
      ];
      for (const cls of ['Gunzip', 'Inflate', 'InflateRaw'] as const) {
        for (const [d, damage] of damages.entries()) {
          const bad = Buffer.from(PACKED[cls]);
          damage(bad);
          for (const writes of [bad.length, 1000]) {
            const opts = { chunkSize: 4 * KiB };
            const [mine, node] = await Promise.all([
              trace(ours[cls], bad, writes, opts),
              trace(theirs[cls], bad, writes, opts),
            ]);
            const what = `${cls}, damage ${d}, writes of ${writes}`;
            expect(node.error, what).not.toBeNull();
            expect(mine.error, what).toEqual(node.error);
            const n = Math.min(mine.output.length, node.output.length);
            expectSameBytes(mine.output.subarray(0, n), node.output.subarray(0, n), what);
          }
        }
      }
    });

    it('a member too long to replay still fails with node error code, errno and class', async () => {
      // ISA-L keeps the compressed bytes of the current member for zlib to
      // replay only up to 256 KiB. Past that an ISA-L error is mapped onto
      // zlib's nearest wording: code, errno and class are node's, but the
      // message can name a different symptom of the same damage (ISA-L does
      // not tell, say, an invalid code lengths set from an invalid literal).
      const long = zlib.gzipSync(text(3 * MiB, 36));
      expect(long.length).toBeGreaterThan(512 * KiB);
      const bad = Buffer.from(long);
      bad[Math.floor(bad.length * 0.8)] ^= 0xff;
      const [mine, node] = await Promise.all([
        trace(ours.Gunzip, bad, 64 * KiB),
        trace(theirs.Gunzip, bad, 64 * KiB),
      ]);
      expect(node.error).not.toBeNull();
      const { message, ...shape } = mine.error!;
      const { message: nodeMessage, ...nodeShape } = node.error!;
      expect(shape).toEqual(nodeShape);
      expect([
        nodeMessage,
        'invalid block type',
        'invalid literal/length code',
        'invalid distance too far back',
        'incorrect data check',
      ]).toContain(message);
      const n = Math.min(mine.output.length, node.output.length);
      expectSameBytes(mine.output.subarray(0, n), node.output.subarray(0, n));
    });

    it('reset() after a member restarts ISA-L on the next one, as node restarts zlib', async () => {
      const a = zlib.gzipSync(text(80 * KiB, 37));
      const b = zlib.gzipSync(text(90 * KiB, 38));
      const run = async (factory: Factory) => {
        const s = factory();
        const out: Buffer[] = [];
        s.on('data', (c: Buffer) => out.push(c));
        const ended = new Promise<void>((resolve, reject) => s.once('end', resolve).once('error', reject));
        await new Promise<void>((resolve) => s.write(a.subarray(0, 1000), () => resolve()));
        s.reset();
        s.end(b);
        await ended;
        return Buffer.concat(out);
      };
      const runs = await sameAsNode(run);
      expect(runs.zlib).toBe(0);
    });
  });
});
