// node itself is the oracle throughout: every expectation is computed by
// running the same input through node:zlib or node's internal error codes.
import { spawnSync } from 'child_process';
import { kMaxLength } from 'buffer';
import { readFileSync } from 'fs';
import { join } from 'path';
import { runInThisContext } from 'vm';
import { inspect } from 'util';
import * as zlib from 'zlib';
import * as ts from 'typescript';
import { describe, it, expect } from 'vitest';
import {
  checkRangesOrGetDefault,
  errBufferTooLarge,
  errOutOfRange,
  errZlibInitializationFailed,
  validateFiniteNumber,
  validateFunction,
  validateNumber,
  validateUint32,
  zlibError,
} from '../src/errors';
import { validateZlibOptions } from '../src/zlib/options';

const { constants } = zlib;

type Shape = Record<string, unknown>;

// Shared as source so the child node below runs exactly the same function.
const SHAPE_SRC = `(err) => ({
  ctor: err.constructor.name,
  isTypeError: err instanceof TypeError,
  isRangeError: err instanceof RangeError,
  name: err.name,
  code: err.code,
  errno: err.errno,
  message: err.message,
  string: String(err),
  header: String(err.stack).split('\\n')[0],
  keys: Object.keys(err),
  ownNames: Object.getOwnPropertyNames(err).sort(),
})`;
/** Everything about an error that callers can observe without parsing frames. */
const shapeOf = runInThisContext(SHAPE_SRC) as (err: unknown) => Shape;

