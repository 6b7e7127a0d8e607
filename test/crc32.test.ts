// zlib.crc32 against node's own: strings (as UTF-8), every ArrayBufferView
// kind, seeds that chain, large inputs, and node's argument errors. Runs in
// both memory modes: the CRC32 descriptor executes inline either way.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { MODES, useMode } from './helpers/streams';

const nodeCrc32 = (zlib as unknown as { crc32: typeof uaccel.crc32 }).crc32;
const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff));

const INPUTS: Array<[string, string | NodeJS.ArrayBufferView]> = [
  ['empty string', ''],
  ['ascii string', 'The quick brown fox jumps over the lazy dog'],
  ['non-ascii string', 'héllo wörld — ✓ 😀'],
  ['empty Buffer', Buffer.alloc(0)],
  ['Buffer', bytes],
  ['Buffer slice', bytes.subarray(17, 1000)],
  ['Uint16Array', new Uint16Array(bytes.buffer, bytes.byteOffset, 1024)],
  ['Float64Array', new Float64Array([1.5, -2, Math.PI])],
  ['DataView', new DataView(bytes.buffer, bytes.byteOffset + 3, 500)],
  ['1 MiB', Buffer.alloc(1 << 20, 'abcdefg')],
];

const SEEDS = [0, 1, 0x12345678, 0xffffffff];

const INVALID_DATA: unknown[] = [undefined, null, 1, true, {}, [], new ArrayBuffer(4), Symbol('s')];
const INVALID_VALUES: Array<[unknown, string]> = [
  ['1', 'ERR_INVALID_ARG_TYPE'],
  [null, 'ERR_INVALID_ARG_TYPE'],
  [1n, 'ERR_INVALID_ARG_TYPE'],
  [-1, 'ERR_OUT_OF_RANGE'],
  [2 ** 32, 'ERR_OUT_OF_RANGE'],
  [1.5, 'ERR_OUT_OF_RANGE'],
  [Number.NaN, 'ERR_OUT_OF_RANGE'],
  [Infinity, 'ERR_OUT_OF_RANGE'],
];

function thrown(fn: () => unknown): { name: string; code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as Error & { code?: string };
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('did not throw');
}

for (const mode of MODES) {
  describe(`crc32 (${mode.name})`, () => {
    useMode(mode.sva);

    it.each(INPUTS)('%s matches node for every seed', (_, data) => {
      for (const seed of SEEDS) expect(uaccel.crc32(data, seed)).toBe(nodeCrc32(data, seed));
      expect(uaccel.crc32(data)).toBe(nodeCrc32(data));
    });

    it('continues from a previous value as one pass would', () => {
      const whole = uaccel.crc32(bytes);
      const split = uaccel.crc32(bytes.subarray(1000), uaccel.crc32(bytes.subarray(0, 1000)));
      expect(split).toBe(whole);
    });

    it('runs on the device', () => {
      const before = uaccel.info().counters.bytesIn;
      uaccel.crc32(bytes);
      expect(uaccel.info().counters.bytesIn - before).toBe(bytes.length);
    });
  });
}

describe('crc32 argument errors', () => {
  it.each(INVALID_DATA.map((v) => [String(typeof v), v]))(
    'data of type %s is refused as node refuses it',
    (_, data) => {
      expect(thrown(() => uaccel.crc32(data as string))).toEqual(thrown(() => nodeCrc32(data as string)));
    },
  );

  it.each(INVALID_VALUES)('value %s is refused with %s', (value, code) => {
    const ours = thrown(() => uaccel.crc32('x', value as number));
    expect(ours.code).toBe(code);
    expect(ours).toEqual(thrown(() => nodeCrc32('x', value as number)));
  });
});
