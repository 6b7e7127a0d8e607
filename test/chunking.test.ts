// How input is cut into writes, and how output is cut into 'data' chunks:
// every write pattern gives node's output, 'data' chunks never exceed
// chunkSize, and bytesWritten counts what node counts.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { KiB, MiB, binary, runs, text } from './helpers/corpus';
import {
  type ClassName,
  FORMAT_OF,
  MODES,
  SERIAL,
  PINNED_DESCRIPTOR_BYTES,
  type Piped,
  expectSameBytes,
  ours,
  pipeThrough,
  splitWrites,
  theirs,
  useMode,
} from './helpers/streams';

const INPUTS: Record<string, Buffer> = {
  '0 B': Buffer.alloc(0),
  '1 B': Buffer.from('x'),
  '20 KiB': Buffer.concat([text(16 * KiB, 68), binary(4 * KiB, 69)]),
  '100 KiB': Buffer.concat([text(60 * KiB, 61), runs(30 * KiB, 62), binary(10 * KiB, 63)]),
  '8 MiB': Buffer.concat([text(6 * MiB, 64), runs(MiB, 65), binary(MiB, 66)]),
};

const WRITES: Record<string, number | number[]> = {
  '1 B': 1,
  '7 B': 7,
  '64 KiB': 64 * KiB,
  '1 MiB': MiB,
  '4 MiB': 4 * MiB,
  mixed: [1, 7, 64 * KiB + 3, 1000, 300 * KiB, 13],
};

// Byte-at-a-time writes of more than a few KiB would only measure the event
// loop (one descriptor per write, as node runs one codec step per write).
const SKIP: Record<string, string[]> = { '100 KiB': ['1 B'], '8 MiB': ['1 B', '7 B'] };
const CASES = Object.keys(INPUTS).flatMap((input) =>
  Object.keys(WRITES)
    .filter((w) => !SKIP[input]?.includes(w))
    .map((writes) => ({ input, writes })),
);

/** node:zlib's result for a class, input and write pattern; the same in both modes, so computed once. */
const oracle = new Map<string, Promise<Piped>>();
function viaNode(cls: ClassName, input: Buffer, inputName: string, writes: string, opts?: zlib.ZlibOptions) {
  const key = `${cls}|${inputName}|${writes}|${JSON.stringify(opts ?? {})}`;
  let p = oracle.get(key);
  if (!p) {
    p = pipeThrough(theirs[cls], input, WRITES[writes], opts);
    oracle.set(key, p);
  }
  return p;
}

const compressedInputs = new Map<string, Buffer>();
function compressedInput(cls: ClassName, inputName: string): Buffer {
  const key = `${FORMAT_OF[cls]}|${inputName}`;
  let b = compressedInputs.get(key);
  if (!b) {
    const input = INPUTS[inputName];
    b =
      FORMAT_OF[cls] === 'Gzip'
        ? zlib.gzipSync(input)
        : FORMAT_OF[cls] === 'Deflate'
          ? zlib.deflateSync(input)
          : zlib.deflateRawSync(input);
    compressedInputs.set(key, b);
  }
  return b;
}

function largestWrite(input: Buffer, writes: string): number {
  return Math.max(0, ...splitWrites(input, WRITES[writes]).map((w) => w.length));
}

function expectChunksWithin(p: Piped, chunkSize: number): void {
  const largest = Math.max(0, ...p.chunks.map((c) => c.length));
  expect(largest, 'largest data chunk').toBeLessThanOrEqual(chunkSize);
  expect(
    p.chunks.every((c) => c.length > 0),
    'no empty data chunks',
  ).toBe(true);
}

