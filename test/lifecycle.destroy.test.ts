// Destroying streams mid-flight. 1,000 gzip and 1,000 gunzip streams are each
// written 64 KiB and torn down before their step completes: destroy() and
// destroy(err) and close(cb), either in the same tick as the write (the
// descriptor still waits in the JS queue) or on the next tick (the descriptor
// has been submitted, or waits for ring or pinned-region room behind the
// others). The device still runs or drops what was queued; the streams must
// neither crash nor emit anything node:zlib would not. node:zlib is the
// oracle: it runs the very same schedule, and every event and callback after
// the teardown is recorded on both sides and compared as a pattern per
// teardown variant (e.g. "close > write-cb:null").
//
// Memory: a leak here (a descriptor table entry, a Buffer or a codec context
// kept alive by a destroyed stream) only shows across repeated cycles and only
// after a full GC, and the vitest worker cannot call gc() (that needs
// --expose-gc at process start, and vitest's own heap would blur the numbers).
// So the memory check runs in a child `node --expose-gc` that loads the
// compiled package (dist/, built by test/setup/build.ts), runs the same cycle
// four times with a fresh 64 KiB input Buffer per stream, and reports
// process.memoryUsage() after gc() at the end of each cycle. After warm-up
// (cycle 2), external + arrayBuffers and RSS must stay flat: one cycle
// allocates about 125 MiB of inputs alone (plus outputs and 1,000 codec
// states of ~256 KiB each), so leaking even a few percent of it per cycle
// exceeds the bounds.
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { openQueue } from '../src/ring/current';
import { describeExit, distCurrent, distEntry, lastJson, runScript } from './helpers/child';
import { KiB, MiB, text } from './helpers/corpus';
import { MODES, ours, theirs, within } from './helpers/streams';

interface CycleResult {
  patterns: Record<string, Record<string, number>>;
  closes: number;
  closeCallbacks: number;
  expectedCloseCallbacks: number;
  stuck: string | null;
}
interface CycleOptions {
  create: () => NodeJS.EventEmitter;
  count: number;
  input: (i: number) => Buffer;
  idle: (state: { count: number; writeCallbacks: number }) => boolean;
  abort?: () => string | null;
  settleMs?: number;
  deadlineMs?: number;
}
const cyclePath = join(__dirname, 'helpers', 'destroy-cycle.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runCycle, VARIANTS } = require(cyclePath) as {
  runCycle(o: CycleOptions): Promise<CycleResult>;
  VARIANTS: string[];
};

const STREAMS = 1000;
const WRITE = 64 * KiB;
const KINDS = ['Gzip', 'Gunzip'] as const;
/** Gzip input: 64 KiB of text. Gunzip input: the first 64 KiB of a gzip member of text (~220 KiB inflated: several steps). */
const INPUT = {
  Gzip: text(WRITE, 101),
  Gunzip: zlib.gzipSync(text(1 * MiB, 102)).subarray(0, WRITE),
};

/** The uaccel queue has nothing queued in JS and nothing on the ring. */
function uaccelIdle(): boolean {
  const q = openQueue();
  return q === null || (!q.busy && q.info().inflight === 0);
}

/** Distinct messages with their counts: a thousand identical exceptions read as one line. */
function tally(messages: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of messages) out[m] = (out[m] ?? 0) + 1;
  return out;
}

/** How many of `count` streams the cycle tears down with close(cb). */
function closeCallbacksFor(count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (VARIANTS[i % VARIANTS.length].endsWith('close(cb)')) n++;
  return n;
}

/** Per variant, the distinct event patterns seen, sorted: what must match node. */
function shapes(r: CycleResult): Record<string, string[]> {
  return Object.fromEntries(Object.entries(r.patterns).map(([v, p]) => [v, Object.keys(p).sort()]));
}

/** Collects exceptions that escape to the process while `run` executes (and `settleMs` after). */
async function catchUncaught<T>(
  run: () => Promise<T>,
  settleMs = 50,
): Promise<{ value?: T; error?: unknown; uncaught: string[] }> {
  const uncaught: string[] = [];
  const onUncaught = (err: Error): void => {
    uncaught.push(String(err?.message ?? err));
  };
  process.on('uncaughtException', onUncaught);
  try {
    const value = await run();
    await new Promise((r) => setTimeout(r, settleMs));
    return { value, uncaught };
  } catch (error) {
    return { error, uncaught };
  } finally {
    process.off('uncaughtException', onUncaught);
  }
}

function gzipped(stream: uaccel.Gzip): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

