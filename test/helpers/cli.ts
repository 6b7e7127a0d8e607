// Runs the built `uaccel` command (dist/cjs/cli/main.js) and the system's
// gzip and pigz in scratch directories, so their behaviour can be compared.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { root } from './child';

export const cliEntry = join(root, 'dist', 'cjs', 'cli', 'main.js');

export interface RunResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: Buffer | string;
  timeout?: number;
  env?: Record<string, string>;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  // Vitest's loader hooks must not leak into a plain node child.
  delete e.NODE_OPTIONS;
  return e;
}

export function run(command: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(command, args, {
    cwd: opts.cwd,
    env: env(opts.env),
    input: opts.input ?? '',
    timeout: opts.timeout ?? 60_000,
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** `uaccel ...args` as a user would run it. */
export function uaccel(args: readonly string[], opts: RunOptions = {}): RunResult {
  return run(process.execPath, [cliEntry, ...args], opts);
}

/** Whether `tool` is on PATH; tests that need it skip with this as the reason otherwise. */
export function hasTool(tool: string): boolean {
  try {
    return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

/** A scratch directory removed by the returned function. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'uaccel-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
