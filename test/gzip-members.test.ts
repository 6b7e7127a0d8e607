// Multi-member gzip input, what may follow the last member, and empty input:
// every case is decided by running the same bytes through node:zlib, with
// each inflate codec (ISA-L and zlib) decoding.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, binary, runs, text } from './helpers/corpus';
import {
  type ClassName,
  COMPRESSORS,
  DECOMPRESSORS,
  MODES,
  SERIAL,
  digest,
  errorShape,
  expectSameBytes,
  ours,
  outcome,
  pipeThrough,
  theirs,
  useMode,
} from './helpers/streams';
import { describeInflateCodecs } from './helpers/inflate-codecs';

const A = text(40 * KiB, 81);
const B = binary(100 * KiB, 82); // its member alone is larger than one pinned descriptor
const Cc = runs(10 * KiB, 83);

const MEMBERS = Buffer.concat([
  zlib.gzipSync(A),
  zlib.gzipSync(B, { level: 1 }),
  zlib.gzipSync(Buffer.alloc(0)),
  zlib.gzipSync(Cc, { level: 9, strategy: zlib.constants.Z_RLE }),
]);
const EXPECTED = Buffer.concat([A, B, Cc]);
const ONE = zlib.gzipSync(A);

/** One-shot forms by class, uaccel's and node's, so callback and Sync results can be compared too. */
type OneShot = (buf: zlib.InputType, opts?: zlib.ZlibOptions) => Buffer;
const lower = (cls: ClassName) => cls.charAt(0).toLowerCase() + cls.slice(1);
function syncOf(lib: typeof zlib | typeof uaccel, cls: ClassName): OneShot {
  return (lib as unknown as Record<string, OneShot>)[`${lower(cls)}Sync`];
}
function asyncOf(lib: typeof zlib | typeof uaccel, cls: ClassName) {
  return promisify(
    (
      lib as unknown as Record<
        string,
        (b: zlib.InputType, opts: zlib.ZlibOptions, cb: (e: Error | null, r: Buffer) => void) => void
      >
    )[lower(cls)],
  );
}
/** uaccel's option for node's serial zlib path, whose output is node's byte for byte. */
const SERIAL = { blockSize: 0 } as zlib.ZlibOptions;

