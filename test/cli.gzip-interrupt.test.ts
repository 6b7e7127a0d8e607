// Ctrl-C in the middle of a file: the partial output is removed, the input is
// untouched, and the exit status is the shell's 128 + SIGINT.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { KiB, text } from './helpers/corpus';
import { cliEntry, scratch } from './helpers/cli';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratch()));
afterEach(() => cleanup());

it('SIGINT while compressing leaves only the input behind', async () => {
  // 32 MiB at -9 on one worker takes seconds: long enough to interrupt.
  const block = text(1024 * KiB, 61);
  writeFileSync(join(dir, 'input'), Buffer.concat(Array.from({ length: 32 }, () => block)));
  const child = spawn(process.execPath, [cliEntry, 'gzip', '-9', '-p', '1', 'input'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // Interrupt once the temporary output exists, so the cleanup has work to do.
  const deadline = Date.now() + 10_000;
  while (readdirSync(dir).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(readdirSync(dir).some((n) => n.endsWith('.uaccel-tmp'))).toBe(true);
  child.kill('SIGINT');
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  expect(status).toBe(130);
  expect(stderr).toBe('');
  expect(readdirSync(dir)).toEqual(['input']);
});
