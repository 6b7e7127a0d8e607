// Process exit with a queue open: process.exit() while descriptors are on the
// ring must not crash (the environment cleanup hook stops and joins the
// device's worker threads before anything they touch is freed); an idle queue
// must not keep the event loop alive; a busy one must, until its work is done.
// Each case runs in a child process, so an abort or a hang is observed as an
// exit status, a signal or a timeout instead of taking the runner down.
import { describe, expect, it } from 'vitest';

import { MODES } from './helpers/streams';
import { describeExit, distCurrent, distEntry, lastJson, runScript } from './helpers/child';

const prelude = `
const u = require(${JSON.stringify(distEntry)});
const { openQueue } = require(${JSON.stringify(distCurrent)});
function input(size, seed) {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; b[i] = (x >>> 24) % 40 + 48; }
  return b;
}
`;

/** Streams written and ended, then process.exit() while their descriptors run. */
const exitMidFlight = (where: 'tick' | 'timer' | 'data') => `${prelude}
const data = input(256 * 1024, 1);
let inflightAtExit = -1;
let dataEvents = 0;
function exitNow() {
  inflightAtExit = openQueue().info().inflight;
  // Report first: exit() skips anything still queued.
  console.log(JSON.stringify({ inflightAtExit, dataEvents }));
  process.exit(0);
}
for (let i = 0; i < 300; i++) {
  const s = i % 2 ? u.createGzip() : u.createDeflate({ level: 9 });
  s.on('data', () => {
    dataEvents++;
    // The first output that arrives while other descriptors are still on
    // the ring (a completion batch may have emptied it).
    if (${where === 'data'} && openQueue().info().inflight > 0) exitNow();
  });
  s.end(data.subarray(i * 64, i * 64 + 128 * 1024));
}
for (let i = 0; i < 100; i++) {
  const g = u.createGunzip();
  g.resume();
  g.end(u.gzipSync(data.subarray(0, 64 * 1024)));
}
if (${where === 'tick'}) setImmediate(exitNow);
if (${where === 'timer'}) setTimeout(exitNow, 5);
`;

describe.each(MODES)('process exit ($name)', ({ sva }) => {
  const env = { UACCEL_SVA: sva ? '1' : '0' };

  it.each(['tick', 'timer', 'data'] as const)(
    'process.exit(0) with descriptors in flight (exit from %s) exits with code 0, no signal',
    async (where) => {
      const r = await runScript(exitMidFlight(where), { env, timeout: 20_000 });
      expect(r.signal, describeExit(r)).toBeNull();
      expect(r.status, describeExit(r)).toBe(0);
      expect(r.stderr).not.toMatch(/Assertion|Abort|Segmentation|FATAL|core dumped/i);
      // Prove the exit really happened mid-flight.
      const { inflightAtExit } = lastJson<{ inflightAtExit: number }>(r);
      expect(inflightAtExit).toBeGreaterThan(0);
    },
  );

  it('a child whose stream is idle (created, never written) exits on its own', async () => {
    const r = await runScript(
      `${prelude}
      const s = u.createGzip();
      const q = openQueue();
      console.log(JSON.stringify({ open: u.info().open, inflight: q.info().inflight }));
      `,
      { env, timeout: 10_000 },
    );
    expect(r.signal, `the idle queue kept the process alive: ${describeExit(r)}`).toBeNull();
    expect(r.status, describeExit(r)).toBe(0);
    expect(lastJson(r)).toEqual({ open: true, inflight: 0 });
    expect(r.ms).toBeLessThan(5_000);
  });

  it('a child whose streams finished their work (queue open, idle) exits on its own', async () => {
    const r = await runScript(
      `${prelude}
      const s = u.createGzip();
      s.resume();
      s.write(input(100000, 2));
      s.flush(() => {
        // Stream still open, its output delivered, nothing in flight: the
        // loop must be free to end.
        console.log(JSON.stringify({ inflight: openQueue().info().inflight }));
      });
      `,
      { env, timeout: 10_000 },
    );
    expect(r.signal, `the idle queue kept the process alive: ${describeExit(r)}`).toBeNull();
    expect(r.status, describeExit(r)).toBe(0);
    expect(lastJson(r)).toEqual({ inflight: 0 });
    expect(r.ms).toBeLessThan(5_000);
  });

  it('a child with work in flight and nothing else on the loop keeps running until it completes', async () => {
    // No timers, no I/O of its own: only the queue's completion poll can keep
    // this process alive until every stream has ended.
    const r = await runScript(
      `${prelude}
      const zlib = require('zlib');
      const data = input(512 * 1024, 3);
      let ended = 0, same = 0;
      const N = 64;
      for (let i = 0; i < N; i++) {
        const s = u.createDeflate({ level: 9 });
        const chunks = [];
        s.on('data', (c) => chunks.push(c));
        s.on('end', () => {
          ended++;
          if (zlib.inflateSync(Buffer.concat(chunks)).equals(data)) same++;
        });
        for (let at = 0; at < data.length; at += 32 * 1024) s.write(data.subarray(at, at + 32 * 1024));
        s.end();
      }
      process.on('exit', (code) => {
        console.log(JSON.stringify({ code, ended, same, N, inflight: openQueue().info().inflight }));
      });
      `,
      { env, timeout: 30_000 },
    );
    expect(r.signal, describeExit(r)).toBeNull();
    expect(r.status, describeExit(r)).toBe(0);
    expect(lastJson(r)).toEqual({ code: 0, ended: 64, same: 64, N: 64, inflight: 0 });
  });
});
