// The one-shot forms: callbacks, *Sync and util.promisify, with every input
// type node accepts, `info: true`, maxOutputLength, bad arguments, and many
// concurrent calls sharing (and batching on) one queue.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, binary, prng, runs, text } from './helpers/corpus';
import { serialOneShots } from './helpers/serial';
import { MODES, errorShape, expectSameBytes, useMode, within } from './helpers/streams';

// The parity tests here compare against node's exact bytes, so they use
// node's serial path; the default whole-member path has its own tests.
const serial = serialOneShots(uaccel);

const METHODS = ['gzip', 'gunzip', 'deflate', 'inflate', 'deflateRaw', 'inflateRaw', 'unzip'] as const;
type Method = (typeof METHODS)[number];
const COMPRESSING: Record<Method, boolean> = {
  gzip: true,
  deflate: true,
  deflateRaw: true,
  gunzip: false,
  inflate: false,
  inflateRaw: false,
  unzip: false,
};
/** What each method is fed: plain data for compressors, node-made compressed data for decompressors. */
const PLAIN = Buffer.concat([text(30 * KiB, 101), runs(50 * KiB, 102), binary(5 * KiB, 103)]);
const INPUT: Record<Method, Buffer> = {
  gzip: PLAIN,
  deflate: PLAIN,
  deflateRaw: PLAIN,
  gunzip: zlib.gzipSync(PLAIN),
  inflate: zlib.deflateSync(PLAIN),
  inflateRaw: zlib.deflateRawSync(PLAIN),
  unzip: zlib.deflateSync(PLAIN),
};

type Cb = (err: Error | null, result: unknown) => void;
type AsyncFn = (input: unknown, optsOrCb: unknown, cb?: Cb) => void;
type SyncFn = (input: unknown, opts?: unknown) => unknown;
const asyncOf = (lib: object, m: Method) => (lib as Record<string, AsyncFn>)[m];
const syncOf = (lib: object, m: Method) => (lib as Record<string, SyncFn>)[`${m}Sync`];

function call(lib: object, m: Method, input: unknown, opts?: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cb: Cb = (err, result) => (err ? reject(err) : resolve(result as Buffer));
    if (opts === undefined) asyncOf(lib, m)(input, cb);
    else asyncOf(lib, m)(input, opts, cb);
  });
}

