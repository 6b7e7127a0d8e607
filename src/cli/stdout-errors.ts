// Failures of stdout itself. A reader that went away (`uaccel ... | head`) is
// not an error worth a message, as with gzip: the run ends quietly, with the
// status a shell reports for a process SIGPIPE killed (128 + 13; node itself
// ignores SIGPIPE). Any other write error on stdout (a full disk) ends the
// run as gzip ends it: one message, status 1.
import { describeSystemError } from './system-errors';

export const EXIT_BROKEN_PIPE = 141;

export function exitOnBrokenPipe(): never {
  process.exit(EXIT_BROKEN_PIPE);
}

/** Installs the stdout error policy for every command. */
export function handleStdoutErrors(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exitOnBrokenPipe();
    process.stderr.write(`uaccel: stdout: ${describeSystemError(err)}\n`);
    process.exit(1);
  });
}
