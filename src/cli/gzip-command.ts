// `uaccel gzip` and `uaccel gunzip`: files in, .gz files out (or back), with
// gzip's naming, refusals, messages and exit statuses.
import { createReadStream, promises as fsp, fstatSync, type Stats } from 'fs';
import { basename, join } from 'path';
import type { Readable, Writable } from 'stream';

import { configure } from '../index';
import { createOutputFile } from './atomic-output';
import { exitOnBrokenPipe } from './stdout-errors';
import { EXIT_ERROR, EXIT_OK, Reporter } from './exit-status';
import { compressMember } from './gzip-member';
import { headerMtime } from './gzip-header';
import { compressedSuffix, decompressedName, GZ_SUFFIX } from './gzip-names';
import { parseGzipArgs, UsageError, type GzipOptions } from './gzip-options';
import { CorruptInputError, gunzipInto } from './gunzip-stream';
import { startProgress } from './progress';
import { describeSystemError } from './system-errors';

const READ_CHUNK_BYTES = 256 * 1024;

export const GZIP_USAGE = `Usage: uaccel gzip [OPTION]... [FILE]...
       uaccel gunzip [OPTION]... [FILE]...
Compress or decompress FILEs (by default, compress in place) on uaccel's device.
With no FILE, or when FILE is -, read standard input.

  -c, --stdout      write on standard output, keep original files unchanged
  -d, --decompress  decompress
  -f, --force       overwrite existing output files; compress .gz files again
  -k, --keep        keep (don't delete) input files
  -n, --no-name     do not save the original name and time stamp
  -N, --name        save the original name and time stamp (default);
                    when decompressing, restore the time stamp
  -p, --processes N device worker threads (as pigz -p)
  -q, --quiet       suppress all warnings
  -r, --recursive   operate recursively on directories
  -t, --test        test compressed file integrity
  -v, --verbose     verbose mode
  -1, --fast        compress faster
  -9, --best        compress better
  -h, --help        give this help

Exit status is 0 for success, 1 if an error occurred, 2 for a warning.
`;

class Run {
  readonly report: Reporter;

  constructor(readonly opts: GzipOptions) {
    this.report = new Reporter('uaccel', opts.quiet);
  }

  async path(path: string, topLevel: boolean): Promise<void> {
    if (path === '-') return this.stdin();
    let st: Stats;
    try {
      st = await fsp.lstat(path);
      // gzip opens inputs with O_NOFOLLOW unless forced or writing to stdout.
      if (st.isSymbolicLink()) {
        if (!this.opts.force && !this.opts.stdout) throw Object.assign(new Error(), { code: 'ELOOP' });
        st = await fsp.stat(path);
      }
    } catch (err) {
      return this.report.error(`${path}: ${describeSystemError(err)}`);
    }
    if (st.isDirectory()) {
      if (!this.opts.recursive) return this.report.warning(`${path} is a directory -- ignored`);
      let entries: string[];
      try {
        entries = (await fsp.readdir(path)).sort();
      } catch (err) {
        return this.report.error(`${path}: ${describeSystemError(err)}`);
      }
      for (const entry of entries) await this.path(join(path, entry), false);
      return;
    }
    if (!st.isFile()) return this.report.warning(`${path} is not a directory or a regular file - ignored`);
    return this.opts.decompress
      ? this.decompressFile(path, st, topLevel)
      : this.compressFile(path, st, topLevel);
  }

  private async compressFile(path: string, st: Stats, topLevel: boolean): Promise<void> {
    const suffix = compressedSuffix(path);
    if (suffix !== undefined && !this.opts.force) {
      if (topLevel) this.report.notice(`${path} already has ${suffix} suffix -- unchanged`);
      return;
    }
    const header = {
      name: this.opts.noName ? undefined : basename(path),
      mtime: this.opts.noName ? 0 : Math.floor(st.mtimeMs / 1000),
      level: this.opts.level,
    };
    await this.toOutput(path, st, path + GZ_SUFFIX, st.mtime, (output, onInput) =>
      compressMember(this.read(path), output, header, onInput),
    );
  }

  private async decompressFile(path: string, st: Stats, topLevel: boolean): Promise<void> {
    if (this.opts.test) {
      await this.guard(path, undefined, async () => {
        const progress = startProgress(basename(path), st.size, this.opts.quiet);
        try {
          await this.gunzipFile(path, 'discard', (n) => progress.add(n));
        } finally {
          progress.stop();
        }
        if (this.opts.verbose) process.stderr.write(`${path}:\t OK\n`);
      });
      return;
    }
    const outPath = this.opts.stdout ? '-' : decompressedName(path);
    if (outPath === undefined) {
      if (topLevel) this.report.warning(`${path}: unknown suffix -- ignored`);
      return;
    }
    let mtime = st.mtime;
    if (this.opts.restoreTime && !this.opts.stdout) {
      const stamp = await this.storedMtime(path);
      if (stamp) mtime = new Date(stamp * 1000);
    }
    await this.toOutput(path, st, outPath, mtime, (output, onInput) =>
      this.gunzipFile(path, output, onInput),
    );
  }

