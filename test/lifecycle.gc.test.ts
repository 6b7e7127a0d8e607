// Streams dropped without end() or close() give their codec contexts back
// when collected, as node's weak zlib handles do; a stream still referenced
// keeps working through the same collections. Child process: needs
// --expose-gc and a queue of its own to count contexts on.
import { describe, expect, it } from 'vitest';

import { describeExit, distCurrent, distEntry, lastJson, runScript } from './helpers/child';
import { MODES } from './helpers/streams';

const DROPPED = 300;

const script = `(async () => {
  const zlib = require(${JSON.stringify(distEntry)});
  const { openQueue } = require(${JSON.stringify(distCurrent)});
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const kept = zlib.createGzip();
  for (let i = 0; i < ${DROPPED}; i++) {
    const s = i % 2 ? zlib.createDeflate() : zlib.createInflateRaw();
    if (i % 3) s.write(i % 2 ? 'abandoned' : Buffer.from([0x4b, 0x4c]));
  }
  await tick();
  const before = openQueue().contexts;
  for (let i = 0; i < 5; i++) { global.gc(); await tick(); }
  const after = openQueue().contexts;
  const chunks = [];
  kept.on('data', (c) => chunks.push(c));
  await new Promise((res, rej) => { kept.on('end', res); kept.on('error', rej); kept.end('still here'); });
  console.log(JSON.stringify({ before, after, kept: zlib.gunzipSync(Buffer.concat(chunks)).toString() }));
})().catch((e) => { console.error(e); process.exit(1); });`;

describe('collected streams free their contexts', () => {
  for (const mode of MODES) {
    it(`abandoned streams are closed by GC (${mode.name})`, async () => {
      const r = await runScript(script, {
        nodeArgs: ['--expose-gc'],
        env: { UACCEL_SVA: mode.sva ? '1' : '0' },
      });
      expect(r.status, describeExit(r)).toBe(0);
      const report = lastJson<{ before: number; after: number; kept: string }>(r);
      expect(report.before).toBe(DROPPED + 1);
      expect(report.after).toBeLessThan(DROPPED / 10);
      expect(report.kept).toBe('still here');
    });
  }
});
