// A progress bar for long files, drawn on stderr only when stderr is a
// terminal: scripts and logs see nothing.
import { SingleBar, Presets } from 'cli-progress';

/** Below this a file finishes before a bar is worth drawing. */
const MIN_BYTES = 32 * 1024 * 1024;

export interface Progress {
  add(bytes: number): void;
  stop(): void;
}

const silent: Progress = { add() {}, stop() {} };

export function startProgress(label: string, totalBytes: number, quiet: boolean): Progress {
  if (quiet || !process.stderr.isTTY || totalBytes < MIN_BYTES) return silent;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MiB | {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const MiB = 1024 * 1024;
  let done = 0;
  bar.start(Math.ceil(totalBytes / MiB), 0);
  return {
    add(bytes) {
      done += bytes;
      bar.update(Math.floor(done / MiB));
    },
    stop() {
      bar.stop();
    },
  };
}
