// Round trips between uaccel and node:zlib in both directions, and the
// compressed bytes themselves: the software device runs node's own zlib, so
// at the same options and the same write pattern its output must be node's
// byte for byte (under pinned memory only while no write is split, i.e. every
// write is at most one 64 KiB descriptor).
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, MiB, binary, compressed, runs, text } from './helpers/corpus';
import {
  type ClassName,
  COMPRESSORS,
  MODES,
  SERIAL,
  PAIRS,
  PINNED_DESCRIPTOR_BYTES,
  expectSameBytes,
  outcome,
  ours,
  pipeThrough,
  theirs,
  useMode,
} from './helpers/streams';

const { constants: C } = zlib;

const SAMPLES = [
  { name: 'text', data: text(150 * KiB, 11) },
  { name: 'binary', data: binary(70 * KiB, 12) },
  { name: 'runs', data: runs(100 * KiB, 13) },
  { name: 'compressed', data: compressed(40 * KiB, 14) },
];
/** Smaller input for the wide option tables. */
const SMALL = Buffer.concat([text(40 * KiB, 21), runs(8 * KiB, 22), binary(2 * KiB, 23)]);
const WRITE = 16 * KiB;

/** Compress with both libraries under the same options and write pattern. */
async function compressBoth(
  cls: ClassName,
  data: Uint8Array,
  opts: zlib.ZlibOptions = {},
  writeSize = WRITE,
) {
  const [mine, node] = await Promise.all([
    pipeThrough(ours[cls], data, writeSize, { ...opts }),
    pipeThrough(theirs[cls], data, writeSize, { ...opts }),
  ]);
  return { mine: mine.output, node: node.output };
}

