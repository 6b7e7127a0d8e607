// Compiles test/types.check.ts: uaccel's declarations accept what
// @types/node's node:zlib declarations accept.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { root } from './helpers/child';

describe('type declarations', () => {
  it('common node:zlib usage type-checks against uaccel', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--target',
        'ES2022',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node',
        '--types',
        'node',
        join(root, 'test', 'types.check.ts'),
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
