// Interoperability with the gzip implementations users pipe through: output of
// every uaccel compression path (parallel blocks on each codec, whole
// members, node's serial zlib, Sync forms) decodes with `gzip -d`,
// `pigz -d`, `igzip -d` and node:zlib; what those tools write (one member or
// several, pigz's sync-marked blocks, igzip's levels) decodes with every
// uaccel decompression path. A corrupt block in the middle of a parallel
// stream fails the decoding stream cleanly, with node's error.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { KiB, MiB, binary, text } from './helpers/corpus';
import { hasTool, run } from './helpers/cli';
import { MODES, errorShape, ours, pipeThrough, theirs, useMode, within } from './helpers/streams';

const TOOLS = ['gzip', 'pigz', 'igzip'] as const;
const present = TOOLS.filter(hasTool);
const missing = TOOLS.filter((t) => !present.includes(t));

const INPUT = Buffer.concat([text(700 * KiB, 41), binary(150 * KiB, 42), text(300 * KiB, 43)]);

function toolDecode(tool: string, gz: Buffer): Buffer {
  const r = run(tool, ['-d', '-c'], { input: gz });
  if (r.status !== 0) throw new Error(`${tool} -d failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function toolEncode(tool: string, args: string[], data: Buffer): Buffer {
  const r = run(tool, ['-c', ...args], { input: data });
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Every way uaccel can produce a gzip member, by name. */
const PRODUCERS: Record<string, (data: Buffer) => Promise<Buffer>> = {
  'stream, level 1 blocks': async (d) => (await pipeThrough(ours.Gzip, d, 64 * KiB, { level: 1 })).output,
  'stream, level 6 blocks': async (d) => (await pipeThrough(ours.Gzip, d, 64 * KiB)).output,
  'stream, level 9 blocks, 16 KiB': async (d) =>
    (await pipeThrough(ours.Gzip, d, 5 * KiB, { level: 9, blockSize: 16 * KiB } as zlib.ZlibOptions)).output,
  'stream, filtered strategy blocks': async (d) =>
    (await pipeThrough(ours.Gzip, d, 64 * KiB, { strategy: zlib.constants.Z_FILTERED })).output,
  'stream, one whole member': async (d) =>
    (await pipeThrough(ours.Gzip, d.subarray(0, 50 * KiB), 4 * KiB)).output,
  'stream, serial (blockSize 0)': async (d) =>
    (await pipeThrough(ours.Gzip, d, 64 * KiB, { blockSize: 0 } as zlib.ZlibOptions)).output,
  'gzip(buf) whole member': (d) =>
    new Promise((resolve, reject) => uaccel.gzip(d, (e, r) => (e ? reject(e) : resolve(r)))),
  'gzipSync(buf) whole member': async (d) => uaccel.gzipSync(d, { level: 4 }),
  'gzipSync(buf) through blocks': async (d) => uaccel.gzipSync(d, { strategy: zlib.constants.Z_RLE }),
};

/** The input a producer was given (the whole-member stream takes a prefix). */
function expectedFor(name: string): Buffer {
  return name === 'stream, one whole member' ? INPUT.subarray(0, 50 * KiB) : INPUT;
}

/** Every way uaccel can decode gzip, by name. */
const CONSUMERS: Record<string, (gz: Buffer) => Promise<Buffer>> = {
  'Gunzip stream': async (gz) => (await pipeThrough(ours.Gunzip, gz, 48 * KiB)).output,
  'Unzip stream': async (gz) => (await pipeThrough(ours.Unzip, gz, 7 * KiB)).output,
  'gunzip(buf)': (gz) =>
    new Promise((resolve, reject) => uaccel.gunzip(gz, (e, r) => (e ? reject(e) : resolve(r)))),
  'gunzipSync(buf)': async (gz) => uaccel.gunzipSync(gz),
};

if (missing.length > 0) {
  console.log(
    `interop.tools: ${missing.join(', ')} not installed: their cases are skipped (apt-get install gzip pigz isal)`,
  );
}

for (const { name, sva } of MODES) {
  describe(`tool interop (${name})`, () => {
    useMode(sva);

    describe.each(Object.keys(PRODUCERS))('uaccel %s', (producer) => {
      let gz: Buffer;
      const get = async (): Promise<Buffer> => (gz ??= await PRODUCERS[producer](INPUT));

      it('decodes with node:zlib', async () => {
        expect(zlib.gunzipSync(await get()).equals(expectedFor(producer))).toBe(true);
      });

      it.each(TOOLS)('decodes with %s -d', async (tool) => {
        if (!present.includes(tool)) return void console.log(`skipped: ${tool} not installed`);
        expect(toolDecode(tool, await get()).equals(expectedFor(producer))).toBe(true);
      });
    });

    describe.each(present)('%s output', (tool) => {
      const levels = tool === 'igzip' ? ['-0', '-1', '-3'] : ['-1', '-6', '-9'];
      const samples = levels.map((level) => ({ level, gz: toolEncode(tool, [level], INPUT) }));
      if (tool === 'pigz')
        samples.push({ level: '-6 -i (independent blocks)', gz: toolEncode(tool, ['-6', '-i'], INPUT) });

      it.each(Object.keys(CONSUMERS))('decodes with uaccel %s at every level', async (consumer) => {
        for (const { level, gz } of samples) {
          const out = await CONSUMERS[consumer](gz);
          expect(out.equals(INPUT), `${tool} ${level}`).toBe(true);
        }
      });
    });

    it.skipIf(present.length === 0)(
      'several members from different tools decode as their concatenation',
      async () => {
        const parts = present.map((tool, i) => text(100 * KiB + i, 50 + i));
        const gz = Buffer.concat(
          present.map((tool, i) => toolEncode(tool, [tool === 'igzip' ? '-1' : '-6'], parts[i])),
        );
        const whole = Buffer.concat(parts);
        for (const consumer of Object.keys(CONSUMERS)) {
          expect((await CONSUMERS[consumer](gz)).equals(whole), consumer).toBe(true);
        }
      },
    );

    it('a corrupt block in the middle of a parallel stream fails the decoder with node error', async () => {
      const data = text(2 * MiB, 60);
      const gz = (await pipeThrough(ours.Gzip, data, 64 * KiB)).output;
      const bad = Buffer.from(gz);
      const mid = bad.length >> 1;
      for (let i = 0; i < 64; i++) bad[mid + i] ^= 0xa5;

      // node's decoder on the same bytes: its error, and what it emitted before it.
      const nodeSeen: Buffer[] = [];
      const nodeErr = await new Promise<unknown>((resolve) => {
        const n = theirs.Gunzip();
        n.on('data', (c: Buffer) => nodeSeen.push(c));
        n.on('error', resolve);
        n.on('end', () => resolve(null));
        n.end(bad);
      });
      expect(nodeErr).not.toBeNull();

      const g = ours.Gunzip();
      const seen: Buffer[] = [];
      let ended = false;
      g.on('data', (c: Buffer) => seen.push(c));
      g.on('end', () => {
        ended = true;
      });
      const err = await within(
        10_000,
        new Promise<unknown>((resolve) => {
          g.on('error', resolve);
          g.end(bad);
        }),
        'the corrupt stream to fail',
      );
      expect(errorShape(err)).toMatchObject({
        code: (nodeErr as { code: string }).code,
        errno: (nodeErr as { errno: number }).errno,
      });
      expect(ended).toBe(false);
      expect(g.destroyed).toBe(true);
      // What came out before the fault is what node decodes from the same
      // bytes (deflate can decode damage into wrong bytes before a check
      // catches it; both decoders then emit the same ones).
      const mine = Buffer.concat(seen);
      const theirsOut = Buffer.concat(nodeSeen);
      const n = Math.min(mine.length, theirsOut.length);
      expect(mine.subarray(0, n).equals(theirsOut.subarray(0, n))).toBe(true);
      // The one-shots fail the same way.
      expect(() => uaccel.gunzipSync(bad)).toThrow(
        expect.objectContaining({ code: (nodeErr as { code: string }).code }),
      );
    });
  });
}
