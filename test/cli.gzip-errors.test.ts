// Error and warning cases: the same situation given to gzip and to
// `uaccel gzip` gives the same exit status and the same kind of message.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KiB, text } from './helpers/corpus';
import { cliEntry, hasTool, run, scratch, uaccel } from './helpers/cli';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratch()));
afterEach(() => cleanup());

interface Case {
  name: string;
  prepare: (dir: string) => void;
  args: string[];
  /** What uaccel prints after "uaccel: ". */
  message: RegExp;
}

const GZ = zlib.gzipSync(text(20 * KiB, 41));

const CASES: Case[] = [
  { name: 'missing file', prepare: () => {}, args: ['nofile'], message: /nofile: No such file or directory/ },
  {
    name: 'directory without -r',
    prepare: (d) => mkdirSync(join(d, 'dir')),
    args: ['dir'],
    message: /dir is a directory -- ignored/,
  },
  {
    name: 'input already ends in .gz',
    prepare: (d) => writeFileSync(join(d, 'x.gz'), GZ),
    args: ['x.gz'],
    message: /x\.gz already has \.gz suffix -- unchanged/,
  },
  {
    name: 'output exists',
    prepare: (d) => (writeFileSync(join(d, 'y'), 'y'), writeFileSync(join(d, 'y.gz'), 'old')),
    args: ['y'],
    message: /y\.gz already exists;\s+not overwritten/,
  },
  {
    name: 'decompressing a name without a known suffix',
    prepare: (d) => writeFileSync(join(d, 'plain'), GZ),
    args: ['-d', 'plain'],
    message: /plain: unknown suffix -- ignored/,
  },
  {
    name: 'not gzip data',
    prepare: (d) => writeFileSync(join(d, 'bad.gz'), 'garbage\n'),
    args: ['-d', 'bad.gz'],
    message: /bad\.gz: not in gzip format/,
  },
  {
    name: 'truncated archive',
    prepare: (d) => writeFileSync(join(d, 'cut.gz'), GZ.subarray(0, 100)),
    args: ['-t', 'cut.gz'],
    message: /cut\.gz: unexpected end of file/,
  },
  {
    name: 'empty archive',
    prepare: (d) => writeFileSync(join(d, 'empty.gz'), ''),
    args: ['-t', 'empty.gz'],
    message: /empty\.gz: unexpected end of file/,
  },
  {
    name: 'trailing zero padding',
    prepare: (d) => writeFileSync(join(d, 'pad.gz'), Buffer.concat([GZ, Buffer.alloc(512)])),
    args: ['-t', 'pad.gz'],
    message: /^$/,
  },
  {
    name: 'data after the last member',
    prepare: (d) => writeFileSync(join(d, 'tail.gz'), Buffer.concat([GZ, GZ, Buffer.from('junk\n')])),
    args: ['-d', 'tail.gz'],
    message: /tail\.gz: decompression OK, trailing garbage ignored/,
  },
  {
    name: 'a symbolic link without -f',
    prepare: (d) => (writeFileSync(join(d, 'target'), 't'), symlinkSync('target', join(d, 'link'))),
    args: ['link'],
    message: /link: Too many levels of symbolic links/,
  },
  {
    name: 'a FIFO',
    prepare: (d) => void run('mkfifo', [join(d, 'fifo')]),
    args: ['fifo'],
    message: /fifo is not a directory or a regular file - ignored/,
  },
  {
    name: 'an error after a warning still exits 1',
    prepare: (d) => mkdirSync(join(d, 'dir2')),
    args: ['dir2', 'missing'],
    message: /missing: No such file or directory/,
  },
];

const gzipPresent = hasTool('gzip');

describe('exit status and message per case', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.args.join(' ')}`, () => {
      c.prepare(dir);
      const ours = uaccel(['gzip', ...c.args], { cwd: dir });
      expect(ours.stderr).toMatch(c.message);
      if (!gzipPresent) {
        console.warn(`not compared with gzip for "${c.name}": gzip is not installed`);
        return;
      }
      const theirs = scratch();
      try {
        c.prepare(theirs.dir);
        expect(ours.status).toBe(run('gzip', c.args, { cwd: theirs.dir }).status);
      } finally {
        theirs.cleanup();
      }
    });
  }
});

describe('unrecoverable use', () => {
  it('an unknown option exits 1 with a pointer to --help', () => {
    const r = uaccel(['gzip', '-x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid option -- 'x'/);
    expect(r.stderr).toMatch(/uaccel gzip --help/);
  });

  it('an unknown command exits 1 and prints the usage', () => {
    const r = uaccel(['frobnicate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  const noDevFull = existsSync('/dev/full') ? false : 'skipped: /dev/full is absent';
  it.skipIf(noDevFull)(
    `a write error names the output and exits 1${noDevFull ? ` (${noDevFull})` : ''}`,
    () => {
      const full = '/dev/full';
      writeFileSync(join(dir, 'f'), text(64 * KiB, 42));
      const r = run('sh', ['-c', `"${process.execPath}" "${cliEntry}" gzip -c f > ${full}`], { cwd: dir });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/No space left on device/);
      expect(readdirSync(dir)).toEqual(['f']);
    },
  );

  it('a reader that goes away (| head) ends the run quietly', async () => {
    writeFileSync(join(dir, 'big'), text(4096 * KiB, 43));
    const child = spawn(process.execPath, [cliEntry, 'gzip', '-c', 'big'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) =>
      child.once('close', (code) => resolve(code)),
    );
    expect(stderr).toBe('');
    // 128 + SIGPIPE: what the shell reports for gzip in the same place.
    expect(status).toBe(141);
  });
});