type Result = { ok: true; sha: string; length: number } | { ok: false; error: Record<string, unknown> };
function syncResult(fn: () => Buffer): Result {
  try {
    const b = fn();
    return { ok: true, sha: digest(b), length: b.length };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}
async function asyncResult(p: Promise<Buffer>): Promise<Result> {
  try {
    const b = await p;
    return { ok: true, sha: digest(b), length: b.length };
  } catch (err) {
    return { ok: false, error: errorShape(err) };
  }
}

/** Stream (several write patterns), callback and Sync results must all equal node's. */
async function expectLikeNode(cls: ClassName, input: Buffer, writePatterns: Array<number | number[]>) {
  for (const writes of writePatterns) {
    const [mine, node] = await Promise.all([
      outcome(ours[cls], input, writes),
      outcome(theirs[cls], input, writes),
    ]);
    expect(mine, `stream, writes of ${JSON.stringify(writes)}`).toEqual(node);
  }
  expect(
    syncResult(() => syncOf(uaccel, cls)(input)),
    'Sync',
  ).toEqual(syncResult(() => syncOf(zlib, cls)(input)));
  const [mine, node] = await Promise.all([
    asyncResult(asyncOf(uaccel, cls)(input)),
    asyncResult(asyncOf(zlib, cls)(input)),
  ]);
  expect(mine, 'callback').toEqual(node);
  return mine;
}

describe.each(MODES)('gzip members and empty input ($name)', ({ sva }) => {
  useMode(sva, SERIAL);

  describeInflateCodecs(() => {
    describe.each(['Gunzip', 'Unzip'] as const)('%s', (cls) => {
      it('decodes every member of a concatenation, in any write pattern', async () => {
        const r = await expectLikeNode(cls, MEMBERS, [
          MEMBERS.length,
          64 * KiB,
          1000,
          [1, 17, 9000, 70 * KiB],
        ]);
        expect(r).toMatchObject({ ok: true, sha: digest(EXPECTED) });
      });

      it('decodes members written one per write, and split at every header byte', async () => {
        const a = zlib.gzipSync(Cc);
        const b = zlib.gzipSync(A);
        const input = Buffer.concat([a, b]);
        for (let cut = a.length - 9; cut <= a.length + 11; cut++) {
          const mine = await pipeThrough(ours[cls], input, [cut, input.length]);
          expectSameBytes(mine.output, Buffer.concat([Cc, A]), `decoded with a write boundary at ${cut}`);
        }
      });

      it.each([1, 7, 512, 70 * KiB])('accepts %i trailing zero bytes after the last member', async (n) => {
        const r = await expectLikeNode(cls, Buffer.concat([MEMBERS, Buffer.alloc(n)]), [
          MEMBERS.length + n,
          4 * KiB,
        ]);
        expect(r).toMatchObject({ ok: true, sha: digest(EXPECTED) });
      });

      it.each([
        ['text garbage', Buffer.from('this is not gzip data')],
        ['one stray byte', Buffer.from([0x1f])],
        ['a magic number then garbage', Buffer.from([0x1f, 0x8b, 0x08, 0xff, 0xff, 0xff])],
        ['a truncated member', zlib.gzipSync(Cc).subarray(0, 30)],
        ['zeros then garbage', Buffer.concat([Buffer.alloc(4), Buffer.from('garbage')])],
      ])('trailing %s: same result as node', async (_name, tail) => {
        await expectLikeNode(cls, Buffer.concat([ONE, tail]), [
          ONE.length + tail.length,
          [ONE.length, tail.length],
          999,
        ]);
      });
    });

    it('Inflate and InflateRaw stop at the end of their stream, as node does', async () => {
      const z = Buffer.concat([zlib.deflateSync(A), zlib.deflateSync(Cc)]);
      const raw = Buffer.concat([zlib.deflateRawSync(A), Buffer.from('trailing bytes')]);
      await expectLikeNode('Inflate', z, [z.length, 3 * KiB]);
      await expectLikeNode('InflateRaw', raw, [raw.length, 3 * KiB]);
      await expectLikeNode('Unzip', z, [z.length, 3 * KiB]);
    });

    describe('empty input', () => {
      it.each(DECOMPRESSORS)(
        '%s of an empty buffer behaves (result or error) exactly as node',
        async (cls) => {
          await expectLikeNode(cls, Buffer.alloc(0), [1]);
        },
      );

      it.each(DECOMPRESSORS)('%s with only zero-length writes behaves as node', async (cls) => {
        const run = async (factory: typeof ours.Gzip) => {
          const s = factory();
          const out: Buffer[] = [];
          try {
            await new Promise<void>((resolve, reject) => {
              s.on('data', (c: Buffer) => out.push(c))
                .on('end', resolve)
                .on('error', reject);
              s.write(Buffer.alloc(0));
              s.write('');
              s.end();
            });
            return { ok: true, length: Buffer.concat(out).length };
          } catch (err) {
            return { ok: false, error: errorShape(err) };
          }
        };
        expect(await run(ours[cls])).toEqual(await run(theirs[cls]));
      });
    });
  });

  describe('empty input, compressed', () => {
    it.each(COMPRESSORS)('%s of empty input equals node and decodes back to nothing', async (cls) => {
      for (const input of [Buffer.alloc(0), '' as unknown as Buffer]) {
        // blockSize 0: node's serial path, whose bytes are node's.
        const mine = syncOf(uaccel, cls)(input, SERIAL);
        expectSameBytes(mine, syncOf(zlib, cls)(input), 'Sync');
        expectSameBytes(await asyncOf(uaccel, cls)(input, SERIAL), mine, 'callback');
      }
      const stream = await pipeThrough(ours[cls], Buffer.alloc(0));
      expectSameBytes(stream.output, syncOf(zlib, cls)(Buffer.alloc(0)), 'stream');
      const dec: ClassName = cls === 'Deflate' ? 'Inflate' : cls === 'Gzip' ? 'Gunzip' : 'InflateRaw';
      const back = await pipeThrough(ours[dec], stream.output, 1);
      expect(back.output.length).toBe(0);
      if (cls !== 'DeflateRaw') {
        expect((await pipeThrough(ours.Unzip, stream.output)).output.length).toBe(0);
      }
    });
  });
});
