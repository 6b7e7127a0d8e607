// Fallback: with the addon unavailable (forced here by UACCEL_NATIVE=0) the
// package still loads, every export is node:zlib's, info() says why, and the
// process is told exactly once. Runs in a child process: the addon decision
// is made once per process, at require time, and this test process has
// already loaded it.
import { beforeAll, describe, expect, it } from 'vitest';

import { type ChildResult, describeExit, distEntry, lastJson, runScriptSync } from './helpers/child';

interface Report {
  warnings: Array<{ name: string; code?: string; message: string }>;
  info: { device: string; reason?: string; open: boolean };
  roundTrip: { async: boolean; stream: boolean; sync: boolean; sameBytesAsNode: boolean };
  classesAreNodes: boolean;
  esmShared: boolean;
}

const script = `
const zlib = require('zlib');
const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
const entry = ${JSON.stringify(distEntry)};
const u = require(entry);
require(entry); // a second require is served from the cache: no second warning
(async () => {
  const input = Buffer.from('fallback '.repeat(5000));
  const gz = await new Promise((res, rej) => u.gzip(input, (e, r) => (e ? rej(e) : res(r))));
  const back = await new Promise((res, rej) => u.gunzip(gz, (e, r) => (e ? rej(e) : res(r))));
  const chunks = [];
  const s = u.createGzip();
  s.on('data', (c) => chunks.push(c));
  const ended = new Promise((res, rej) => { s.on('end', res); s.on('error', rej); });
  s.end(input);
  await ended;
  const streamed = zlib.gunzipSync(Buffer.concat(chunks));
  const sync = u.gunzipSync(u.gzipSync(input));
  const esm = await import(${JSON.stringify(distEntry.replace(/cjs[\\/]index\.js$/, 'esm/index.mjs'))});
  // Warnings are delivered on a later tick than emitWarning().
  await new Promise((r) => setTimeout(r, 20));
  console.log(JSON.stringify({
    warnings,
    info: u.info(),
    roundTrip: {
      async: back.equals(input),
      stream: streamed.equals(input),
      sync: sync.equals(input),
      sameBytesAsNode: gz.equals(zlib.gzipSync(input)),
    },
    classesAreNodes: u.Gzip === zlib.Gzip && u.createInflate() instanceof zlib.Inflate,
    esmShared: esm.gzipSync === u.gzipSync && esm.info === u.info,
  }));
})().catch((e) => { console.error(e); process.exit(2); });
`;

describe('fallback without the native addon (UACCEL_NATIVE=0)', () => {
  let r: ChildResult;
  beforeAll(() => {
    r = runScriptSync(script, { env: { UACCEL_NATIVE: '0' } });
  });

  it('the child loads the package and exits cleanly', () => {
    expect(r.status, describeExit(r)).toBe(0);
    expect(r.signal).toBeNull();
  });

  it('gzip round-trips through node:zlib (callback, stream and sync forms)', () => {
    const { roundTrip, classesAreNodes } = lastJson<Report>(r);
    expect(roundTrip).toEqual({ async: true, stream: true, sync: true, sameBytesAsNode: true });
    expect(classesAreNodes).toBe(true);
  });

  it("info().device is 'none' with a non-empty reason", () => {
    const { info } = lastJson<Report>(r);
    expect(info.device).toBe('none');
    expect(typeof info.reason).toBe('string');
    expect(info.reason!.length).toBeGreaterThan(0);
    expect(info.reason).toContain('UACCEL_NATIVE=0');
    expect(info.open).toBe(false);
  });

  it('emits exactly one UACCEL_NO_NATIVE warning, even when loaded again (CJS cache, ESM entry)', () => {
    const { warnings, esmShared } = lastJson<Report>(r);
    const ours = warnings.filter((w) => w.code === 'UACCEL_NO_NATIVE');
    expect(ours).toHaveLength(1);
    expect(ours[0].message.length).toBeGreaterThan(0);
    // Nothing else from us either (e.g. UACCEL_BAD_ENV, UACCEL_PINNED_UNLOCKED).
    expect(warnings.filter((w) => w.code?.startsWith('UACCEL_'))).toHaveLength(1);
    expect(esmShared).toBe(true);
  });
});
