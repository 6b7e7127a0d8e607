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

// Inflation in one descriptor: a single gzip member whose trailer gives the
// output size. Everything else must reach node's stream path and behave
// exactly as node does (results and errors).
describe.each(MODES)('whole-member gunzip/unzip ($name)', ({ sva }) => {
  useMode(sva);
  const plain = text(sva ? 200 * KiB : 40 * KiB, 220);
  const member = zlib.gzipSync(plain);
  const inflaters = [
    ['gunzip', zlib.gunzipSync],
    ['unzip', zlib.unzipSync],
  ] as const;
  const run = (m: 'gunzip' | 'unzip', input: Buffer, opts: object = {}) =>
    new Promise<{ ok: boolean; value: Buffer | Record<string, unknown> }>((resolve) =>
      (uaccel[m] as unknown as (i: Buffer, o: object, cb: Cb) => void)(input, opts, (err, out) =>
        resolve(err ? { ok: false, value: errorShape(err) } : { ok: true, value: out }),
      ),
    );
  const runNode = (fn: (b: Buffer, o?: object) => Buffer, input: Buffer, opts: object = {}) => {
    try {
      return { ok: true, value: fn(input, opts) };
    } catch (err) {
      return { ok: false, value: errorShape(err) };
    }
  };

  it.each(inflaters)('%s: one member takes one descriptor and equals the input', async (m) => {
    const before = uaccel.info().counters.descriptors;
    const r = await run(m, member);
    expect(r.ok).toBe(true);
    expect((r.value as Buffer).equals(plain)).toBe(true);
    expect(uaccel.info().counters.descriptors - before).toBe(1);
    expect((uaccel[`${m}Sync`] as (b: Buffer) => Buffer)(member).equals(plain)).toBe(true);
  });

  const cases: Array<[string, Buffer, object?]> = [
    ['two members', Buffer.concat([member, zlib.gzipSync(text(3 * KiB, 221))])],
    ['trailing zeros', Buffer.concat([member, Buffer.alloc(7)])],
    ['trailing garbage', Buffer.concat([member, Buffer.from('garbage after the member')])],
    ['a corrupt body', Buffer.from(member).fill(0x55, 40, 60)],
    [
      'a wrong CRC',
      (() => {
        const b = Buffer.from(member);
        b[b.length - 6] ^= 1;
        return b;
      })(),
    ],
    [
      'a wrong size',
      (() => {
        const b = Buffer.from(member);
        b[b.length - 4] ^= 1;
        return b;
      })(),
    ],
    ['a truncated member', member.subarray(0, member.length - 3)],
    ['an empty member', zlib.gzipSync(Buffer.alloc(0))],
    ['a size past maxOutputLength', member, { maxOutputLength: 1000 }],
    ['windowBits 9', member, { windowBits: 9 }],
    ['blockSize 0', member, { blockSize: 0 }],
  ];
  for (const [m, nodeFn] of inflaters) {
    it.each(cases)(`${m}: %s behaves exactly as node`, async (_label, input, opts = {}) => {
      const nodeOpts = { ...opts } as Record<string, unknown>;
      delete nodeOpts.blockSize;
      const expected = runNode(nodeFn, input, nodeOpts);
      const mine = await run(m, input, opts);
      expect(mine.ok).toBe(expected.ok);
      if (expected.ok) expect((mine.value as Buffer).equals(expected.value as Buffer)).toBe(true);
      else expect(mine.value).toEqual(expected.value);
    });
  }
});
