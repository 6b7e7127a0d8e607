// Deterministic test data: the same seed always yields the same bytes, so a
// failure reproduces exactly. Compressed samples are produced at run time by
// node:zlib itself, never stored.
import * as zlib from 'node:zlib';

/** mulberry32: a small, fast, seedable PRNG returning uint32s. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but ' +
  'have an they you were her she there been one all we their has would when if so no will more ' +
  'queue ring descriptor device buffer stream deflate inflate gzip window dictionary flush ' +
  'completion submission worker thread memory pinned region batch latency throughput error'
).split(' ');

/** Seeded English-like text with punctuation and line breaks: compresses well. */
export function text(size: number, seed = 1): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const r = next();
    let word = WORDS[r % WORDS.length];
    if ((r >>> 8) % 11 === 0) word = word[0].toUpperCase() + word.slice(1);
    const sep = (r >>> 16) % 13 === 0 ? '.\n' : (r >>> 16) % 7 === 0 ? ', ' : ' ';
    at += out.write(word + sep, at, 'latin1');
  }
  return out;
}

/** Seeded uniformly random bytes: incompressible. */
export function binary(size: number, seed = 2): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) out.writeUInt32LE(next(), i);
  const last = next();
  for (let k = 0; i < size; i++, k++) out[i] = (last >>> (8 * k)) & 0xff;
  return out;
}

/** Seeded runs of repeated bytes interleaved with noise: exercises RLE and long matches. */
export function runs(size: number, seed = 3): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const r = next();
    const len = Math.min(size - at, 1 + (r % 300));
    if ((r >>> 16) & 1) out.fill(r >>> 24, at, at + len);
    else binary(len, r).copy(out, at);
    at += len;
  }
  return out;
}

/** Already-compressed data (a gzip file of text, made by node:zlib), exactly `size` bytes. */
export function compressed(size: number, seed = 4): Buffer {
  const parts: Buffer[] = [];
  let have = 0;
  for (let s = seed; have < size; s++) {
    const gz = zlib.gzipSync(text(Math.max(4096, size * 3), s));
    parts.push(gz);
    have += gz.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

export type Kind = 'text' | 'binary' | 'runs' | 'compressed';
const makers: Record<Kind, (size: number, seed?: number) => Buffer> = { text, binary, runs, compressed };

export function sample(kind: Kind, size: number, seed?: number): Buffer {
  return makers[kind](size, seed);
}

/** A small mixed corpus: one sample of every kind, tagged by name. */
export function corpus(size: number): Array<{ name: string; data: Buffer }> {
  return (Object.keys(makers) as Kind[]).map((kind) => ({
    name: `${kind} ${size}B`,
    data: sample(kind, size),
  }));
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
