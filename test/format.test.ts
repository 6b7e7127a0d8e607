// Formatting is automatic: prettier for TypeScript/JavaScript, clang-format
// for C/C++ (`npm run format` applies both). A change that skipped it fails
// here instead of in review.
import { spawnSync } from 'child_process';
import { readdirSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

function nativeSources(dir = join(root, 'native')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? nativeSources(join(dir, e.name)) : /\.(cc|h)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const clangFormat = spawnSync('clang-format', ['--version']).status === 0;

describe('formatting', () => {
  it('TypeScript and JavaScript match prettier', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
        '--check',
        'src/**/*.ts',
        'test/**/*.ts',
        'benchmarks/**/*.js',
        'native/**/*.js',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.status, `${r.stdout}${r.stderr}\nrun: npm run format`).toBe(0);
  });

  it.skipIf(!clangFormat)('C and C++ match clang-format', () => {
    const r = spawnSync('clang-format', ['--dry-run', '--Werror', ...nativeSources()], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, `${r.stderr}\nrun: npm run format`).toBe(0);
  });

  it.skipIf(clangFormat)('C and C++ check skipped: clang-format is not installed', () => {
    expect(clangFormat).toBe(false);
  });
});
