// node:zlib's own constants object and return-code table, so values and
// identity match whatever Node version runs us.
import * as nodeZlib from 'zlib';

export const constants = nodeZlib.constants;
/** Return-code names both ways, as node:zlib exposes them (`codes.Z_DATA_ERROR === -3`, `codes[-3] === 'Z_DATA_ERROR'`). */
export const codes = (nodeZlib as unknown as { codes: Readonly<Record<string | number, string | number>> })
  .codes;

export const {
  Z_NO_FLUSH,
  Z_BLOCK,
  Z_PARTIAL_FLUSH,
  Z_SYNC_FLUSH,
  Z_FULL_FLUSH,
  Z_FINISH,
  Z_MIN_CHUNK,
  Z_MIN_LEVEL,
  Z_MAX_LEVEL,
  Z_DEFAULT_CHUNK,
  Z_DEFAULT_STRATEGY,
  Z_FIXED,
} = nodeZlib.constants;

/** Stream modes, numbered as node numbers them (and as the native codec expects). */
export const enum Mode {
  DEFLATE = 1,
  INFLATE = 2,
  GZIP = 3,
  GUNZIP = 4,
  DEFLATERAW = 5,
  INFLATERAW = 6,
  UNZIP = 7,
}

export function isDeflateMode(mode: Mode): boolean {
  return mode === Mode.DEFLATE || mode === Mode.GZIP || mode === Mode.DEFLATERAW;
}