function thrown(fn: () => unknown): Shape | 'no throw' {
  try {
    fn();
  } catch (err) {
    return shapeOf(err);
  }
  return 'no throw';
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// ---- validateZlibOptions against node's zlib constructors ----

const nodeFactories: Record<number, (opts?: zlib.ZlibOptions) => zlib.Gzip> = {
  [constants.DEFLATE]: zlib.createDeflate,
  [constants.INFLATE]: zlib.createInflate,
  [constants.GZIP]: zlib.createGzip,
  [constants.GUNZIP]: zlib.createGunzip,
  [constants.DEFLATERAW]: zlib.createDeflateRaw,
  [constants.INFLATERAW]: zlib.createInflateRaw,
  [constants.UNZIP]: zlib.createUnzip,
};
const modes = Object.keys(nodeFactories).map(Number);

type Outcome = { error: Shape } | { resolved: Shape };

/** The fields node keeps on the stream (windowBits and memLevel go straight to the handle). */
function nodeOutcome(mode: number, opts: unknown): Outcome {
  let stream: zlib.Gzip;
  try {
    stream = nodeFactories[mode](opts as zlib.ZlibOptions);
  } catch (err) {
    return { error: shapeOf(err) };
  }
  const s = stream as unknown as Record<string, unknown>;
  stream.close();
  return {
    resolved: {
      chunkSize: s._chunkSize,
      flush: s._defaultFlushFlag,
      finishFlush: s._finishFlushFlag,
      maxOutputLength: s._maxOutputLength,
      level: s._level,
      strategy: s._strategy,
      info: Boolean(s._info),
    },
  };
}

function ourOutcome(mode: number, opts: unknown): Outcome {
  try {
    const r = validateZlibOptions(opts, mode);
    return {
      resolved: {
        chunkSize: r.chunkSize,
        flush: r.flush,
        finishFlush: r.finishFlush,
        maxOutputLength: r.maxOutputLength,
        level: r.level,
        strategy: r.strategy,
        info: r.info,
      },
    };
  } catch (err) {
    return { error: shapeOf(err) };
  }
}

/** Opts are rebuilt for each side because node's DeflateRaw rewrites windowBits in place. */
function mismatches(cases: Array<{ label: string; make: () => unknown }>, mode: number): unknown[] {
  const out: unknown[] = [];
  for (const { label, make } of cases) {
    const node = nodeOutcome(mode, make());
    const ours = ourOutcome(mode, make());
    try {
      expect(ours).toEqual(node);
    } catch {
      out.push({ label, node, ours });
    }
  }
  return out;
}

const badValues: unknown[] = [
  'a',
  '',
  '9',
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1,
  1.5,
  -1,
  -2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  15,
  16,
  63,
  64,
  65,
  2 ** 31,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 40,
  -(2 ** 40),
  -(2 ** 39),
  constants.Z_DEFAULT_CHUNK,
  kMaxLength,
  kMaxLength + 1,
  10n,
  null,
  undefined,
  true,
  false,
  {},
  [],
  [1],
  Symbol('s'),
  () => 1,
  function named() {},
  Object.create(null),
  new Number(5),
  'a string that is longer than twenty-eight chars',
  "it's",
  Buffer.from('dict'),
  new Uint16Array([1, 2]),
  new DataView(new ArrayBuffer(3)),
  new ArrayBuffer(2),
  new SharedArrayBuffer(2),
];
const isHugeValidSize = (v: unknown) => typeof v === 'number' && v > 2 ** 24 && v <= kMaxLength;
const optionKeys = [
  'windowBits',
  'level',
  'memLevel',
  'strategy',
  'dictionary',
  'chunkSize',
  'flush',
  'finishFlush',
  'maxOutputLength',
  'info',
];

describe('validateZlibOptions matches node:zlib', () => {
  for (const mode of modes) {
    describe(`mode ${mode}`, () => {
      for (const key of optionKeys) {
        it(`options.${key}`, () => {
          // A valid multi-gigabyte chunkSize makes node reserve that much
          // address space per stream, enough to starve later child spawns.
          const values = key === 'chunkSize' ? badValues.filter((v) => !isHugeValidSize(v)) : badValues;
          const cases = values.map((value) => ({ label: inspect(value), make: () => ({ [key]: value }) }));
          expect(mismatches(cases, mode)).toEqual([]);
        });
      }

      it('non-object and empty options', () => {
        const values = [
          undefined,
          null,
          0,
          '',
          false,
          NaN,
          'abc',
          42,
          true,
          [],
          {},
          () => 1,
          Object.create(null),
        ];
        const cases = values.map((value) => ({ label: inspect(value), make: () => value }));
        expect(mismatches(cases, mode)).toEqual([]);
      });

      it('reports the same option first when several are bad', () => {
        const bad: Record<string, unknown> = {
          windowBits: 99,
          level: 'x',
          memLevel: 0,
          strategy: 5,
          dictionary: 'str',
          chunkSize: 1,
          flush: -1,
          finishFlush: Infinity,
          maxOutputLength: 0,
        };
        const keys = Object.keys(bad);
        const cases = [{ label: 'all', make: () => ({ ...bad }) }];
        for (const a of keys) {
          for (const b of keys) {
            if (a !== b) cases.push({ label: `${a}+${b}`, make: () => ({ [a]: bad[a], [b]: bad[b] }) });
          }
        }
        expect(mismatches(cases, mode)).toEqual([]);
      });
    });
  }

  it('resolves windowBits as node does', () => {
    const wb = (mode: number, windowBits?: unknown) => validateZlibOptions({ windowBits }, mode).windowBits;
    expect(wb(constants.INFLATE)).toBe(0);
    expect(wb(constants.GUNZIP, 0)).toBe(0);
    expect(wb(constants.UNZIP, null)).toBe(0);
    expect(validateZlibOptions(undefined, constants.INFLATE).windowBits).toBe(15);
    expect(wb(constants.DEFLATE)).toBe(15);
    expect(wb(constants.DEFLATE, 8)).toBe(8);
    expect(wb(constants.DEFLATERAW, 8)).toBe(9);
    expect(wb(constants.INFLATERAW, 8)).toBe(8);
    expect(validateZlibOptions({ memLevel: 1 }, constants.DEFLATE).memLevel).toBe(1);
  });

  it('passes dictionaries as byte views over the caller memory', () => {
    const ab = new ArrayBuffer(4);
    const fromAb = validateZlibOptions({ dictionary: ab }, constants.DEFLATE).dictionary!;
    new Uint8Array(ab)[1] = 7;
    expect(Buffer.isBuffer(fromAb)).toBe(true);
    expect(fromAb[1]).toBe(7);

    const u16 = new Uint16Array(new ArrayBuffer(8), 2, 2);
    const fromView = validateZlibOptions({ dictionary: u16 }, constants.INFLATE).dictionary!;
    expect([fromView.buffer, fromView.byteOffset, fromView.byteLength]).toEqual([u16.buffer, 2, 4]);

    const buf = Buffer.from('abc');
    expect(validateZlibOptions({ dictionary: buf }, constants.GZIP).dictionary).toBe(buf);
    expect(validateZlibOptions({}, constants.GZIP).dictionary).toBeUndefined();
  });
});

// ---- error factories against node's internal error codes ----

// Evaluated both here and in a child node with --expose-internals, so both
// sides build errors from identical values.
const CASES_SRC = `(() => {
  class Foo {}
  const values = [
    'a', '', "it's", 'x'.repeat(40), "quote's and a long tail of text", NaN, -0, 0, 1.5, Infinity, -Infinity,
    2 ** 32, 2 ** 32 + 1, -(2 ** 32 + 1), 2 ** 40, -(2 ** 40), -(2 ** 39), 10n, 2n ** 40n, -(2n ** 40n), true, false,
    null, undefined, Symbol('s'), function named() {}, () => {}, Foo, {}, [], new Foo(), new Map(),
    Object.create(null), { a: { b: { c: 1 } } }, 'y'.repeat(200), Buffer.from('z'),
  ];
  const expected = [
    'number', 'Function', 'Object', 'object', 'a valid thing', 'Array<string>',
    ['string', 'Buffer', 'TypedArray', 'DataView', 'ArrayBuffer'], ['object', 'Buffer'], ['Object', 'Function'],
    ['string', 'number', 'boolean'], ['null', 'undefined'], ['number', 'Buffer', 'an odd one'],
  ];
  const cases = [];
  for (const v of values) {
    for (const name of ['options.level', 'cb', 'first argument']) {
      for (const e of expected) cases.push(['ERR_INVALID_ARG_TYPE', name, e, v]);
      cases.push(['ERR_OUT_OF_RANGE', name, '>= 0 and <= 9', v]);
      cases.push(['ERR_INVALID_ARG_VALUE', name, v]);
      cases.push(['ERR_INVALID_ARG_VALUE', name, v, 'must be something else']);
    }
    cases.push(['ERR_INVALID_STATE', v]);
    if (typeof v === 'number') cases.push(['ERR_BUFFER_TOO_LARGE', v]);
  }
  return cases;
})()`;

/**
 * Builds every case with node's internal error classes and with our
 * factories, side by side in a plain node process (no test-runner stack
 * formatting in the way), and returns both shapes per case.
 */
function shapesFromPlainNode(): Array<{ node: Shape; ours: Shape }> {
  const source = readFileSync(join(__dirname, '../src/errors.ts'), 'utf8');
  const compiled = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const script = `
    const { codes } = require('internal/errors');
    const ours = {};
    new Function('exports', 'require', ${JSON.stringify(compiled)})(ours, require);
    const factories = {
      ERR_INVALID_ARG_TYPE: ours.errInvalidArgType,
      ERR_OUT_OF_RANGE: ours.errOutOfRange,
      ERR_INVALID_ARG_VALUE: ours.errInvalidArgValue,
      ERR_INVALID_STATE: ours.errInvalidState,
      ERR_BUFFER_TOO_LARGE: ours.errBufferTooLarge,
    };
    const shapeOf = ${SHAPE_SRC};
    const pairs = ${CASES_SRC}.map(([code, ...args]) => ({
      args: require('util').inspect(args),
      node: shapeOf(new codes[code](...args)),
      ours: shapeOf(factories[code](...args)),
    }));
    process.stdout.write(JSON.stringify(pairs));
  `;
  const child = spawnSync(process.execPath, ['--expose-internals', '-'], {
    input: script,
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
  });
  if (child.status !== 0) throw child.error ?? new Error(child.stderr);
  return JSON.parse(child.stdout) as Array<{ node: Shape; ours: Shape }>;
}

describe('error factories match node', () => {
  it('match node internal errors for every code and value', () => {
    const pairs = shapesFromPlainNode();
    expect(pairs.length).toBeGreaterThan(1000);
    expect(pairs.filter((p) => JSON.stringify(p.ours) !== JSON.stringify(p.node))).toEqual([]);
    // The stack header carries the code when node formats stacks itself.
    expect(pairs[0].ours.header).toMatch(/^TypeError \[ERR_INVALID_ARG_TYPE\]: /);
  });

  it('errBufferTooLarge matches what node:zlib throws', () => {
    const input = zlib.deflateSync(Buffer.alloc(100));
    expect(shapeOf(errBufferTooLarge(10))).toEqual(
      thrown(() => zlib.inflateSync(input, { maxOutputLength: 10 })),
    );
  });

  it('errZlibInitializationFailed matches what node:zlib throws', () => {
    // An encoder-only parameter makes the decoder's native init fail.
    const params = { [constants.BROTLI_PARAM_LGBLOCK]: 99 };
    const node = thrown(() => zlib.createBrotliDecompress({ params }));
    expect(node).not.toBe('no throw');
    expect(shapeOf(errZlibInitializationFailed())).toEqual(node);
  });

  it('zlibError matches the errors node:zlib streams fail with', () => {
    for (const input of [Buffer.from('x'), Buffer.from('garbage that is not gzip')]) {
      const node = thrown(() => zlib.gunzipSync(input)) as Shape;
      expect(shapeOf(zlibError(node.message as string, node.errno as number, node.code as string))).toEqual(
        node,
      );
    }
  });

  it('prints like node in util.inspect, apart from the frames', () => {
    const firstLines = (e: unknown) =>
      inspect(e)
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('at '));
    expect(firstLines(errOutOfRange('options.level', '>= -1 and <= 9', 10))).toEqual(
      firstLines(caught(() => zlib.createGzip({ level: 10 }))),
    );
  });
});