type Shape = { ok: true; value: unknown } | { ok: false; error: Record<string, unknown> };
function trySync(fn: () => unknown): Shape {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}
async function tryAsync(fn: () => Promise<unknown>): Promise<Shape> {
  try {
    return { ok: true, value: await within(5_000, fn(), 'one-shot') };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}

/** Views of the same bytes as every input type node's one-shots accept. */
function asInputs(data: Buffer): Array<[string, unknown]> {
  const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
  // An offset view into a larger ArrayBuffer, to catch byteOffset mistakes.
  const padded = new Uint8Array(data.length + 24);
  padded.set(data, 16);
  const views: Array<[string, unknown]> = [
    ['Buffer', Buffer.from(data)],
    ['Uint8Array', new Uint8Array(ab)],
    ['offset Uint8Array', padded.subarray(16, 16 + data.length)],
    ['DataView', new DataView(padded.buffer, 16, data.length)],
    ['ArrayBuffer', ab],
  ];
  if (data.length % 2 === 0) views.push(['Uint16Array', new Uint16Array(ab)]);
  return views;
}

describe.each(MODES)('one-shots ($name)', ({ sva }) => {
  useMode(sva);

  describe.each(METHODS)('%s', (m) => {
    const input = INPUT[m];

    it.each(asInputs(input))(
      '%s input: callback, Sync and promisified results equal node',
      async (_kind, view) => {
        const expected = syncOf(zlib, m)(view) as Buffer;
        expectSameBytes(syncOf(serial, m)(view) as Buffer, expected, 'Sync');
        expectSameBytes(await call(serial, m, view), expected, 'callback');
        const promised = promisify(asyncOf(serial, m) as (i: unknown, cb: Cb) => void) as (
          i: unknown,
        ) => Promise<Buffer>;
        expectSameBytes(await promised(view), expected, 'promisified');
      },
    );

    if (COMPRESSING[m]) {
      it("string input (and options) give node's bytes", async () => {
        const s = text(12 * KiB, 104).toString('latin1') + ' ünïcödé ✓ 𝄞';
        for (const opts of [
          undefined,
          { level: 1 },
          { level: 9, strategy: zlib.constants.Z_RLE, windowBits: 10 },
        ]) {
          const expected = syncOf(zlib, m)(s, opts) as Buffer;
          expectSameBytes(syncOf(serial, m)(s, opts) as Buffer, expected, `Sync ${JSON.stringify(opts)}`);
          expectSameBytes(await call(serial, m, s, opts), expected, `callback ${JSON.stringify(opts)}`);
        }
      });
    }

    it('info: true returns { buffer, engine } like node', async () => {
      const mineSync = syncOf(serial, m)(input, { info: true }) as {
        buffer: Buffer;
        engine: zlib.Zlib & { bytesWritten: number };
      };
      const nodeSync = syncOf(zlib, m)(input, { info: true }) as {
        buffer: Buffer;
        engine: zlib.Zlib & { bytesWritten: number };
      };
      expect(Object.keys(mineSync).sort()).toEqual(Object.keys(nodeSync).sort());
      expectSameBytes(mineSync.buffer, nodeSync.buffer, 'Sync buffer');
      expect(mineSync.engine.bytesWritten).toBe(nodeSync.engine.bytesWritten);
      const cls = (m.charAt(0).toUpperCase() + m.slice(1)) as 'Gzip';
      expect(mineSync.engine).toBeInstanceOf(uaccel[cls]);

      const mine = (await call(serial, m, input, { info: true })) as unknown as {
        buffer: Buffer;
        engine: unknown;
      };
      const node = (await call(zlib, m, input, { info: true })) as unknown as {
        buffer: Buffer;
        engine: unknown;
      };
      expect(Object.keys(mine).sort()).toEqual(Object.keys(node).sort());
      expectSameBytes(mine.buffer, node.buffer, 'callback buffer');
      expect(mine.engine).toBeInstanceOf(uaccel[cls]);
    });

    it.each([1, 100, 20 * KiB])(
      'maxOutputLength %i: same RangeError (or result) as node, sync and async',
      async (max) => {
        const opts = { maxOutputLength: max };
        const mineSync = trySync(() => syncOf(serial, m)(input, opts));
        const nodeSync = trySync(() => syncOf(zlib, m)(input, opts));
        expect(mineSync).toEqual(nodeSync);
        const [mine, node] = await Promise.all([
          tryAsync(() => call(serial, m, input, opts)),
          tryAsync(() => call(zlib, m, input, opts)),
        ]);
        expect(mine).toEqual(node);
      },
    );

    it("maxOutputLength exceeded is ERR_BUFFER_TOO_LARGE (pinning node's answer)", async () => {
      const opts = { maxOutputLength: 64 };
      const r = trySync(() => syncOf(serial, m)(input, opts));
      expect(r).toMatchObject({ ok: false, error: { ctor: 'RangeError', code: 'ERR_BUFFER_TOO_LARGE' } });
      const a = await tryAsync(() => call(serial, m, input, opts));
      expect(a).toMatchObject({ ok: false, error: { ctor: 'RangeError', code: 'ERR_BUFFER_TOO_LARGE' } });
    });

    it.each([
      ['a number', 42],
      ['a plain object', { length: 3 }],
      ['undefined', undefined],
      ['a boolean', true],
    ])('%s as input: same outcome as node, sync and async', async (_what, bad) => {
      expect(trySync(() => syncOf(serial, m)(bad))).toEqual(trySync(() => syncOf(zlib, m)(bad)));
      const [mine, node] = await Promise.all([
        tryAsync(() => call(serial, m, bad)),
        tryAsync(() => call(zlib, m, bad)),
      ]);
      expect(mine).toEqual(node);
    });

    it('a missing callback throws like node', () => {
      const mine = trySync(() => (asyncOf(serial, m) as (i: unknown, o?: unknown) => void)(input, {}));
      const node = trySync(() => (asyncOf(zlib, m) as (i: unknown, o?: unknown) => void)(input, {}));
      expect(mine).toEqual(node);
      expect(mine.ok).toBe(false);
    });
  });

  it("util.promisify(serial.gzip) resolves to node's bytes and rejects with node's error", async () => {
    const gzip = promisify(serial.gzip);
    const gunzip = promisify(serial.gunzip);
    expectSameBytes(await gzip(PLAIN), zlib.gzipSync(PLAIN), 'gzip');
    // (uaccel's declared types do not offer node's promisified (buffer, options) overload.)
    const gzipWithOptions = gzip as unknown as (b: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>;
    expectSameBytes(
      await gzipWithOptions(PLAIN, { level: 2 }),
      zlib.gzipSync(PLAIN, { level: 2 }),
      'gzip level 2',
    );
    expectSameBytes(await gunzip(zlib.gzipSync(PLAIN)), PLAIN, 'gunzip');
    const bad = Buffer.from('definitely not gzip');
    const [mine, node] = await Promise.all([
      tryAsync(() => gunzip(bad)),
      tryAsync(() => promisify(zlib.gunzip)(bad)),
    ]);
    expect(mine).toEqual(node);
    expect(mine.ok).toBe(false);
  });

  it('inputs and outputs larger than one 8 MiB SVA descriptor: Sync and callback equal node', async () => {
    const big = Buffer.concat([text(7 * 1024 * KiB, 106), binary(2 * 1024 * KiB, 107)]);
    const packed = zlib.gzipSync(big, { level: 1 });
    expectSameBytes(serial.gzipSync(big, { level: 1 }), packed, 'gzipSync');
    expectSameBytes(await call(serial, 'gzip', big, { level: 1 }), packed, 'gzip');
    expectSameBytes(serial.gunzipSync(packed), big, 'gunzipSync');
    expectSameBytes(await call(serial, 'gunzip', packed), big, 'gunzip');
  }, 30_000);

  it('500 concurrent one-shots of mixed sizes are all correct, and they were batched', async () => {
    const next = prng(105);
    const jobs = Array.from({ length: 500 }, (_, i) => {
      const m = METHODS[i % METHODS.length];
      const size = [0, 1, 100, 4 * KiB, 40 * KiB, 150 * KiB][next() % 6];
      const plain = (i % 3 === 0 ? binary : text)(size, 1000 + i);
      const input = COMPRESSING[m]
        ? plain
        : (syncOf(
            zlib,
            m === 'inflate' || m === 'unzip' ? 'deflate' : m === 'gunzip' ? 'gzip' : 'deflateRaw',
          )(plain) as Buffer);
      return { m, input, expected: syncOf(zlib, m)(input) as Buffer };
    });
    const before = uaccel.info().counters;
    const results = await within(
      30_000,
      Promise.all(jobs.map(({ m, input }) => call(serial, m, input))),
      '500 one-shots',
    );
    const after = uaccel.info().counters;
    results.forEach((r, i) =>
      expectSameBytes(r, jobs[i].expected, `job ${i} (${jobs[i].m}, ${jobs[i].input.length} B)`),
    );
    const descriptors = after.descriptors - before.descriptors;
    const batches = after.batches - before.batches;
    expect(descriptors).toBeGreaterThanOrEqual(500);
    expect(descriptors / batches, 'descriptors per submit during the burst').toBeGreaterThan(1);
    expect(after.averageBatch).toBeGreaterThan(1);
  }, 60_000);
});
