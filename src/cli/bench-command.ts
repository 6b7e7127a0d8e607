// `uaccel bench`: the side-by-side node:zlib vs uaccel table, run in a child
// node so the benchmark owns its process (its queue, its event-loop timers).
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

/** From dist/cjs/cli/ back to the package root. */
const COMPARE_SCRIPT = join(__dirname, '..', '..', '..', 'benchmarks', 'compare.js');

export function benchCommand(args: readonly string[]): Promise<number> {
  if (!existsSync(COMPARE_SCRIPT)) {
    process.stderr.write(
      `uaccel: ${COMPARE_SCRIPT}: No such file or directory (benchmarks ship with the source checkout)\n`,
    );
    return Promise.resolve(1);
  }
  const child = spawn(process.execPath, [COMPARE_SCRIPT, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`uaccel: cannot run ${COMPARE_SCRIPT}: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
