// The pinned region's allocator: runs of units handed to descriptors in
// pinned mode. Runs never overlap, a descriptor that does not fit waits
// until the region drains, and a region that drains always fits the largest
// run the queue accepts. Then the queue itself in pinned mode with a small
// region: many one-shots of mixed sizes in flight at once, each still
// node's round trip.
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { PinnedArena } from '../src/ring/pinned-arena';
import { KiB, MiB, binary, prng, text } from './helpers/corpus';

const UNIT = 16 * KiB;

function overlaps(runs: Array<[number, number]>): boolean {
  const sorted = [...runs].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1][0] + sorted[i - 1][1] > sorted[i][0]) return true;
  return false;
}

describe('PinnedArena', () => {
  it('hands out disjoint runs of whole units inside the region, until it is full', () => {
    const arena = new PinnedArena(64 * UNIT, UNIT);
    const runs: Array<[number, number]> = [];
    for (const bytes of [1, UNIT, UNIT + 1, 5 * UNIT - 3, 3]) {
      const at = arena.take(bytes);
      expect(at % UNIT).toBe(0);
      runs.push([at, Math.ceil(bytes / UNIT) * UNIT]);
    }
    expect(overlaps(runs)).toBe(false);
    expect(arena.availableBytes).toBe((64 - 1 - 1 - 2 - 5 - 1) * UNIT);
    expect(arena.take(55 * UNIT)).toBe(-1);
    const rest = arena.take(54 * UNIT);
    expect(rest).toBeGreaterThanOrEqual(0);
    runs.push([rest, 54 * UNIT]);
    expect(overlaps(runs)).toBe(false);
    for (const [at, len] of runs) expect(at + len).toBeLessThanOrEqual(64 * UNIT);
    expect(arena.take(1)).toBe(-1);
  });

  it('refuses a run longer than any free stretch even with enough units free in pieces', () => {
    const arena = new PinnedArena(8 * UNIT, UNIT);
    const a = [0, 1, 2, 3, 4, 5, 6, 7].map(() => arena.take(UNIT));
    arena.give(a[1]);
    arena.give(a[3]);
    arena.give(a[5]);
    expect(arena.availableBytes).toBe(3 * UNIT);
    expect(arena.take(2 * UNIT)).toBe(-1);
    arena.give(a[2]);
    expect(arena.take(3 * UNIT)).toBe(a[1]);
  });

  it('a run given back twice is an error, not a silent double free', () => {
    const arena = new PinnedArena(4 * UNIT, UNIT);
    const at = arena.take(UNIT);
    arena.give(at);
    expect(() => arena.give(at)).toThrow(/twice/);
  });

  it('random take/give: runs stay disjoint, and a drained region fits a quarter of itself', () => {
    const units = 256;
    const arena = new PinnedArena(units * UNIT, UNIT);
    const next = prng(99);
    const live = new Map<number, number>();
    for (let step = 0; step < 20000; step++) {
      if (live.size > 0 && next() % 3 === 0) {
        const keys = [...live.keys()];
        const at = keys[next() % keys.length];
        arena.give(at);
        live.delete(at);
      } else {
        const bytes = 1 + (next() % (units / 4)) * UNIT - (next() % UNIT);
        const at = arena.take(Math.max(1, bytes));
        if (at >= 0) {
          const len = Math.ceil(Math.max(1, bytes) / UNIT) * UNIT;
          for (const [o, l] of live) expect(at + len <= o || o + l <= at).toBe(true);
          expect(at + len).toBeLessThanOrEqual(units * UNIT);
          live.set(at, len);
        }
      }
    }
    for (const at of live.keys()) arena.give(at);
    expect(arena.availableBytes).toBe(units * UNIT);
    const quarter = [0, 1, 2, 3].map(() => arena.take((units / 4) * UNIT));
    expect(quarter.every((at) => at >= 0)).toBe(true);
  });
});

describe('pinned queue with a 1 MiB region', () => {
  afterAll(() => uaccel.configure({ sva: true, pinnedBytes: 4 * MiB }));

  it('mixed one-shots and streams in flight together all round-trip with node', async () => {
    uaccel.configure({ sva: false, pinnedBytes: MiB });
    const sizes = [1, 100, 3 * KiB, 17 * KiB, 64 * KiB + 1, 200 * KiB, 256 * KiB];
    const inputs = sizes.flatMap((n, i) => [text(n, i + 1), binary(n, i + 50)]);
    const gz = promisify(uaccel.gzip);
    const gunzip = promisify(uaccel.gunzip);
    const outputs = await Promise.all(inputs.map((b) => gz(b)));
    outputs.forEach((out, i) => expect(zlib.gunzipSync(out).equals(inputs[i])).toBe(true));
    const back = await Promise.all(inputs.map((b) => gunzip(zlib.gzipSync(b))));
    back.forEach((out, i) => expect(out.equals(inputs[i])).toBe(true));
    const big = text(3 * MiB + 7, 3);
    const streamed = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = uaccel.createGzip();
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
      for (let at = 0; at < big.length; at += 300 * KiB) s.write(big.subarray(at, at + 300 * KiB));
      s.end();
    });
    expect(zlib.gunzipSync(streamed).equals(big)).toBe(true);
    expect(uaccel.info().sva).toBe(false);
  });

  it('200 one-shots of random sizes up to 600 KiB and 4 streams at once: every output is right', async () => {
    uaccel.configure({ sva: false, pinnedBytes: MiB });
    const next = prng(7);
    const gz = promisify(uaccel.gzip);
    const inflate = promisify(uaccel.inflate);
    const jobs: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      const input = (i % 3 === 0 ? binary : text)(next() % (600 * KiB), i);
      jobs.push(
        i % 2 === 0
          ? gz(input).then((out) => void expect(zlib.gunzipSync(out).equals(input)).toBe(true))
          : inflate(zlib.deflateSync(input)).then((out) => void expect(out.equals(input)).toBe(true)),
      );
    }
    for (let i = 0; i < 4; i++) {
      const input = text(MiB + i * 77 * KiB, 100 + i);
      jobs.push(
        new Promise<void>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const s = i % 2 === 0 ? uaccel.createGzip({ level: 1 }) : uaccel.createGunzip();
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('error', reject);
          s.on('end', () => {
            const out = Buffer.concat(chunks);
            expect(i % 2 === 0 ? zlib.gunzipSync(out).equals(input) : out.equals(input)).toBe(true);
            resolve();
          });
          const feed = i % 2 === 0 ? input : zlib.gzipSync(input);
          for (let at = 0; at < feed.length; at += 50 * KiB) s.write(feed.subarray(at, at + 50 * KiB));
          s.end();
        }),
      );
    }
    await Promise.all(jobs);
  });
});
