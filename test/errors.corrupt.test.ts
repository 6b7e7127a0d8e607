// Corrupt and truncated compressed input: streams, callbacks and Sync forms
// fail (or succeed) exactly as node:zlib does for the same bytes — same error
// class, code, errno and message — and no stream is left hanging. Streams
// run under both inflate codecs: ISA-L reports errors more coarsely than
// zlib, and its streams must still give node's exact errors.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, binary, text } from './helpers/corpus';
import {
  type ClassName,
  type Factory,
  MODES,
  digest,
  errorShape,
  splitWrites,
  ours,
  theirs,
  useMode,
  within,
} from './helpers/streams';
import { describeInflateCodecs } from './helpers/inflate-codecs';

const ORIGINAL = Buffer.concat([text(20 * KiB, 91), binary(70 * KiB, 92), text(5 * KiB, 93)]);
const PACKED = {
  gzip: zlib.gzipSync(ORIGINAL),
  zlib: zlib.deflateSync(ORIGINAL),
  raw: zlib.deflateRawSync(ORIGINAL),
};
type Format = keyof typeof PACKED;

function flip(buf: Buffer, at: number, mask = 0xff): Buffer {
  const b = Buffer.from(buf);
  b[at] ^= mask;
  return b;
}
function withUInt32LE(buf: Buffer, at: number, f: (v: number) => number): Buffer {
  const b = Buffer.from(buf);
  b.writeUInt32LE(f(b.readUInt32LE(at)) >>> 0, at);
  return b;
}

/** Damaged variants of a valid compressed buffer, by format. */
function damaged(format: Format): Array<{ name: string; input: Buffer }> {
  const p = PACKED[format];
  const n = p.length;
  const body = [0.02, 0.25, 0.5, 0.9].map((f) => ({
    name: `body byte flipped at ${Math.round(f * 100)}%`,
    input: flip(p, Math.floor(n * f)),
  }));
  const truncated = [1, 2, 5, 10, Math.floor(n / 2), n - 8, n - 4, n - 1].map((len) => ({
    name: `truncated to ${len} of ${n} bytes`,
    input: p.subarray(0, len),
  }));
  if (format === 'gzip') {
    return [
      { name: 'magic byte flipped', input: flip(p, 0) },
      { name: 'second magic byte off by one', input: flip(p, 1, 0x01) },
      { name: 'compression method not deflate', input: flip(p, 2, 0x01) },
      { name: 'reserved header flag set', input: flip(p, 3, 0x80) },
      { name: 'FEXTRA flag set with no extra field', input: flip(p, 3, 0x04) },
      { name: 'OS byte changed (harmless)', input: flip(p, 9) },
      ...body,
      { name: 'CRC32 wrong', input: withUInt32LE(p, n - 8, (v) => v ^ 1) },
      { name: 'ISIZE off by one', input: withUInt32LE(p, n - 4, (v) => v + 1) },
      { name: 'ISIZE zero', input: withUInt32LE(p, n - 4, () => 0) },
      ...truncated,
    ];
  }
  if (format === 'zlib') {
    return [
      { name: 'CMF byte flipped', input: flip(p, 0) },
      { name: 'window size too large', input: flip(p, 0, 0x80) },
      { name: 'FCHECK broken', input: flip(p, 1, 0x01) },
      { name: 'FDICT set', input: flip(p, 1, 0x20) },
      ...body,
      { name: 'Adler-32 wrong', input: flip(p, n - 1, 0x01) },
      { name: 'Adler-32 high byte wrong', input: flip(p, n - 4, 0x10) },
      ...truncated,
    ];
  }
  return [{ name: 'first block type invalid', input: flip(p, 0, 0x06) }, ...body, ...truncated];
}

const DECODERS: Array<{ cls: ClassName; format: Format }> = [
  { cls: 'Gunzip', format: 'gzip' },
  { cls: 'Unzip', format: 'gzip' },
  { cls: 'Inflate', format: 'zlib' },
  { cls: 'Unzip', format: 'zlib' },
  { cls: 'InflateRaw', format: 'raw' },
];

type Result = { ok: true; length: number; sha: string } | { ok: false; error: Record<string, unknown> };

