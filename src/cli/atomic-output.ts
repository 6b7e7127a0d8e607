// An output file that appears under its final name only when complete: data
// goes to a temporary file in the same directory (so the rename cannot cross
// file systems), which is renamed on success and removed on failure or on
// Ctrl-C.
import { randomBytes } from 'crypto';
import { createWriteStream, promises as fsp, unlinkSync, type WriteStream } from 'fs';
import { basename, dirname, join } from 'path';

const pending = new Set<string>();

function removePendingAndExit(code: number): void {
  for (const path of pending) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to clean.
    }
  }
  process.exit(code);
}

let handlersInstalled = false;
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 128 + signal number, as a shell reports a process the signal killed.
  process.once('SIGINT', () => removePendingAndExit(130));
  process.once('SIGTERM', () => removePendingAndExit(143));
  process.once('SIGHUP', () => removePendingAndExit(129));
}

export interface OutputFile {
  stream: WriteStream;
  /** Gives the file its final name with the given mode and times. */
  commit(mode: number, atime: Date, mtime: Date): Promise<void>;
  /** Removes the partial file; safe to call after a failed commit. */
  discard(): Promise<void>;
}

export function createOutputFile(finalPath: string): OutputFile {
  installSignalHandlers();
  const tempPath = join(
    dirname(finalPath),
    `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.uaccel-tmp`,
  );
  pending.add(tempPath);
  // 0o600 until commit: a partial file is nobody else's business.
  const stream = createWriteStream(tempPath, { flags: 'wx', mode: 0o600 });
  return {
    stream,
    async commit(mode, atime, mtime) {
      await fsp.chmod(tempPath, mode & 0o7777);
      await fsp.utimes(tempPath, atime, mtime);
      await fsp.rename(tempPath, finalPath);
      pending.delete(tempPath);
    },
    async discard() {
      // Wait for the descriptor to close, or an open still in flight could
      // recreate the file after it was removed.
      if (!stream.closed) {
        // The pipeline that failed has already reported the stream's error.
        stream.on('error', () => {});
        const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
        stream.destroy();
        await closed;
      }
      await fsp.rm(tempPath, { force: true });
      pending.delete(tempPath);
    },
  };
}
