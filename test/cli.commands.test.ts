// The non-gzip commands: info, help, version, bench.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { root } from './helpers/child';
import { cliEntry, uaccel } from './helpers/cli';

describe('uaccel info', () => {
  it('prints device, memory mode, codecs, workers and queue depth', () => {
    const r = uaccel(['info']);
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    for (const key of ['device', 'memory mode', 'codecs', 'workers', 'queue depth']) {
      expect(out).toMatch(new RegExp(`^${key}\\s+\\S`, 'm'));
    }
    // The ISA-L hint appears exactly when ISA-L is not among the codecs.
    const codecs = /^codecs\s+(.*)$/m.exec(out)![1];
    expect(/apt-get install libisal2/.test(out)).toBe(!/isa-?l/i.test(codecs));
  });

  it('reports the configuration the environment asks for', () => {
    const r = uaccel(['info'], { env: { UACCEL_QUEUE_DEPTH: '64', UACCEL_WORKERS: '1' } });
    expect(r.stdout.toString()).toMatch(/^queue depth\s+64$/m);
    expect(r.stdout.toString()).toMatch(/^workers\s+1$/m);
  });
});

describe('a closed stdout', () => {
  // The read end closes before the child has started, so its first write fails.
  for (const args of [['info'], ['help'], ['gzip', '--help']]) {
    it(`uaccel ${args.join(' ')} exits quietly with 141`, async () => {
      const child = spawn(process.execPath, [cliEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const status = await new Promise<number | null>((resolve) =>
        child.once('close', (code) => resolve(code)),
      );
      expect(stderr).toBe('');
      expect(status).toBe(141);
    });
  }
});

describe('help and version', () => {
  it('uaccel with no command prints usage and exits 1', () => {
    const r = uaccel([]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Usage: uaccel <command>/);
  });

  it('uaccel help and uaccel gzip --help exit 0', () => {
    expect(uaccel(['help']).stdout.toString()).toMatch(/gzip \[OPTION\]/);
    expect(uaccel(['gzip', '--help']).stdout.toString()).toMatch(/--recursive/);
  });

  it('uaccel version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(uaccel(['version']).stdout.toString()).toBe(`uaccel ${pkg.version}\n`);
  });
});

describe('uaccel bench', () => {
  // A malformed flag is the cheap way to see the pass-through: compare.js
  // refuses it before measuring anything (its smoke run belongs to CI).
  it('passes its arguments to benchmarks/compare.js and returns its exit status', () => {
    const r = uaccel(['bench', '--no-such-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown or malformed argument: --no-such-flag/);
  });
});
