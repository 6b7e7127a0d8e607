// Child-process helpers: a test that needs a fresh process (a different
// environment, process.exit, --expose-gc, a crash that must not take the test
// runner down) runs a small CommonJS script with `node` that loads the
// compiled package. test/setup/build.ts builds dist/ before any test runs.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');
/** The package entry a CommonJS consumer loads. */
export const distEntry = join(root, 'dist', 'cjs', 'index.js');
/** Internal modules of the build, for scripts that inspect the queue. */
export const distCurrent = join(root, 'dist', 'cjs', 'ring', 'current.js');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time until the child exited, in ms. */
  ms: number;
}

export interface ChildOptions {
  env?: Record<string, string | undefined>;
  nodeArgs?: string[];
  timeout?: number;
}

function childEnv(extra: ChildOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Vitest's own loader hooks and options must not leak into a plain node child.
  delete env.NODE_OPTIONS;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `script` (CommonJS source) in `node -e`, synchronously. */
export function runScriptSync(script: string, opts: ChildOptions = {}): ChildResult {
  const started = Date.now();
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), '-e', script], {
    cwd: root,
    env: childEnv(opts.env),
    encoding: 'utf8',
    timeout: opts.timeout ?? 30_000,
    maxBuffer: 16 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/** Runs `script` in `node -e` without blocking the test's event loop. */
export function runScript(script: string, opts: ChildOptions = {}): Promise<ChildResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '-e', script], {
      cwd: root,
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The last line of stdout parsed as JSON: children report their findings that way. */
export function lastJson<T>(r: ChildResult): T {
  const lines = r.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(
      `child printed no JSON result (status ${r.status}, signal ${r.signal})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
}

/** A one-line description of how a child ended, for assertion messages. */
export function describeExit(r: ChildResult): string {
  return `status ${r.status}, signal ${r.signal}\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-4000)}`;
}
