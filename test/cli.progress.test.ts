// The progress bar: drawn on a terminal for large files, absent otherwise.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KiB, text } from './helpers/corpus';
import { cliEntry, scratch, uaccel } from './helpers/cli';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = scratch());
  const block = text(1024 * KiB, 71);
  writeFileSync(join(dir, 'large'), Buffer.concat(Array.from({ length: 33 }, () => block)));
});
afterEach(() => cleanup());

// util-linux `script` gives the child a pseudo-terminal.
const noScript =
  spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0
    ? false
    : 'util-linux script is not installed';

describe('progress bar', () => {
  it.skipIf(noScript)(`is drawn on a terminal${noScript ? ` (skipped: ${noScript})` : ''}`, () => {
    const log = join(dir, 'tty.log');
    const r = spawnSync('script', ['-qec', `"${process.execPath}" "${cliEntry}" gzip -1 -k large`, log], {
      cwd: dir,
      stdio: 'ignore',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const screen = readFileSync(log, 'latin1');
    expect(screen).toMatch(/large \[/);
    expect(screen).toMatch(/\d+% \| \d+\/33 MiB/);
  });

  it('is silent when stderr is not a terminal', () => {
    const r = uaccel(['gzip', '-1', '-k', 'large'], { cwd: dir });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });
});