  private async gunzipFile(
    path: string,
    output: Writable | 'discard',
    onInput: (bytes: number) => void,
  ): Promise<void> {
    const input = { open: (end?: number) => this.read(path, end), path };
    const { trailingGarbage } = await gunzipInto(input, output, onInput);
    if (trailingGarbage) this.report.warning(`${path}: decompression OK, trailing garbage ignored`);
  }

  private async storedMtime(path: string): Promise<number | undefined> {
    const file = await fsp.open(path, 'r');
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(10), 0, 10, 0);
      return headerMtime(buffer.subarray(0, bytesRead));
    } finally {
      await file.close();
    }
  }

  /** Runs `work` from `inPath` into `outPath` ('-' is stdout), atomically for files. */
  private async toOutput(
    inPath: string,
    st: Stats,
    outPath: string,
    mtime: Date,
    work: (output: Writable, onInput: (bytes: number) => void) => Promise<void>,
  ): Promise<void> {
    const progress = startProgress(basename(inPath), st.size, this.opts.quiet);
    const done = async (p: Promise<void>): Promise<void> => {
      try {
        await p;
      } finally {
        progress.stop();
      }
    };
    if (this.opts.stdout || outPath === '-') {
      await this.guard(inPath, undefined, () => done(work(process.stdout, (n) => progress.add(n))));
      return;
    }
    if (!this.opts.force && (await exists(outPath))) {
      progress.stop();
      return this.report.warning(`${outPath} already exists;\tnot overwritten`);
    }
    const out = createOutputFile(outPath);
    const ok = await this.guard(inPath, outPath, async () => {
      await done(work(out.stream, (n) => progress.add(n)));
      await out.commit(st.mode, st.atime, mtime);
    });
    if (!ok) {
      await out.discard();
      return;
    }
    if (this.opts.verbose) {
      const outSize = (await fsp.stat(outPath)).size;
      const [small, large] = this.opts.decompress ? [st.size, outSize] : [outSize, st.size];
      const saved = large > 0 ? (100 * (large - small)) / large : 0;
      const outcome = this.opts.keep ? 'created' : 'replaced with';
      process.stderr.write(`${inPath}:\t${saved.toFixed(1)}% -- ${outcome} ${outPath}\n`);
    }
    if (!this.opts.keep) {
      try {
        await fsp.unlink(inPath);
      } catch (err) {
        this.report.warning(`${inPath}: ${describeSystemError(err)}`);
      }
    }
  }

  /** The file's bytes, up to `end` (exclusive) when given. */
  private read(path: string, end?: number): Readable {
    return createReadStream(path, {
      highWaterMark: READ_CHUNK_BYTES,
      end: end === undefined ? undefined : end - 1,
    });
  }

  /** Runs `body`, reporting its failure against the file it concerns; true when it succeeded. */
  private async guard(
    inPath: string,
    outPath: string | undefined,
    body: () => Promise<void>,
  ): Promise<boolean> {
    try {
      await body();
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EPIPE') exitOnBrokenPipe();
      if (err instanceof CorruptInputError) {
        this.report.error(`${inPath}: ${err.message}`);
      } else if (
        e.syscall === 'write' ||
        e.syscall === 'rename' ||
        e.syscall === 'chmod' ||
        e.syscall === 'utime'
      ) {
        this.report.error(`${outPath ?? 'stdout'}: ${describeSystemError(err)}`);
      } else {
        this.report.error(`${inPath}: ${describeSystemError(err)}`);
      }
      return false;
    }
  }

  private async stdin(): Promise<void> {
    const { opts } = this;
    if (!opts.force && !opts.decompress && process.stdout.isTTY) {
      this.report.error('compressed data not written to a terminal. Use -f to force compression.');
      process.stderr.write('For help, type: uaccel gzip -h\n');
      return;
    }
    if (!opts.force && opts.decompress && process.stdin.isTTY) {
      this.report.error('compressed data not read from a terminal. Use -f to force decompression.');
      process.stderr.write('For help, type: uaccel gunzip -h\n');
      return;
    }
    await this.guard('stdin', undefined, async () => {
      if (opts.decompress) {
        const stdin = { open: () => process.stdin };
        const { trailingGarbage } = await gunzipInto(stdin, opts.test ? 'discard' : process.stdout, noop);
        if (trailingGarbage) this.report.warning('stdin: decompression OK, trailing garbage ignored');
        return;
      }
      // A regular file on stdin has a time stamp worth keeping; a pipe has none.
      const st = fstatSync(0);
      const mtime = opts.noName || !st.isFile() ? 0 : Math.floor(st.mtimeMs / 1000);
      await compressMember(process.stdin, process.stdout, { mtime, level: opts.level }, noop);
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function noop(): void {}

export async function gzipCommand(args: readonly string[], program: 'gzip' | 'gunzip'): Promise<number> {
  let opts: GzipOptions;
  try {
    opts = parseGzipArgs(args, program === 'gunzip' ? { decompress: true } : {});
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`uaccel: ${err.message}\nTry 'uaccel ${program} --help' for more information.\n`);
    return EXIT_ERROR;
  }
  if (opts.help) {
    process.stdout.write(GZIP_USAGE);
    return EXIT_OK;
  }
  if (opts.workers !== undefined) configure({ workers: opts.workers });
  const run = new Run(opts);
  for (const file of opts.files.length > 0 ? opts.files : ['-']) await run.path(file, true);
  return run.report.status;
}
