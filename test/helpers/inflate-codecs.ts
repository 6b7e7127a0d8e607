// The two decoders behind inflate streams: ISA-L igzip (when libisal.so.2 is
// loaded) and zlib (UACCEL_ISAL=0, or no ISA-L). Conformance tests run under
// both, so a difference between them shows up against node:zlib.
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect } from 'vitest';

import { binding } from '../../src/native/binding';
import { currentQueue } from '../../src/ring/current';

export const isalPresent = Boolean(binding?.codecs.isal);
export const isalMissingReason = binding?.codecs.isalStatus ?? 'native addon unavailable';

/** Codec ids the device reports in a completion's `detail`. */
export const CODEC = { zlib: 1, isal: 2 } as const;

export const INFLATE_CODECS = [
  { name: 'isal', isal: true },
  { name: 'zlib', isal: false },
] as const;

const GUNZIP = 4;
const Z_FINISH = 4;

/** The codec a freshly opened gunzip context decodes with, from its completion. */
export function probeInflateCodec(): number {
  const queue = currentQueue();
  const input = zlib.gzipSync(Buffer.from('probe'));
  const dst = Buffer.alloc(64);
  const ctx = queue.openContext(GUNZIP, -1, 15, 8, 0, undefined);
  try {
    const c = queue.runInline({
      op: binding!.abi.op.INFLATE,
      flush: Z_FINISH,
      ctx,
      src: input,
      srcOff: 0,
      srcLen: input.length,
      dst,
      dstOff: 0,
      dstLen: dst.length,
      arg: 0,
      done: () => {},
    });
    expect(c.status).toBe(0);
    return c.detail;
  } finally {
    queue.closeContext(ctx);
  }
}

/**
 * Streams opened in the enclosing describe decode with ISA-L (true) or zlib
 * (false): UACCEL_ISAL is read when a stream's context opens. Proves the
 * switch with a probe stream, and restores the environment afterwards.
 */
export function useInflateCodec(isal: boolean): void {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.UACCEL_ISAL;
    process.env.UACCEL_ISAL = isal ? '1' : '0';
    expect(probeInflateCodec()).toBe(isal ? CODEC.isal : CODEC.zlib);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.UACCEL_ISAL;
    else process.env.UACCEL_ISAL = saved;
  });
}

/**
 * Runs `body` once per inflate codec, inside a describe that sets it up; the
 * ISA-L run is skipped, with the reason in its title and on the console,
 * when ISA-L is not loaded.
 */
export function describeInflateCodecs(body: (codec: (typeof INFLATE_CODECS)[number]) => void): void {
  for (const codec of INFLATE_CODECS) {
    const missing = codec.isal && !isalPresent;
    if (missing) console.warn(`[inflate codecs] skipping the ISA-L runs: ${isalMissingReason}`);
    const title = missing ? `${codec.name} inflate (skipped: ${isalMissingReason})` : `${codec.name} inflate`;
    describe.skipIf(missing)(title, () => {
      useInflateCodec(codec.isal);
      body(codec);
    });
  }
}
