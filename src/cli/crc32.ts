// The CRC-32 the gzip trailer needs: uaccel's own when the package exports
// one (it runs on the device), node:zlib's otherwise (Node 20.15 and later).
import * as nodeZlib from 'zlib';

import * as uaccel from '../index';

export type Crc32 = (data: Uint8Array, value?: number) => number;

const candidates = [
  (uaccel as unknown as { crc32?: Crc32 }).crc32,
  (nodeZlib as unknown as { crc32?: Crc32 }).crc32,
];

export const crc32: Crc32 =
  candidates.find((f): f is Crc32 => typeof f === 'function') ??
  (() => {
    throw new Error('uaccel gzip needs zlib.crc32, which this Node lacks: use Node 20.15 or newer');
  });
