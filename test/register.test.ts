// uaccel/register swaps node:zlib process-wide: after the preload, CommonJS
// require('zlib') / require('node:zlib'), the ESM default import and named
// imports of 'node:zlib', and node's own lazy users of zlib
// (CompressionStream) all run on uaccel. Each case is a fresh child process
// loading the compiled preload, the way an application would.
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import { describeExit, lastJson, root, runScript } from './helpers/child';

const cjsRegister = join(root, 'dist', 'cjs', 'register.js');
const esmRegister = pathToFileURL(join(root, 'dist', 'esm', 'register.mjs')).href;
const INPUT = 'register '.repeat(4000);

interface Report {
  hasInfo: boolean;
  sameObject?: boolean;
  namedAreOurs?: boolean;
  keys: number;
  device: string;
  descriptorsBefore: number;
  descriptorsAfter: number;
  gzip: string;
  roundTrip: boolean;
  webStream?: boolean;
}

// Runs a stream and a callback one-shot (both go through the ring) and
// reports what the process's zlib is.
const exercise = `
  const before = zlib.info().counters.descriptors;
  const input = Buffer.from(${JSON.stringify(INPUT)});
  const gz = await new Promise((res, rej) => zlib.gzip(input, { blockSize: 0 }, (e, r) => (e ? rej(e) : res(r))));
  const chunks = [];
  const s = zlib.createGunzip();
  s.on('data', (c) => chunks.push(c));
  await new Promise((res, rej) => { s.on('end', res); s.on('error', rej); s.end(gz); });
  // node's CompressionStream requires zlib lazily: it too must land on the device.
  const beforeWeb = zlib.info().counters.descriptors;
  const webStream = await (async () => {
    const out = new Response(new Blob([input]).stream().pipeThrough(new CompressionStream('gzip')));
    const same = zlib.gunzipSync(Buffer.from(await out.arrayBuffer())).equals(input);
    return same && zlib.info().counters.descriptors > beforeWeb;
  })();
  const report = {
    hasInfo: typeof zlib.info === 'function',
    keys: Object.keys(zlib).length,
    device: zlib.info().device,
    descriptorsBefore: before,
    descriptorsAfter: zlib.info().counters.descriptors,
    gzip: gz.toString('base64'),
    roundTrip: Buffer.concat(chunks).equals(input),
    webStream,
  };
`;

function expectServedByUaccel(r: Report): void {
  expect(r.hasInfo).toBe(true);
  expect(r.device).toBe('software');
  expect(r.descriptorsAfter).toBeGreaterThan(r.descriptorsBefore);
  expect(r.gzip).toBe(gzipSync(INPUT).toString('base64'));
  expect(r.roundTrip).toBe(true);
  expect(r.webStream).toBe(true);
  // node's export list is unchanged: info and configure are hidden.
  expect(r.keys).toBe(Object.keys(require('node:zlib')).length);
}

describe('uaccel/register', () => {
  it('node -r: require("zlib") and require("node:zlib") are uaccel', async () => {
    const script = `(async () => {
      const zlib = require('zlib');
      ${exercise}
      report.sameObject = require('node:zlib') === zlib;
      console.log(JSON.stringify(report));
    })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await runScript(script, { nodeArgs: ['-r', cjsRegister] });
    expect(r.status, describeExit(r)).toBe(0);
    const report = lastJson<Report>(r);
    expectServedByUaccel(report);
    expect(report.sameObject).toBe(true);
  });

  it('node --import: default and named imports of node:zlib are uaccel', async () => {
    const script = `
      import zlib, { gzip, createGzip, crc32 } from 'node:zlib';
      ${exercise}
      report.namedAreOurs = gzip === zlib.gzip && createGzip === zlib.createGzip && crc32 === zlib.crc32;
      console.log(JSON.stringify(report));`;
    const r = await runScript(script, { nodeArgs: ['--import', esmRegister, '--input-type=module'] });
    expect(r.status, describeExit(r)).toBe(0);
    const report = lastJson<Report>(r);
    expectServedByUaccel(report);
    expect(report.namedAreOurs).toBe(true);
  });

  it('import "uaccel/register" first in an ES module', async () => {
    const script = `
      import 'uaccel/register';
      import zlib, { gzip } from 'node:zlib';
      ${exercise}
      report.namedAreOurs = gzip === zlib.gzip;
      console.log(JSON.stringify(report));`;
    const r = await runScript(script, { nodeArgs: ['--input-type=module'] });
    expect(r.status, describeExit(r)).toBe(0);
    const report = lastJson<Report>(r);
    expectServedByUaccel(report);
    expect(report.namedAreOurs).toBe(true);
  });

  it('node -r: worker threads are served too', async () => {
    const script = `
      const { Worker } = require('worker_threads');
      const w = new Worker(\`
        const zlib = require('zlib');
        zlib.gzip('in a worker', (err, gz) => require('worker_threads').parentPort.postMessage({
          hasInfo: typeof zlib.info === 'function',
          descriptors: zlib.info().counters.descriptors,
          back: zlib.gunzipSync(gz).toString(),
        }));\`, { eval: true });
      w.once('message', (m) => { console.log(JSON.stringify(m)); w.terminate(); });`;
    const r = await runScript(script, { nodeArgs: ['-r', cjsRegister] });
    expect(r.status, describeExit(r)).toBe(0);
    const report = lastJson<{ hasInfo: boolean; descriptors: number; back: string }>(r);
    expect(report.hasInfo).toBe(true);
    expect(report.descriptors).toBeGreaterThan(0);
    expect(report.back).toBe('in a worker');
  });

  it('without the addon it changes nothing but adds info()', async () => {
    const script = `
      const original = { gzip: require('zlib').gzip, Gzip: require('zlib').Gzip };
      require(${JSON.stringify(cjsRegister)});
      const zlib = require('zlib');
      console.log(JSON.stringify({
        untouched: zlib.gzip === original.gzip && zlib.Gzip === original.Gzip,
        device: zlib.info().device,
        works: zlib.gunzipSync(zlib.gzipSync('x')).toString() === 'x',
      }));`;
    const r = await runScript(script, { env: { UACCEL_NATIVE: '0' } });
    expect(r.status, describeExit(r)).toBe(0);
    expect(lastJson(r)).toEqual({ untouched: true, device: 'none', works: true });
  });
});
