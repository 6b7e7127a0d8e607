// gzip's and pigz's spellings of the options, parsed to the same settings.
import { describe, expect, it } from 'vitest';

import { parseGzipArgs, UsageError, type GzipOptions } from '../src/cli/gzip-options';

const CASES: [string[], Partial<GzipOptions>][] = [
  [[], { level: 6, files: [], decompress: false }],
  [['-9', 'f'], { level: 9, files: ['f'] }],
  [['--fast', '--best'], { level: 9 }],
  [['-kc1', 'a', 'b'], { keep: true, stdout: true, level: 1, files: ['a', 'b'] }],
  [['-d', '--force', '--to-stdout'], { decompress: true, force: true, stdout: true }],
  [['-t', 'x.gz'], { test: true, decompress: true, files: ['x.gz'] }],
  [['-rv', 'dir'], { recursive: true, verbose: true, files: ['dir'] }],
  [['-p', '4'], { workers: 4 }],
  [['-p4', '-n'], { workers: 4, noName: true }],
  [['--processes=3', '-N'], { workers: 3, restoreTime: true }],
  [['--', '-9'], { files: ['-9'], level: 6 }],
  [['-'], { files: ['-'] }],
];

describe('parseGzipArgs', () => {
  for (const [args, expected] of CASES) {
    it(`${JSON.stringify(args)}`, () => {
      expect(parseGzipArgs(args)).toMatchObject(expected);
    });
  }

  it('gunzip starts from decompress', () => {
    expect(parseGzipArgs(['f.gz'], { decompress: true })).toMatchObject({
      decompress: true,
      files: ['f.gz'],
    });
  });

  for (const bad of [['-x'], ['--nope'], ['-p'], ['-p', '0'], ['-p', 'two'], ['--keep=yes']]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => parseGzipArgs(bad)).toThrow(UsageError);
    });
  }
});