// The smallest schedules that show what goes wrong when a stream is destroyed
// in the same tick as its write, while its descriptor still waits in the JS
// queue for the next-tick submit.
describe.each(MODES)('destroy in the same tick as write (minimal cases, $name)', ({ sva }) => {
  it('throws nothing; the write callback runs after close, as with node:zlib', async () => {
    uaccel.configure({ sva });
    const run = async (create: () => uaccel.Gzip | zlib.Gzip): Promise<string[]> => {
      const events: string[] = [];
      const s = create();
      s.on('close', () => events.push('close'));
      s.on('error', (e) => events.push(`error:${e.message}`));
      const wrote = new Promise<void>((resolve) =>
        s.write(text(WRITE, 1), (err) => {
          events.push(`write-cb:${err ? (err as { code?: string }).code : String(err)}`);
          resolve();
        }),
      );
      s.destroy();
      await within(2_000, wrote, 'the write callback').catch(() => events.push('write-cb never ran'));
      return events;
    };
    const node = await run(() => zlib.createGzip());
    const mine = await catchUncaught(() => run(() => uaccel.createGzip()));
    expect(mine.uncaught, 'thrown out of the next-tick submit').toEqual([]);
    expect(mine.value).toEqual(node);
  });

  it('a stream created right after it (and so reusing its context id) is not corrupted', async () => {
    uaccel.configure({ sva });
    const r = await catchUncaught(async () => {
      const a = uaccel.createGzip();
      a.on('error', () => undefined);
      a.write(text(WRITE, 2));
      a.destroy();
      const b = uaccel.createGzip();
      const out = gzipped(b);
      b.end('hello from B');
      return zlib.gunzipSync(await within(2_000, out, "B's output")).toString();
    });
    expect(r.uncaught).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.value).toBe('hello from B');
  });

  it('a live stream whose descriptor shares the same submit still completes', async () => {
    uaccel.configure({ sva });
    const r = await catchUncaught(async () => {
      const b = uaccel.createGzip();
      const out = gzipped(b);
      const a = uaccel.createGzip();
      a.write(text(WRITE, 3));
      a.destroy();
      b.end('hello from B');
      return zlib.gunzipSync(await within(2_000, out, "B's output")).toString();
    });
    expect(r.uncaught).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.value).toBe('hello from B');
  });

  it('the queue keeps serving new work after 40 such destroys', async () => {
    uaccel.configure({ sva });
    const r = await catchUncaught(async () => {
      for (let i = 0; i < 40; i++) {
        const s = uaccel.createGzip();
        s.write(text(WRITE, 10 + i));
        s.destroy();
      }
      await new Promise((res) => setTimeout(res, 20));
      const input = text(100 * KiB, 4);
      const out = await within(
        5_000,
        new Promise<Buffer>((res, rej) => uaccel.gzip(input, (e, b) => (e ? rej(e) : res(b)))),
        'a gzip() after the destroys',
      );
      return zlib.gunzipSync(out).equals(input);
    });
    expect(r.uncaught).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.value).toBe(true);
  });
});

describe.each(MODES)('destroy mid-flight ($name)', ({ sva }) => {
  it.each(KINDS)(
    `%s: ${STREAMS} streams written 64 KiB and torn down mid-flight behave as node's`,
    async (kind) => {
      // A fresh queue per case (configure() retires the open one), so one
      // case's damage cannot leak into the next.
      uaccel.configure({ sva });
      // A throw from inside the queue (e.g. from its nextTick submit) would
      // otherwise only surface as a vitest "unhandled error": catch and assert,
      // and stop waiting for a cycle such a throw has already broken.
      const uncaught: string[] = [];
      const abort = (): string | null => (uncaught.length > 0 ? `uncaught: ${uncaught[0]}` : null);
      const onUncaught = (err: Error): void => {
        uncaught.push(String(err?.message ?? err));
      };
      process.on('uncaughtException', onUncaught);
      let mine: CycleResult;
      let node: CycleResult;
      try {
        mine = await runCycle({
          create: () => ours[kind](),
          count: STREAMS,
          input: () => INPUT[kind],
          idle: uaccelIdle,
          abort,
        });
        node = await runCycle({
          create: () => theirs[kind](),
          count: STREAMS,
          input: () => INPUT[kind],
          // node:zlib calls back every write, destroyed or not, once its thread-pool job is done.
          idle: (st) => st.writeCallbacks === st.count,
        });
      } finally {
        process.off('uncaughtException', onUncaught);
      }

      expect(tally(uncaught), 'exceptions thrown out of uaccel while streams were torn down').toEqual({});
      expect(node.stuck).toBeNull();
      expect(mine.stuck).toBeNull();
      // Every stream closed, every close(cb) callback ran.
      expect(mine.closes).toBe(STREAMS);
      expect(mine.expectedCloseCallbacks).toBe(closeCallbacksFor(STREAMS));
      expect(mine.closeCallbacks).toBe(mine.expectedCloseCallbacks);
      // Same events, callbacks and order after the teardown as node, variant by variant.
      expect(shapes(mine)).toEqual(shapes(node));
      // Nothing left in flight, on either side of the ring.
      const q = openQueue();
      expect(q).not.toBeNull();
      expect(q!.busy).toBe(false);
      expect(q!.info().inflight).toBe(0);
      const info = uaccel.info();
      expect(info.open).toBe(true);
      expect(info.sva).toBe(sva);

      // And the same queue still serves new streams.
      const input = text(200 * KiB, 103);
      const out = await within(
        10_000,
        new Promise<Buffer>((res, rej) => uaccel.gzip(input, (e, r) => (e ? rej(e) : res(r)))),
        'a gzip() after the teardown cycle',
      );
      expect(zlib.gunzipSync(out).equals(input)).toBe(true);
    },
  );
});

