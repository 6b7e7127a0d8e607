// zlib.crc32(data, value): the CRC-32 that gzip uses, computed by the device
// through its CRC32 opcode, run inline like the *Sync calls (a checksum is
// cheaper than a trip through the ring and back).
import * as nodeZlib from 'zlib';
import { isArrayBufferView } from 'util/types';

import { errInvalidArgType, validateUint32 } from '../errors';
import { binding } from '../native/binding';
import { currentQueue } from '../ring/current';

/** Bytes per descriptor: src_len is 32 bits, and pinned or not, inline runs see process memory. */
const CRC_DESCRIPTOR_BYTES = 1 << 30;

type Crc32 = (data: string | NodeJS.ArrayBufferView, value?: number) => number;

// Captured at load: uaccel/register later replaces node:zlib's exports with ours.
const nodeCrc32 = (nodeZlib as unknown as { crc32?: Crc32 }).crc32;

function deviceCrc32(bytes: Uint8Array, seed: number): number {
  const queue = currentQueue();
  const op = binding!.abi.op.CRC32;
  let crc = seed;
  for (let off = 0; off < bytes.byteLength; off += CRC_DESCRIPTOR_BYTES) {
    const len = Math.min(CRC_DESCRIPTOR_BYTES, bytes.byteLength - off);
    const c = queue.runInline({
      op,
      flush: 0,
      ctx: 0,
      src: bytes,
      srcOff: off,
      srcLen: len,
      dst: undefined,
      dstOff: 0,
      dstLen: 0,
      arg: crc,
      done: noop,
    });
    if (c.status < 0) throw new Error(`uaccel: the device failed a CRC32 descriptor (status ${c.status})`);
    crc = c.check;
  }
  return crc;
}

// Node before 20.15 has no zlib.crc32: without the addon too, compute it here.
const crcTable = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function tableCrc32(bytes: Uint8Array, seed: number): number {
  let crc = ~seed;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function bytesOf(data: string | NodeJS.ArrayBufferView): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** CRC-32 of `data` (a string is taken as UTF-8), continuing from `value`, as node:zlib's crc32. */
export function crc32(data: string | NodeJS.ArrayBufferView, value: number = 0): number {
  if (typeof data !== 'string' && !isArrayBufferView(data)) {
    throw errInvalidArgType('data', ['Buffer', 'TypedArray', 'DataView', 'string'], data);
  }
  validateUint32(value, 'value');
  if (binding === null) {
    return nodeCrc32 ? nodeCrc32(data, value) : tableCrc32(bytesOf(data), value);
  }
  const bytes = bytesOf(data);
  if (bytes.byteLength === 0) return value;
  return deviceCrc32(bytes, value);
}

function noop(): void {}