describe.each(MODES)('chunking ($name)', ({ sva }) => {
  useMode(sva, SERIAL);

  describe('Gzip then Gunzip, every input size and write pattern', () => {
    it.each(CASES)('$input in writes of $writes', async ({ input: inputName, writes }) => {
      const input = INPUTS[inputName];
      const [mine, node] = await Promise.all([
        pipeThrough(ours.Gzip, input, WRITES[writes]),
        viaNode('Gzip', input, inputName, writes),
      ]);
      expectChunksWithin(mine, zlib.constants.Z_DEFAULT_CHUNK);
      expect(mine.stream.bytesWritten).toBe(node.stream.bytesWritten);
      if (sva || largestWrite(input, writes) <= PINNED_DESCRIPTOR_BYTES) {
        expectSameBytes(mine.output, node.output, 'compressed');
      } else {
        expectSameBytes(zlib.gunzipSync(mine.output), input, 'decompressed by node');
      }

      const packed = compressedInput('Gunzip', inputName);
      const [back, nodeBack] = await Promise.all([
        pipeThrough(ours.Gunzip, packed, WRITES[writes]),
        viaNode('Gunzip', packed, inputName, writes),
      ]);
      expectSameBytes(back.output, input, 'decompressed');
      expectChunksWithin(back, zlib.constants.Z_DEFAULT_CHUNK);
      expect(back.stream.bytesWritten).toBe(nodeBack.stream.bytesWritten);
    });
  });

  describe('other classes, 100 KiB', () => {
    const matrix = (['Deflate', 'DeflateRaw', 'Inflate', 'InflateRaw', 'Unzip'] as ClassName[]).flatMap(
      (cls) => ['7 B', '64 KiB', 'mixed'].map((writes) => ({ cls, writes })),
    );

    it.each(matrix)('$cls in writes of $writes', async ({ cls, writes }) => {
      const isCompressor = cls === 'Deflate' || cls === 'DeflateRaw';
      const input = isCompressor ? INPUTS['100 KiB'] : compressedInput(cls, '100 KiB');
      const [mine, node] = await Promise.all([
        pipeThrough(ours[cls], input, WRITES[writes]),
        viaNode(cls, input, `${isCompressor ? '' : 'packed '}100 KiB`, writes),
      ]);
      expectSameBytes(mine.output, node.output, 'output');
      expectChunksWithin(mine, zlib.constants.Z_DEFAULT_CHUNK);
      expect(mine.stream.bytesWritten).toBe(node.stream.bytesWritten);
    });
  });

  describe('chunkSize bounds every data chunk', () => {
    it.each([
      { chunkSize: 64, input: '100 KiB', writes: '64 KiB' },
      { chunkSize: 1000, input: '100 KiB', writes: 'mixed' },
      { chunkSize: MiB, input: '8 MiB', writes: '4 MiB' },
    ])('Gunzip, chunkSize $chunkSize, $input in writes of $writes', async ({ chunkSize, input, writes }) => {
      const packed = compressedInput('Gunzip', input);
      const mine = await pipeThrough(ours.Gunzip, packed, WRITES[writes], { chunkSize });
      expectSameBytes(mine.output, INPUTS[input], 'decompressed');
      expectChunksWithin(mine, chunkSize);
      expect(mine.stream.bytesWritten).toBe(packed.length);
    });

    it.each([64, 1000])('Gzip with chunkSize %i equals node', async (chunkSize) => {
      const input = INPUTS['100 KiB'];
      const [mine, node] = await Promise.all([
        pipeThrough(ours.Gzip, input, WRITES.mixed, { chunkSize }),
        viaNode('Gzip', input, '100 KiB', 'mixed', { chunkSize }),
      ]);
      expectSameBytes(mine.output, node.output, 'compressed');
      expectChunksWithin(mine, chunkSize);
    });
  });

  it("bytesRead (node's deprecated alias of bytesWritten, DEP0108) equals node's", async () => {
    const bytesRead = (s: object) => (s as { bytesRead?: number }).bytesRead;
    for (const cls of ['Gzip', 'Gunzip'] as ClassName[]) {
      const input = cls === 'Gzip' ? INPUTS['100 KiB'] : compressedInput('Gunzip', '100 KiB');
      const [mine, node] = await Promise.all([
        pipeThrough(ours[cls], input, WRITES.mixed),
        pipeThrough(theirs[cls], input, WRITES.mixed),
      ]);
      expect(bytesRead(node.stream)).toBe(node.stream.bytesWritten); // the oracle itself
      expect(bytesRead(mine.stream), `${cls} bytesRead`).toBe(bytesRead(node.stream));
    }
  });

  describe('edge writes', () => {
    it('a single write larger than the 8 MiB SVA descriptor limit round-trips', async () => {
      const input = Buffer.concat([INPUTS['8 MiB'], text(100 * KiB, 67)]);
      const mine = await pipeThrough(ours.Gzip, input, input.length);
      expect(mine.stream.bytesWritten).toBe(input.length);
      expectChunksWithin(mine, zlib.constants.Z_DEFAULT_CHUNK);
      expectSameBytes(zlib.gunzipSync(mine.output), input, 'decompressed by node');
      const back = await pipeThrough(ours.Gunzip, zlib.gzipSync(input, { level: 1 }), 9 * MiB);
      expectSameBytes(back.output, input, 'decompressed');
    });

    it.each(['Gzip', 'Deflate', 'DeflateRaw', 'Gunzip', 'Inflate', 'InflateRaw', 'Unzip'] as ClassName[])(
      '%s: zero-length writes among real ones change nothing',
      async (cls) => {
        const isCompressor = cls === 'Gzip' || cls === 'Deflate' || cls === 'DeflateRaw';
        const input = isCompressor ? INPUTS['100 KiB'] : compressedInput(cls, '100 KiB');
        const run = async (factory: typeof ours.Gzip) => {
          const s = factory();
          const out = new Promise<Buffer>((resolve, reject) => {
            const parts: Buffer[] = [];
            s.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve(Buffer.concat(parts)));
            s.on('error', reject);
          });
          s.write(Buffer.alloc(0));
          for (const piece of splitWrites(input, 10 * KiB)) {
            s.write(piece);
            s.write(new Uint8Array(0));
          }
          s.end(Buffer.alloc(0));
          return { output: await out, bytesWritten: s.bytesWritten };
        };
        const [mine, node] = await Promise.all([run(ours[cls]), run(theirs[cls])]);
        expectSameBytes(mine.output, node.output, 'output');
        expect(mine.bytesWritten).toBe(node.bytesWritten);
      },
    );
  });
});