const memoryScript = (cycles: number) => `
const zlib = require('zlib');
const u = require(${JSON.stringify(distEntry)});
const { openQueue } = require(${JSON.stringify(distCurrent)});
const { runCycle } = require(${JSON.stringify(cyclePath)});
const uncaught = {};
let anyUncaught = null;
process.on('uncaughtException', (e) => {
  const m = String((e && e.message) || e);
  uncaught[m] = (uncaught[m] || 0) + 1;
  anyUncaught = anyUncaught || m;
});
let x = 12345;
const word = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return 'w' + (x >>> 20).toString(36) + ' '; };
let s = '';
while (s.length < 1024 * 1024) s += word();
const textMiB = Buffer.from(s, 'latin1').subarray(0, 1024 * 1024);
const inputs = { Gzip: textMiB.subarray(0, ${WRITE}), Gunzip: zlib.gzipSync(textMiB).subarray(0, ${WRITE}) };
const idle = () => { const q = openQueue(); return q === null || (!q.busy && q.info().inflight === 0); };
const tick = () => new Promise((r) => setImmediate(r));
async function measure() {
  for (let i = 0; i < 3; i++) { global.gc(); await tick(); }
  const m = process.memoryUsage();
  return { rss: m.rss, external: m.external + m.arrayBuffers };
}
(async () => {
  const samples = [];
  let stuck = null;
  for (let c = 0; c < ${cycles} && !stuck; c++) {
    for (const kind of ['Gzip', 'Gunzip']) {
      const r = await runCycle({
        // Level 1: the same teardown schedule at a third of the deflate cost.
        create: () => u['create' + kind]({ level: 1 }),
        count: ${STREAMS},
        // A fresh Buffer per stream: a stream kept alive keeps its 64 KiB.
        input: () => Buffer.from(inputs[kind]),
        idle,
        abort: () => anyUncaught,
      });
      if (r.stuck) { stuck = 'cycle ' + c + ' ' + kind + ': ' + r.stuck; break; }
    }
    samples.push(await measure());
  }
  const q = openQueue();
  console.log(JSON.stringify({ samples, stuck, uncaught, inflight: q.info().inflight, busy: q.busy }));
})().catch((e) => { console.error(e); process.exit(3); });
`;

describe.each(MODES)('memory after repeated destroy cycles ($name)', ({ sva }) => {
  it('external memory and RSS return to their level after gc()', async () => {
    const cycles = 4;
    const r = await runScript(memoryScript(cycles), {
      nodeArgs: ['--expose-gc'],
      env: { UACCEL_SVA: sva ? '1' : '0' },
      timeout: 45_000,
    });
    expect(r.signal, describeExit(r)).toBeNull();
    expect(r.status, describeExit(r)).toBe(0);
    const report = lastJson<{
      samples: Array<{ rss: number; external: number }>;
      stuck: string | null;
      uncaught: Record<string, number>;
      inflight: number;
      busy: boolean;
    }>(r);
    expect(report.uncaught, 'exceptions thrown out of uaccel while streams were torn down').toEqual({});
    expect(report.stuck).toBeNull();
    expect(report.inflight).toBe(0);
    expect(report.busy).toBe(false);
    expect(report.samples).toHaveLength(cycles);
    const base = report.samples[1];
    const last = report.samples[cycles - 1];
    const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
    const trace = report.samples.map((m) => `rss ${mib(m.rss)} external ${mib(m.external)}`).join('; ');
    expect(last.external - base.external, `external+arrayBuffers grew: ${trace}`).toBeLessThan(16 * MiB);
    expect(last.rss - base.rss, `RSS grew: ${trace}`).toBeLessThan(64 * MiB);
  });
});