/** Runs a stream to its end or its error (bounded in time); also records whether 'close' followed. */
async function streamResult(
  factory: Factory,
  input: Buffer,
  writeSize: number,
): Promise<Result & { closed: boolean }> {
  const s = factory();
  const chunks: Buffer[] = [];
  const closed = new Promise<void>((resolve) => s.once('close', resolve));
  const settled = new Promise<Result>((resolve) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => {
      const out = Buffer.concat(chunks);
      resolve({ ok: true, length: out.length, sha: digest(out) });
    });
    s.once('error', (err) => resolve({ ok: false, error: errorShape(err) }));
  });
  for (const piece of splitWrites(input, writeSize)) s.write(piece);
  s.end();
  const result = await within(5_000, settled, 'stream');
  const didClose = await within(5_000, closed, "'close' after end/error").then(
    () => true,
    () => false,
  );
  return { ...result, closed: didClose };
}

function syncResult(fn: () => Buffer): Result {
  try {
    const out = fn();
    return { ok: true, length: out.length, sha: digest(out) };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}

async function callbackResult(
  fn: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void,
  input: Buffer,
): Promise<Result> {
  try {
    const out = await within(5_000, promisify(fn)(input), 'callback');
    return { ok: true, length: out.length, sha: digest(out) };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}

const lower = (cls: ClassName) => cls.charAt(0).toLowerCase() + cls.slice(1);
type SyncFn = (b: Buffer) => Buffer;
type CbFn = (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void;

describe.each(MODES)('corrupt and truncated input ($name)', ({ sva }) => {
  useMode(sva);

  describeInflateCodecs(() => {
    describe.each(DECODERS)('$cls on $format data', ({ cls, format }) => {
      const cases = damaged(format);

      it.each(cases)(
        '$name: stream result equals node (whole write and 4 KiB writes)',
        async ({ input }) => {
          for (const writeSize of [input.length || 1, 4 * KiB]) {
            const [mine, node] = await Promise.all([
              streamResult(ours[cls], input, writeSize),
              streamResult(theirs[cls], input, writeSize),
            ]);
            expect(mine, `writes of ${writeSize}`).toEqual(node);
          }
        },
        15_000,
      );

      it.each(cases)(
        '$name: callback and Sync results equal node',
        async ({ input }) => {
          const name = lower(cls);
          const mineSync = syncResult(() =>
            (uaccel as unknown as Record<string, SyncFn>)[`${name}Sync`](input),
          );
          const nodeSync = syncResult(() =>
            (zlib as unknown as Record<string, SyncFn>)[`${name}Sync`](input),
          );
          expect(mineSync, 'Sync').toEqual(nodeSync);
          const [mineCb, nodeCb] = await Promise.all([
            callbackResult((uaccel as unknown as Record<string, CbFn>)[name], input),
            callbackResult((zlib as unknown as Record<string, CbFn>)[name], input),
          ]);
          expect(mineCb, 'callback').toEqual(nodeCb);
        },
        15_000,
      );
    });

    it('many corrupt streams at once all fail like node and none hangs', async () => {
      const inputs = DECODERS.flatMap(({ cls, format }) =>
        damaged(format).map(({ input }) => ({ cls, input })),
      );
      const [mine, node] = await Promise.all([
        within(
          20_000,
          Promise.all(inputs.map(({ cls, input }) => streamResult(ours[cls], input, 8 * KiB))),
          'all streams',
        ),
        Promise.all(inputs.map(({ cls, input }) => streamResult(theirs[cls], input, 8 * KiB))),
      ]);
      expect(mine).toEqual(node);
    }, 30_000);
  });

  it('every damaged case above is really damaged: node rejects most of them', () => {
    // Guards the table itself: if the corruptions stopped producing errors, the
    // comparisons above would only be comparing successes.
    let errors = 0;
    let total = 0;
    for (const { cls, format } of DECODERS) {
      for (const { input } of damaged(format)) {
        total++;
        const r = syncResult(() => (zlib as unknown as Record<string, SyncFn>)[`${lower(cls)}Sync`](input));
        if (!r.ok) errors++;
      }
    }
    expect(errors).toBeGreaterThan(total * 0.8);
  });

  it('the error is a plain Error with a zlib code, as node throws it', () => {
    const bad = flip(PACKED.gzip, 3, 0x80);
    const caught = (fn: () => unknown): Error => {
      try {
        fn();
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a throw');
    };
    const mine = caught(() => uaccel.gunzipSync(bad)) as Error & { code: string; errno: number };
    const node = caught(() => zlib.gunzipSync(bad)) as Error & { code: string; errno: number };
    expect(mine).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(mine)).toBe(Object.getPrototypeOf(node));
    expect(Object.keys(mine).sort()).toEqual(Object.keys(node).sort());
    expect(String(mine)).toBe(String(node));
  });
});