describe.each(MODES)('round trips ($name)', ({ sva }) => {
  useMode(sva, SERIAL);

  describe.each(PAIRS)('$comp -> $decomp', ({ comp, decomp }) => {
    it.each(SAMPLES)('$name: uaccel compresses, node decompresses; bytes equal node', async ({ data }) => {
      const { mine, node } = await compressBoth(comp, data);
      expectSameBytes(mine, node, 'compressed');
      const back = await pipeThrough(theirs[decomp], mine, 7 * KiB);
      expectSameBytes(back.output, data, 'decompressed');
    });

    it.each(SAMPLES)('$name: node compresses, uaccel decompresses', async ({ data }) => {
      const node = await pipeThrough(theirs[comp], data, WRITE);
      const back = await pipeThrough(ours[decomp], node.output, 5 * KiB);
      expectSameBytes(back.output, data, 'decompressed');
    });

    it('decompresses in one write and in 1-byte writes', async () => {
      const data = SAMPLES[0].data.subarray(0, 20 * KiB);
      const node = await pipeThrough(theirs[comp], data, WRITE);
      for (const writeSize of [node.output.length, 1]) {
        const back = await pipeThrough(ours[decomp], node.output, writeSize);
        expectSameBytes(back.output, data, `decompressed (writes of ${writeSize})`);
      }
    });
  });

  describe('writes larger than one pinned descriptor', () => {
    const big = Buffer.concat([text(700 * KiB, 31), binary(300 * KiB, 32), runs(200 * KiB, 33)]);

    it.each(COMPRESSORS)('%s: one 1.2 MiB write round-trips through node', async (cls) => {
      const mine = await pipeThrough(ours[cls], big, big.length);
      const dec = cls === 'Deflate' ? 'Inflate' : cls === 'Gzip' ? 'Gunzip' : 'InflateRaw';
      const back = await pipeThrough(theirs[dec], mine.output, 64 * KiB);
      expectSameBytes(back.output, big, 'decompressed');
      if (sva) {
        // Under SVA a 1.2 MiB write is a single descriptor: node's bytes exactly.
        const node = await pipeThrough(theirs[cls], big, big.length);
        expectSameBytes(mine.output, node.output, 'compressed');
      }
    });

    it.each(COMPRESSORS)('%s: writes of exactly 64 KiB equal node byte for byte', async (cls) => {
      const { mine, node } = await compressBoth(cls, big, {}, PINNED_DESCRIPTOR_BYTES);
      expectSameBytes(mine, node, 'compressed');
    });

    it('a 1.2 MiB compressed write decompresses through uaccel', async () => {
      const node = zlib.gzipSync(big, { level: 1 });
      const back = await pipeThrough(ours.Gunzip, node, node.length);
      expectSameBytes(back.output, big, 'decompressed');
    });
  });

  describe.each(COMPRESSORS)('%s options', (cls) => {
    const dec: ClassName = cls === 'Deflate' ? 'Inflate' : cls === 'Gzip' ? 'Gunzip' : 'InflateRaw';

    async function checkOptions(opts: zlib.ZlibOptions, data: Uint8Array = SMALL, writeSize = WRITE) {
      const { mine, node } = await compressBoth(cls, data, opts, writeSize);
      expectSameBytes(mine, node, `compressed with ${JSON.stringify(opts)}`);
      const back = zlib[`${dec.charAt(0).toLowerCase()}${dec.slice(1)}Sync` as 'inflateSync'](mine, {
        windowBits: opts.windowBits === undefined ? undefined : 15,
      });
      expectSameBytes(back, data, 'decompressed');
    }

    it.each([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])('level %i', (level) => checkOptions({ level }));

    it.each([
      ['Z_DEFAULT_STRATEGY', C.Z_DEFAULT_STRATEGY],
      ['Z_FILTERED', C.Z_FILTERED],
      ['Z_HUFFMAN_ONLY', C.Z_HUFFMAN_ONLY],
      ['Z_RLE', C.Z_RLE],
      ['Z_FIXED', C.Z_FIXED],
    ])('strategy %s', (_name, strategy) => checkOptions({ strategy }));

    it.each([1, 9])('memLevel %i', (memLevel) => checkOptions({ memLevel }));

    const windows = cls === 'Gzip' ? [9, 10, 11, 12, 13, 14, 15] : [8, 9, 10, 11, 12, 13, 14, 15];
    it.each(windows)(
      'windowBits %i: bytes equal node, and decoding at that window matches node',
      async (windowBits) => {
        await checkOptions({ windowBits });
        // Decompressing with the same windowBits: same output or the same error as node.
        const packed = zlib[`${cls.charAt(0).toLowerCase()}${cls.slice(1)}Sync` as 'deflateSync'](SMALL, {
          windowBits,
        });
        const [mine, node] = await Promise.all([
          outcome(ours[dec], packed, WRITE, { windowBits }),
          outcome(theirs[dec], packed, WRITE, { windowBits }),
        ]);
        expect(mine).toEqual(node);
      },
    );

    it('level 9, Z_FILTERED, windowBits 10, memLevel 2 together', () =>
      checkOptions({ level: 9, strategy: C.Z_FILTERED, windowBits: 10, memLevel: 2 }));

    it.each([
      [64, -1],
      [64, 0],
      [MiB, -1],
      [MiB, 0],
    ])('chunkSize %i, level %i: bytes equal node, data chunks within chunkSize', async (chunkSize, level) => {
      const data = SAMPLES[1].data; // incompressible: output larger than input
      const [mine, node] = await Promise.all([
        pipeThrough(ours[cls], data, WRITE, { chunkSize, level }),
        pipeThrough(theirs[cls], data, WRITE, { chunkSize, level }),
      ]);
      expectSameBytes(mine.output, node.output, 'compressed');
      expect(Math.max(...mine.chunks.map((c) => c.length))).toBeLessThanOrEqual(chunkSize);
      const back = await pipeThrough(ours[dec], mine.output, WRITE, { chunkSize });
      expectSameBytes(back.output, data, 'decompressed');
      expect(Math.max(...back.chunks.map((c) => c.length))).toBeLessThanOrEqual(chunkSize);
    });
  });

  describe('dictionary', () => {
    const dictionary = text(2 * KiB, 41);
    const data = Buffer.concat([
      dictionary.subarray(100, 1500),
      text(10 * KiB, 42),
      dictionary.subarray(0, 600),
    ]);
    const other = text(2 * KiB, 43);

    it.each([
      ['Deflate', 'Inflate'],
      ['DeflateRaw', 'InflateRaw'],
    ] as const)('%s with a dictionary equals node and %s decodes it both ways', async (comp, decomp) => {
      const { mine, node } = await compressBoth(comp, data, { dictionary });
      expectSameBytes(mine, node, 'compressed');
      const viaNode = await pipeThrough(theirs[decomp], mine, 3 * KiB, { dictionary });
      expectSameBytes(viaNode.output, data, 'node decompressed');
      const viaUs = await pipeThrough(ours[decomp], node, 3 * KiB, { dictionary });
      expectSameBytes(viaUs.output, data, 'uaccel decompressed');
    });

    it('accepts the dictionary as a Uint8Array, DataView and ArrayBuffer', async () => {
      const ab = dictionary.buffer.slice(dictionary.byteOffset, dictionary.byteOffset + dictionary.length);
      const node = zlib.deflateSync(data, { dictionary });
      for (const dict of [new Uint8Array(ab), new DataView(ab), ab]) {
        const packed = await pipeThrough(ours.Deflate, data, WRITE, { dictionary: dict as Buffer });
        expectSameBytes(packed.output, node, 'compressed');
        const back = await pipeThrough(ours.Inflate, node, WRITE, { dictionary: dict as Buffer });
        expectSameBytes(back.output, data, 'decompressed');
      }
    });

    it.each([
      ['Inflate', 'missing', undefined],
      ['Inflate', 'wrong', other],
      ['Unzip', 'missing', undefined],
      ['InflateRaw', 'missing', undefined],
      ['InflateRaw', 'wrong', other],
    ] as const)('%s with the %s dictionary fails (or not) exactly as node', async (decomp, _what, dict) => {
      const packed =
        decomp === 'InflateRaw'
          ? zlib.deflateRawSync(data, { dictionary })
          : zlib.deflateSync(data, { dictionary });
      const opts = dict ? { dictionary: dict } : {};
      const [mine, node] = await Promise.all([
        outcome(ours[decomp], packed, WRITE, opts),
        outcome(theirs[decomp], packed, WRITE, opts),
      ]);
      expect(mine).toEqual(node);
    });

    it('missing and wrong dictionaries are Z_NEED_DICT errors, as node reports them', async () => {
      const packed = zlib.deflateSync(data, { dictionary });
      const missing = await outcome(ours.Inflate, packed);
      const wrong = await outcome(ours.Inflate, packed, WRITE, { dictionary: other });
      // Pin the oracle's values so a change in node is noticed, not silently mirrored.
      expect(missing).toMatchObject({
        ok: false,
        error: { code: 'Z_NEED_DICT', errno: C.Z_NEED_DICT, message: 'Missing dictionary' },
      });
      expect(wrong).toMatchObject({
        ok: false,
        error: { code: 'Z_NEED_DICT', errno: C.Z_NEED_DICT, message: 'Bad dictionary' },
      });
    });
  });

  describe('classes', () => {
    const names = ['Deflate', 'Inflate', 'Gzip', 'Gunzip', 'DeflateRaw', 'InflateRaw', 'Unzip'] as const;

    it.each(names)('%s works with and without new, and via its create* factory', async (name) => {
      type Ctor = { new (o?: zlib.ZlibOptions): zlib.Gzip; (o?: zlib.ZlibOptions): zlib.Gzip };
      const Cls = uaccel[name] as unknown as Ctor;
      const create = uaccel[`create${name}`] as unknown as (o?: zlib.ZlibOptions) => zlib.Gzip;
      const data = text(5 * KiB, 51);
      const input = COMPRESSORS.includes(name)
        ? data
        : zlib[name === 'InflateRaw' ? 'deflateRawSync' : name === 'Inflate' ? 'deflateSync' : 'gzipSync'](
            data,
          );
      const nodeOut = (await pipeThrough(theirs[name], input, WRITE)).output;
      for (const make of [() => new Cls(), () => Cls(), () => create()]) {
        const s = make();
        expect(s).toBeInstanceOf(Cls);
        const out = await pipeThrough(() => s as never, input, WRITE);
        expectSameBytes(out.output, nodeOut, `${name} output`);
      }
    });
  });
});
