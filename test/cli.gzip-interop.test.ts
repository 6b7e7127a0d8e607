// `uaccel gzip` output read by gzip, pigz and igzip, and their output (single and
// multi-member) read by `uaccel gunzip`; the header carries name and mtime.
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { binary, KiB, text } from './helpers/corpus';
import { hasTool, run, scratch, uaccel } from './helpers/cli';

const DATA = Buffer.concat([text(300 * KiB, 11), binary(40 * KiB, 12), text(60 * KiB, 13)]);
const TOOLS = ['gzip', 'pigz', 'igzip'] as const;
/** Each tool's default-ish level (igzip's levels are 0-3), and igzip's flag to drop the input as gzip does. */
const PACK: Record<(typeof TOOLS)[number], string[]> = {
  gzip: ['-6'],
  pigz: ['-6'],
  igzip: ['-3', '--rm'],
};

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratch()));
afterEach(() => cleanup());

for (const tool of TOOLS) {
  const skip = hasTool(tool) ? false : `${tool} is not installed`;
  describe.skipIf(skip)(`with ${tool}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    for (const level of [1, 6, 9]) {
      it(`${tool} -d reads uaccel gzip -${level}`, () => {
        writeFileSync(join(dir, 'data'), DATA);
        expect(uaccel(['gzip', `-${level}`, 'data'], { cwd: dir }).status).toBe(0);
        const r = run(tool, ['-dc', 'data.gz'], { cwd: dir });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout.equals(DATA)).toBe(true);
        expect(run(tool, ['-t', 'data.gz'], { cwd: dir }).status).toBe(0);
      });
    }

    it(`uaccel gunzip reads ${tool} ${PACK[tool][0]} output`, () => {
      writeFileSync(join(dir, 'data'), DATA);
      expect(run(tool, [...PACK[tool], 'data'], { cwd: dir }).status).toBe(0);
      const r = uaccel(['gunzip', 'data.gz'], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(join(dir, 'data')).equals(DATA)).toBe(true);
    });

    it(`uaccel gunzip reads concatenated ${tool} members (cat a.gz b.gz)`, () => {
      const a = text(50 * KiB, 21);
      const b = binary(20 * KiB, 22);
      const ga = run(tool, ['-c'], { input: a }).stdout;
      const gb = run(tool, ['-c', '-1'], { input: b }).stdout;
      writeFileSync(join(dir, 'ab.gz'), Buffer.concat([ga, gb]));
      const r = uaccel(['gunzip', '-c', 'ab.gz'], { cwd: dir });
      expect(r.status).toBe(0);
      expect(r.stdout.equals(Buffer.concat([a, b]))).toBe(true);
    });
  });
}

describe.skipIf(!hasTool('gzip'))(
  `header name and time stamp${hasTool('gzip') ? '' : ' (skipped: gzip is not installed)'}`,
  () => {
    const stamp = new Date('2021-03-04T05:06:07Z');

    it('gzip -lv shows the original name and mtime; the .gz keeps the input mtime', () => {
      writeFileSync(join(dir, 'report.txt'), DATA);
      utimesSync(join(dir, 'report.txt'), stamp, stamp);
      expect(uaccel(['gzip', 'report.txt'], { cwd: dir }).status).toBe(0);
      const gz = readFileSync(join(dir, 'report.txt.gz'));
      expect(gz.readUInt32LE(4)).toBe(stamp.getTime() / 1000);
      const list = run('gzip', ['-lvN', 'report.txt.gz'], { cwd: dir, input: '' });
      expect(list.status).toBe(0);
      // gzip -lN prints the stored name, not one derived from the .gz name.
      expect(list.stdout.toString()).toMatch(/report\.txt\n$/);
      expect(run('stat', ['-c', '%Y', 'report.txt.gz'], { cwd: dir }).stdout.toString().trim()).toBe(
        String(stamp.getTime() / 1000),
      );
    });

    it('gzip -N restores the stored name after a rename', () => {
      writeFileSync(join(dir, 'original.bin'), DATA);
      uaccel(['gzip', 'original.bin'], { cwd: dir });
      run('mv', ['original.bin.gz', 'renamed.gz'], { cwd: dir });
      expect(run('gzip', ['-dN', 'renamed.gz'], { cwd: dir }).status).toBe(0);
      expect(readFileSync(join(dir, 'original.bin')).equals(DATA)).toBe(true);
    });

    it('-n leaves name and time stamp out, as gzip -n does', () => {
      writeFileSync(join(dir, 'x'), DATA);
      uaccel(['gzip', '-n', '-k', 'x'], { cwd: dir });
      const ours = readFileSync(join(dir, 'x.gz'));
      const theirs = run('gzip', ['-n', '-c', 'x'], { cwd: dir }).stdout;
      expect(ours.subarray(0, 10)).toEqual(theirs.subarray(0, 10));
    });

    it('the header bytes match gzip -6 byte for byte', () => {
      writeFileSync(join(dir, 'same'), DATA);
      utimesSync(join(dir, 'same'), stamp, stamp);
      const theirs = run('gzip', ['-6', '-c', 'same'], { cwd: dir }).stdout;
      uaccel(['gzip', '-6', '-k', 'same'], { cwd: dir });
      const ours = readFileSync(join(dir, 'same.gz'));
      expect(ours.subarray(0, 15)).toEqual(theirs.subarray(0, 15));
      // CRC-32 and ISIZE trailer: the same input gives the same trailer.
      expect(ours.subarray(-8)).toEqual(theirs.subarray(-8));
    });

    it("gunzip gives the output the .gz file's mtime, or with -N the stored one", () => {
      writeFileSync(join(dir, 'f'), DATA);
      utimesSync(join(dir, 'f'), stamp, stamp);
      uaccel(['gzip', 'f'], { cwd: dir });
      const later = new Date('2022-01-01T00:00:00Z');
      utimesSync(join(dir, 'f.gz'), later, later);
      uaccel(['gunzip', '-k', 'f.gz'], { cwd: dir });
      const mtime = (name: string) => run('stat', ['-c', '%Y', name], { cwd: dir }).stdout.toString().trim();
      expect(mtime('f')).toBe(String(later.getTime() / 1000));
      uaccel(['gunzip', '-f', '-N', 'f.gz'], { cwd: dir });
      expect(mtime('f')).toBe(String(stamp.getTime() / 1000));
    });
  },
);