// ---- validators ----

describe('validators', () => {
  it('behave like node for numbers and non-numbers', () => {
    expect(validateFiniteNumber(undefined, 'n')).toBe(false);
    expect(validateFiniteNumber(NaN, 'n')).toBe(false);
    expect(validateFiniteNumber(-0, 'n')).toBe(true);
    expect(thrown(() => validateFiniteNumber(Infinity, 'n'))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => validateFiniteNumber('1', 'n'))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(checkRangesOrGetDefault(undefined, 'n', 0, 9, 4)).toBe(4);
    expect(checkRangesOrGetDefault(NaN, 'n', 0, 9)).toBeUndefined();
    expect(checkRangesOrGetDefault(2.5, 'n', 0, 9, 4)).toBe(2.5);
    expect(() => validateNumber(1, 'n')).not.toThrow();
    expect(thrown(() => validateNumber(NaN, 'n', 0))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(() => validateFunction(() => 1, 'cb')).not.toThrow();
    expect(() => validateUint32(0, 'n')).not.toThrow();
    expect(thrown(() => validateUint32(0, 'n', true))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('throw what node:zlib throws for the same misuse', () => {
    // params(), the callback APIs and crc32() validate through these same helpers.
    const deflate = zlib.createDeflate();
    expect(
      thrown(() => checkRangesOrGetDefault(42, 'level', constants.Z_MIN_LEVEL, constants.Z_MAX_LEVEL)),
    ).toEqual(thrown(() => deflate.params(42, 0, () => {})));
    deflate.close();
    expect(thrown(() => validateFunction('nope', 'callback'))).toEqual(
      thrown(() => zlib.gzip('x', {}, 'nope' as never)),
    );
    expect(thrown(() => validateUint32(-1, 'value'))).toEqual(thrown(() => zlib.crc32('x', -1)));
    expect(thrown(() => validateUint32(1.5, 'value'))).toEqual(thrown(() => zlib.crc32('x', 1.5)));
  });

  it('start the stack at the caller, not inside the validators', () => {
    for (const fn of [
      () => checkRangesOrGetDefault(Infinity, 'n', 0, 1),
      () => checkRangesOrGetDefault('x', 'n', 0, 1),
      () => validateFunction(1, 'cb'),
      () => validateUint32(-1, 'n'),
      () => {
        throw errOutOfRange('n', '>= 0', -1);
      },
    ]) {
      const stack = String((caught(fn) as Error).stack).split('\n');
      expect(stack[1]).toMatch(/errors\.test\.ts/);
    }
  });
});
