// What `uaccel gzip|gunzip` does to files: naming, -k -f -c -t -r, stdin to
// stdout, and that no half-written output is ever left under a final name.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KiB, text } from './helpers/corpus';
import { scratch, uaccel } from './helpers/cli';

const DATA = text(200 * KiB, 31);

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratch()));
afterEach(() => cleanup());

const at = (name: string) => join(dir, name);

describe('uaccel gzip, files in place', () => {
  it('replaces f with f.gz, keeping the mode', () => {
    writeFileSync(at('f'), DATA);
    chmodSync(at('f'), 0o640);
    const r = uaccel(['gzip', 'f'], { cwd: dir });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(existsSync(at('f'))).toBe(false);
    expect(zlib.gunzipSync(readFileSync(at('f.gz'))).equals(DATA)).toBe(true);
    expect(statSync(at('f.gz')).mode & 0o777).toBe(0o640);
  });

  it('-k keeps the input; gunzip -k keeps the .gz', () => {
    writeFileSync(at('f'), DATA);
    expect(uaccel(['gzip', '-k', 'f'], { cwd: dir }).status).toBe(0);
    expect(existsSync(at('f'))).toBe(true);
    writeFileSync(at('f'), 'stale');
    expect(uaccel(['gunzip', '-k', '-f', 'f.gz'], { cwd: dir }).status).toBe(0);
    expect(existsSync(at('f.gz'))).toBe(true);
    expect(readFileSync(at('f')).equals(DATA)).toBe(true);
  });

  it('refuses to overwrite without -f (warning, exit 2) and overwrites with -f', () => {
    writeFileSync(at('f'), DATA);
    writeFileSync(at('f.gz'), 'precious');
    const refused = uaccel(['gzip', 'f'], { cwd: dir });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/f\.gz already exists;\s+not overwritten/);
    expect(readFileSync(at('f.gz'), 'utf8')).toBe('precious');
    expect(existsSync(at('f'))).toBe(true);
    expect(uaccel(['gzip', '-f', 'f'], { cwd: dir }).status).toBe(0);
    expect(zlib.gunzipSync(readFileSync(at('f.gz'))).equals(DATA)).toBe(true);
  });

  it('-c writes every named file to stdout as one member each, leaving the files alone', () => {
    const other = text(10 * KiB, 32);
    writeFileSync(at('a'), DATA);
    writeFileSync(at('b'), other);
    const r = uaccel(['gzip', '-c', 'a', 'b'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(zlib.gunzipSync(r.stdout).equals(Buffer.concat([DATA, other]))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('reads stdin and writes stdout when no file is named, and -d reverses it', () => {
    const packed = uaccel(['gzip', '-9'], { input: DATA });
    expect(packed.status).toBe(0);
    expect(packed.stdout[8]).toBe(2); // XFL: slowest level
    const unpacked = uaccel(['gzip', '-d'], { input: packed.stdout });
    expect(unpacked.status).toBe(0);
    expect(unpacked.stdout.equals(DATA)).toBe(true);
    expect(uaccel(['gunzip', '-'], { input: packed.stdout }).stdout.equals(DATA)).toBe(true);
  });

  it('-t checks integrity without writing anything', () => {
    writeFileSync(at('ok.gz'), zlib.gzipSync(DATA));
    const r = uaccel(['gunzip', '-t', 'ok.gz'], { cwd: dir });
    expect([r.status, r.stdout.length, r.stderr]).toEqual([0, 0, '']);
    expect(readdirSync(dir)).toEqual(['ok.gz']);
    const bad = Buffer.from(zlib.gzipSync(DATA));
    bad[bad.length - 8] ^= 0xff; // CRC-32 in the trailer
    writeFileSync(at('bad.gz'), bad);
    const t = uaccel(['gzip', '-t', 'bad.gz'], { cwd: dir });
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/bad\.gz: invalid compressed data--crc error/);
  });

  it('-r compresses a tree and gunzip -r restores it, skipping what does not apply', () => {
    mkdirSync(at('tree/sub'), { recursive: true });
    writeFileSync(at('tree/one'), DATA);
    writeFileSync(at('tree/sub/two'), 'two\n');
    writeFileSync(at('tree/sub/done.gz'), zlib.gzipSync('done\n'));
    expect(uaccel(['gzip', '-r', 'tree'], { cwd: dir }).status).toBe(0);
    expect(readdirSync(at('tree/sub')).sort()).toEqual(['done.gz', 'two.gz']);
    expect(uaccel(['gunzip', '-r', 'tree'], { cwd: dir }).status).toBe(0);
    expect(readdirSync(at('tree/sub')).sort()).toEqual(['done', 'two']);
    expect(readFileSync(at('tree/one')).equals(DATA)).toBe(true);
  });

  it('-f follows a symbolic link: the link is replaced, its target kept', () => {
    writeFileSync(at('target'), DATA);
    symlinkSync('target', at('link'));
    expect(uaccel(['gzip', '-f', 'link'], { cwd: dir }).status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['link.gz', 'target']);
    expect(zlib.gunzipSync(readFileSync(at('link.gz'))).equals(DATA)).toBe(true);
  });

  it('data after the last member: every member decompressed, by file, -c and -t, with a warning', () => {
    const gz = zlib.gzipSync(DATA);
    // Large enough that the failing step of the first pass had output of its own.
    const tail = Buffer.concat([gz, gz, Buffer.from('not gzip'), Buffer.alloc(100_000, 7)]);
    writeFileSync(at('t.gz'), tail);
    const c = uaccel(['gunzip', '-c', 't.gz'], { cwd: dir });
    expect(c.status).toBe(2);
    expect(c.stdout.equals(Buffer.concat([DATA, DATA]))).toBe(true);
    expect(uaccel(['gunzip', '-t', 't.gz'], { cwd: dir }).status).toBe(2);
    const f = uaccel(['gunzip', 't.gz'], { cwd: dir });
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/t\.gz: decompression OK, trailing garbage ignored/);
    expect(readFileSync(at('t')).equals(Buffer.concat([DATA, DATA]))).toBe(true);
    // From a pipe the input cannot be read twice: node's refusal stands.
    expect(uaccel(['gunzip'], { input: tail }).status).toBe(1);
  });

  it('names outputs as gzip does: .tgz becomes .tar', () => {
    writeFileSync(at('x.tgz'), zlib.gzipSync(DATA));
    expect(uaccel(['gunzip', 'x.tgz'], { cwd: dir }).status).toBe(0);
    expect(readdirSync(dir)).toEqual(['x.tar']);
  });

  it('-p N sets the device workers and still produces the same data', () => {
    writeFileSync(at('f'), DATA);
    const r = uaccel(['gzip', '-p', '1', '-c', 'f'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(zlib.gunzipSync(r.stdout).equals(DATA)).toBe(true);
    expect(uaccel(['gzip', '-p', 'zero', 'f'], { cwd: dir }).status).toBe(1);
  });

  it('leaves no partial output behind when decompression fails midway', () => {
    const gz = zlib.gzipSync(DATA);
    writeFileSync(at('cut.gz'), gz.subarray(0, gz.length >> 1));
    const r = uaccel(['gunzip', 'cut.gz'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cut\.gz: unexpected end of file/);
    expect(readdirSync(dir)).toEqual(['cut.gz']);
  });
});
