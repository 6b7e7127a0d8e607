// The committed prebuild is what `npm install` ships without a compiler, so it
// must be built from exactly the native sources in this checkout.
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

import { binding } from '../src/native/binding';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sourceHash } = require('../native/source-hash.js') as { sourceHash(root?: string): string };

const root = join(__dirname, '..');

describe('prebuild', () => {
  const expected = sourceHash();

  it('exists for linux-x64 and matches native/', () => {
    const dir = join(root, 'prebuilds', 'linux-x64');
    const files = readdirSync(dir).filter((f) => f.endsWith('.node'));
    expect(files.length).toBeGreaterThan(0);
    if (process.platform === 'linux' && process.arch === 'x64') {
      for (const file of files) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const prebuilt = require(join(dir, file)) as { sourceHash: string };
        expect(prebuilt.sourceHash, `${file} is stale: run npm run prebuildify`).toBe(expected);
      }
    }
  });

  it('the addon this process loaded was built from native/', () => {
    expect(binding, 'the native addon failed to load').not.toBeNull();
    expect(binding!.sourceHash).toBe(expected);
  });

  it('moves when any native source or binding.gyp changes', () => {
    const copy = mkdtempSync(join(tmpdir(), 'uaccel-hash-'));
    try {
      cpSync(join(root, 'native'), join(copy, 'native'), { recursive: true });
      cpSync(join(root, 'binding.gyp'), join(copy, 'binding.gyp'));
      expect(sourceHash(copy)).toBe(expected);
      appendFileSync(join(copy, 'native', 'ring', 'ring.h'), '\n');
      const afterHeader = sourceHash(copy);
      expect(afterHeader).not.toBe(expected);
      writeFileSync(join(copy, 'native', 'devices', 'new_device.cc'), '// new\n');
      expect(sourceHash(copy)).not.toBe(afterHeader);
      appendFileSync(join(copy, 'binding.gyp'), ' ');
      expect(sourceHash(copy)).not.toBe(afterHeader);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
