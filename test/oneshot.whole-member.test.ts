// The default path of compressing one-shots: the whole input as one
// descriptor (libdeflate on the device). Its bytes are not node's, so node is
// the oracle by decompression: every output must decode with node:zlib to the
// input, in every wrapper, input type and memory mode; options libdeflate
// cannot honour, and `blockSize: 0`, must give node's own bytes instead.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, MiB, binary, runs, text } from './helpers/corpus';
import { MODES, errorShape, expectSameBytes, useMode } from './helpers/streams';

const METHODS = [
  { name: 'gzip', decode: zlib.gunzipSync },
  { name: 'deflate', decode: zlib.inflateSync },
  { name: 'deflateRaw', decode: zlib.inflateRawSync },
] as const;
type Name = (typeof METHODS)[number]['name'];

type Cb = (err: Error | null, result: Buffer) => void;
const asyncOf = (m: Name) => uaccel[m] as unknown as (input: unknown, opts: unknown, cb: Cb) => void;
const syncOf = (m: Name) => uaccel[`${m}Sync`] as unknown as (input: unknown, opts?: unknown) => Buffer;
const nodeSyncOf = (m: Name) => zlib[`${m}Sync`] as unknown as (input: unknown, opts?: unknown) => Buffer;
const call = (m: Name, input: unknown, opts: unknown = {}) =>
  new Promise<Buffer>((resolve, reject) =>
    asyncOf(m)(input, opts, (err, out) => (err ? reject(err) : resolve(out))),
  );

const INPUTS: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['1 byte', Buffer.from('x')],
  ['1 KiB text', text(KiB, 201)],
  ['60 KiB text', text(60 * KiB, 202)],
  ['incompressible 50 KiB', binary(50 * KiB, 203)],
  ['1 MiB runs', runs(MiB, 204)],
];

describe.each(MODES)('whole-member one-shots ($name)', ({ sva }) => {
  useMode(sva);

  describe.each(METHODS)('$name', ({ name, decode }) => {
    it.each(INPUTS)('%s: callback and Sync outputs decode with node to the input', async (_label, input) => {
      for (const level of [undefined, 1, 6, 9]) {
        const opts = level === undefined ? {} : { level };
        const viaCallback = await call(name, input, opts);
        expect(decode(viaCallback).equals(input)).toBe(true);
        const viaSync = syncOf(name)(input, opts);
        expect(decode(viaSync).equals(input)).toBe(true);
      }
    });

    it('takes strings and every view type node takes', async () => {
      const data = text(20 * KiB, 205);
      const padded = new Uint8Array(data.length + 8);
      padded.set(data, 8);
      for (const view of [
        data.toString('latin1'),
        new Uint8Array(data),
        padded.subarray(8),
        new DataView(padded.buffer, 8, data.length),
        data.buffer.slice(data.byteOffset, data.byteOffset + data.length),
      ]) {
        const expected = typeof view === 'string' ? Buffer.from(view) : data;
        expect(decode(await call(name, view)).equals(expected)).toBe(true);
        expect(decode(syncOf(name)(view)).equals(expected)).toBe(true);
      }
    });

    it('is not much larger than node at the same level', async () => {
      const data = text(256 * KiB, 206);
      for (const level of [1, 6, 9]) {
        const mine = await call(name, data, { level });
        expect(mine.length).toBeLessThan(nodeSyncOf(name)(data, { level }).length * 1.05);
      }
    });

    it("blockSize: 0 and options libdeflate cannot honour give node's exact bytes", async () => {
      const data = text(40 * KiB, 207);
      const dictionary = text(2 * KiB, 208);
      for (const opts of [
        { blockSize: 0 },
        { strategy: zlib.constants.Z_FILTERED },
        { windowBits: 12 },
        { dictionary },
        { memLevel: 9, blockSize: 0 },
        { finishFlush: zlib.constants.Z_SYNC_FLUSH },
      ]) {
        const nodeOpts = { ...opts } as Record<string, unknown>;
        delete nodeOpts.blockSize;
        if (name === 'gzip' && 'dictionary' in opts) continue; // gzip has no dictionary
        const expected = nodeSyncOf(name)(data, nodeOpts);
        expectSameBytes(syncOf(name)(data, opts), expected, `Sync ${Object.keys(opts)}`);
        expectSameBytes(await call(name, data, opts), expected, `callback ${Object.keys(opts)}`);
      }
    });

    it('maxOutputLength applies to the whole member, as ERR_BUFFER_TOO_LARGE', async () => {
      const data = binary(20 * KiB, 209);
      let thrown: unknown;
      try {
        syncOf(name)(data, { maxOutputLength: 1000 });
      } catch (err) {
        thrown = err;
      }
      expect(errorShape(thrown)).toMatchObject({ name: 'RangeError', code: 'ERR_BUFFER_TOO_LARGE' });
      const rejected = await call(name, data, { maxOutputLength: 1000 }).catch((err: unknown) => err);
      expect(errorShape(rejected)).toMatchObject({ name: 'RangeError', code: 'ERR_BUFFER_TOO_LARGE' });
    });

    it('validates options as node does, before any work, and blockSize too', () => {
      expect(() => asyncOf(name)(Buffer.from('a'), { level: 42 }, () => {})).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
      expect(() => syncOf(name)(Buffer.from('a'), { blockSize: -1 })).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
      expect(() => syncOf(name)(Buffer.from('a'), { blockSize: '0' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
    });
  });

  it('one event-loop turn of one-shots shares a submit, and util.promisify works', async () => {
    const before = uaccel.info().counters;
    const data = Array.from({ length: 64 }, (_, i) => text(KiB + i, 300 + i));
    const gzip = promisify(uaccel.gzip) as (b: Buffer) => Promise<Buffer>;
    const outs = await Promise.all(data.map((d) => gzip(d)));
    outs.forEach((out, i) => expect(zlib.gunzipSync(out).equals(data[i])).toBe(true));
    const after = uaccel.info().counters;
    const descriptors = after.descriptors - before.descriptors;
    expect(descriptors).toBe(64); // one descriptor per call: no stream steps
    // Pinned slots (two per call in a 4 MiB region) bound how many can go at once.
    expect(descriptors / (after.batches - before.batches)).toBeGreaterThan(sva ? 8 : 1);
  });

  it('inputs larger than one descriptor take the stream path and still decode', async () => {
    const big = runs(sva ? 10 * MiB : 200 * KiB, 210);
    expect(zlib.gunzipSync(await call('gzip', big)).equals(big)).toBe(true);
  });
});
