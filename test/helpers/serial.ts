// uaccel's one-shots pinned to node's serial zlib path (`blockSize: 0`), for
// tests whose oracle is node's exact output bytes. Options that are not a
// plain object (the invalid ones error tests pass) are passed through as they
// are, so validation still sees exactly what the caller gave.
import type * as uaccelModule from '../../src/index';

type Lib = typeof uaccelModule;
type Fn = (...args: unknown[]) => unknown;

const COMPRESSING = ['gzip', 'deflate', 'deflateRaw'] as const;

function withSerial(opts: unknown): unknown {
  if (opts === undefined) return { blockSize: 0 };
  if (opts !== null && typeof opts === 'object' && Object.getPrototypeOf(opts) === Object.prototype) {
    return { blockSize: 0, ...opts };
  }
  return opts;
}

export function serialOneShots(lib: Lib): Lib {
  const out = Object.create(lib) as Record<string, unknown>;
  for (const name of COMPRESSING) {
    const async = (lib as unknown as Record<string, Fn>)[name];
    const sync = (lib as unknown as Record<string, Fn>)[`${name}Sync`];
    out[name] = (input: unknown, opts: unknown, cb?: unknown) =>
      typeof opts === 'function'
        ? async(input, withSerial(undefined), opts)
        : async(input, withSerial(opts), cb);
    out[`${name}Sync`] = (input: unknown, opts?: unknown) => sync(input, withSerial(opts));
  }
  return out as unknown as Lib;
}
