// Vitest globalSetup: the child-process and worker_threads tests load the
// compiled package (dist/cjs/index.js), not the TypeScript sources, because a
// plain `node` child or a Worker cannot import .ts. Build it once per test run,
// before any test file starts, and only when dist is missing or older than
// src/ (rebuilding dist while another run's children read it is a race we
// avoid when nothing changed).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
/** Written last by `npm run build:ts` (tsc, then build-esm): its mtime dates the whole build. */
const stamp = join(root, 'dist', 'esm', 'index.mjs');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function distIsFresh(): boolean {
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', 'cjs', 'index.js'))) return false;
  const sources = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs);
  return statSync(stamp).mtimeMs >= sources;
}

export default function setup(): void {
  if (distIsFresh()) return;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    execFileSync(npm, ['run', 'build:ts'], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(
      `test/setup/build.ts: \`npm run build:ts\` failed, so the child-process tests cannot load dist/:\n` +
        `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? e.message}`,
    );
  }
}
