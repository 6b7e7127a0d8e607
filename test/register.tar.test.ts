// A real dependency under uaccel/register: tar@6 compresses through minizlib,
// which drives zlib streams through their private members (`_processChunk`,
// swapping `_handle.close` and Buffer.concat around each call) rather than
// the public stream API. uaccel keeps those members compatible, so tar's
// .tgz files round-trip, node:zlib reads them, and the bytes went through the
// device (info().counters.bytesIn).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

import { describeExit, lastJson, root, runScript } from './helpers/child';
import { MODES } from './helpers/streams';

const cjsRegister = join(root, 'dist', 'cjs', 'register.js');
const work = mkdtempSync(join(tmpdir(), 'uaccel-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Report {
  tarVersion: string;
  isOurs: boolean;
  bytesInAfterCreate: number;
  bytesInAfterExtract: number;
  syncSame: boolean;
  asyncSame: boolean;
  files: number;
}

function script(dir: string): string {
  return `(async () => {
    const zlib = require('zlib');
    const tar = require('tar');
    const fs = require('fs');
    const path = require('path');
    const dir = ${JSON.stringify(dir)};
    const src = path.join(dir, 'src');
    fs.mkdirSync(src, { recursive: true });
    const names = [];
    for (let i = 0; i < 6; i++) {
      const name = 'f' + i + '.txt';
      // Mixed content: text that compresses and bytes that do not.
      const body = Buffer.concat([Buffer.from(('line ' + i + ' ').repeat(5000 * (i + 1))), require('crypto').randomBytes(20000 * i)]);
      fs.writeFileSync(path.join(src, name), body);
      names.push(name);
    }
    tar.c({ gzip: true, file: path.join(dir, 'sync.tgz'), cwd: dir, sync: true }, ['src']);
    await new Promise((res, rej) =>
      tar.c({ gzip: { level: 6 }, cwd: dir }, ['src']).pipe(fs.createWriteStream(path.join(dir, 'async.tgz'))).on('finish', res).on('error', rej));
    const bytesInAfterCreate = zlib.info().counters.bytesIn;
    fs.mkdirSync(path.join(dir, 'x-sync'));
    fs.mkdirSync(path.join(dir, 'x-async'));
    tar.x({ file: path.join(dir, 'sync.tgz'), cwd: path.join(dir, 'x-sync'), sync: true });
    await tar.x({ file: path.join(dir, 'async.tgz'), cwd: path.join(dir, 'x-async') });
    const same = (sub) => names.every((n) => fs.readFileSync(path.join(dir, sub, 'src', n)).equals(fs.readFileSync(path.join(src, n))));
    console.log(JSON.stringify({
      tarVersion: require('tar/package.json').version,
      isOurs: typeof zlib.info === 'function',
      bytesInAfterCreate,
      bytesInAfterExtract: zlib.info().counters.bytesIn,
      syncSame: same('x-sync'),
      asyncSame: same('x-async'),
      files: names.length,
    }));
  })().catch((e) => { console.error(e); process.exit(1); });`;
}

describe('tar@6 (minizlib) under uaccel/register', () => {
  for (const mode of MODES) {
    it(`creates and extracts .tgz on the device (${mode.name})`, async () => {
      const dir = join(work, mode.name);
      const r = await runScript(script(dir), {
        nodeArgs: ['-r', cjsRegister],
        env: { UACCEL_SVA: mode.sva ? '1' : '0' },
        timeout: 60_000,
      });
      expect(r.status, describeExit(r)).toBe(0);
      const report = lastJson<Report>(r);
      expect(report.tarVersion).toMatch(/^6\./);
      expect(report.isOurs).toBe(true);
      expect(report.bytesInAfterCreate).toBeGreaterThan(0);
      expect(report.bytesInAfterExtract).toBeGreaterThan(report.bytesInAfterCreate);
      expect(report.syncSame).toBe(true);
      expect(report.asyncSame).toBe(true);
      // node:zlib, untouched in this process, reads what tar wrote through uaccel.
      for (const file of ['sync.tgz', 'async.tgz']) {
        const tarball = gunzipSync(readFileSync(join(dir, file)));
        expect(tarball.length % 512).toBe(0);
        expect(tarball.includes(Buffer.from('src/f5.txt'))).toBe(true);
      }
    });
  }
});
