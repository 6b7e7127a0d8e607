// uaccel inside worker_threads. Every JavaScript environment opens its own
// queue (its own ring, device threads, completion poll and counters) on first
// use; worker.terminate() tears that environment down through the addon's
// async cleanup hook, which stops and joins the device threads, even while
// descriptors are in flight. Workers load the compiled package (dist/cjs),
// built by test/setup/build.ts: a Worker cannot import the TypeScript sources.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { openQueue } from '../src/ring/current';
import { distCurrent, distEntry } from './helpers/child';
import { KiB, text } from './helpers/corpus';
import { MODES, collect, useMode } from './helpers/streams';

/** The worker's program: `workerData.task` picks what it does; results come back as one message. */
const workerSource = `
const { parentPort, workerData } = require('worker_threads');
const zlib = require('zlib');
const u = require(${JSON.stringify(distEntry)});
const { openQueue } = require(${JSON.stringify(distCurrent)});
const { task, sva, workers, data } = workerData;
u.configure(workers ? { sva, workers } : { sva });

function gzipStream(input, writeSize) {
  return new Promise((resolve, reject) => {
    const s = u.createGzip();
    const chunks = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => resolve(Buffer.concat(chunks)));
    for (let at = 0; at < input.length; at += writeSize) s.write(input.subarray(at, at + writeSize));
    s.end();
  });
}

const tasks = {
  // Compress with the one-shot and stream forms; the main thread compares.
  async compress() {
    const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const small = input.subarray(0, 60 * 1024);
    const oneShot = await new Promise((res, rej) => u.gzip(small, { blockSize: 0 }, (e, r) => (e ? rej(e) : res(r))));
    const streamed = await gzipStream(input, 16 * 1024);
    return { oneShot, streamed, info: u.info(), inflight: openQueue().info().inflight };
  },
  // Keep the device busy for seconds and say so once descriptors are on the ring;
  // the main thread terminates this worker mid-flight.
  async busy() {
    const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let told = false;
    const tell = (where) => {
      if (told) return;
      const inflight = openQueue().info().inflight;
      if (inflight === 0) return;
      told = true;
      parentPort.postMessage({ busy: where, inflight });
    };
    for (let i = 0; i < 400; i++) {
      const s = i % 3 === 2 ? u.createGunzip() : u.createDeflate({ level: 9 });
      if (workerData.where === 'data') s.on('data', () => tell('data'));
      else s.resume();
      s.on('error', () => {});
      s.end(i % 3 === 2 ? u.gzipSync(input.subarray(0, 32 * 1024)) : input);
    }
    if (workerData.where === 'tick') setImmediate(() => tell('tick'));
    await new Promise(() => {}); // never reports done: it is terminated
  },
  // Exactly \`count\` descriptors: one 4 KiB write per serial stream (blocks
  // would hold it until a block fills), never ended, so each write is one
  // step whose output (the gzip header) fits.
  async count() {
    const n = workerData.count;
    const written = [];
    const streams = [];
    for (let i = 0; i < n; i++) {
      const s = u.createGzip({ blockSize: 0 });
      s.resume();
      streams.push(s);
      written.push(new Promise((res) => s.write(Buffer.alloc(4096, i), res)));
    }
    await Promise.all(written);
    // Let the other workers get going too, so the queues really coexist.
    await new Promise((r) => setTimeout(r, 50));
    const info = u.info();
    for (const s of streams) s.destroy();
    return { info, inflight: openQueue().info().inflight };
  },
};

tasks[task]().then(
  (result) => parentPort.postMessage({ result }),
  (err) => parentPort.postMessage({ error: String(err && err.stack || err) }),
);
`;

interface WorkerInfo {
  device: string;
  sva: boolean;
  workers: number;
  open: boolean;
  counters: uaccel.Counters;
}

function startWorker(workerData: Record<string, unknown>): Worker {
  return new Worker(workerSource, { eval: true, workerData });
}

/** Runs a task to completion and returns its result; fails on a worker error or a non-zero exit. */
async function runTask<T>(workerData: Record<string, unknown>): Promise<T> {
  const w = startWorker(workerData);
  const errors: unknown[] = [];
  w.on('error', (e) => errors.push(e));
  const [msg] = (await once(w, 'message')) as [{ result?: T; error?: string }];
  const [code] = (await once(w, 'exit')) as [number];
  expect(errors).toEqual([]);
  if (msg.error) throw new Error(`worker failed: ${msg.error}`);
  expect(code).toBe(0);
  return msg.result as T;
}

/** Main thread sanity: a gzip round trip through this thread's own queue. */
async function mainRoundTrip(): Promise<void> {
  const input = text(200 * KiB, 77);
  const gz = uaccel.createGzip();
  const out = collect(gz);
  gz.end(input);
  const compressed = await out;
  expect(zlib.gunzipSync(compressed).equals(input)).toBe(true);
  const back = await new Promise<Buffer>((res, rej) =>
    uaccel.gunzip(compressed, (e, r) => (e ? rej(e) : res(r))),
  );
  expect(back.equals(input)).toBe(true);
  expect(openQueue()!.info().inflight).toBe(0);
}

const INPUT = text(300 * KiB, 5);

describe.each(MODES)('worker_threads ($name)', ({ sva }) => {
  useMode(sva);

  it('a worker compresses through its own queue; the result matches node', async () => {
    const r = await runTask<{
      oneShot: Uint8Array;
      streamed: Uint8Array;
      info: WorkerInfo;
      inflight: number;
    }>({
      task: 'compress',
      sva,
      data: INPUT,
    });
    expect(r.info.open).toBe(true);
    expect(r.info.device).toBe('software');
    expect(r.info.sva).toBe(sva);
    expect(r.inflight).toBe(0);
    // One 60 KiB write (one descriptor in either mode): node's exact bytes.
    expect(Buffer.from(r.oneShot).equals(zlib.gzipSync(INPUT.subarray(0, 60 * KiB)))).toBe(true);
    expect(zlib.gunzipSync(r.streamed).equals(INPUT)).toBe(true);
  });

  it.each(['tick', 'data'] as const)(
    'terminate() while streams are in flight (signalled from %s): no crash, main keeps working',
    async (where) => {
      for (let round = 0; round < 3; round++) {
        const w = startWorker({ task: 'busy', sva, data: INPUT, where });
        const errors: unknown[] = [];
        w.on('error', (e) => errors.push(e));
        const exited = once(w, 'exit');
        const [msg] = (await once(w, 'message')) as [{ busy?: string; inflight?: number; error?: string }];
        expect(msg.error).toBeUndefined();
        expect(msg.busy).toBe(where);
        expect(msg.inflight).toBeGreaterThan(0);
        const code = await w.terminate();
        await exited;
        expect(code).toBe(1); // node's exit code for a terminated worker
        expect(errors).toEqual([]);
      }
      await mainRoundTrip();
    },
  );
});

describe('several workers at once', () => {
  it('each worker has its own queue: own mode, own worker count, own counters', async () => {
    const main = uaccel.createGzip();
    main.resume();
    const before = uaccel.info().counters;
    const specs = [
      { sva: true, workers: 1, count: 11 },
      { sva: false, workers: 2, count: 23 },
      { sva: true, workers: 3, count: 37 },
      { sva: false, workers: 1, count: 5 },
    ];
    const results = await Promise.all(
      specs.map((s) => runTask<{ info: WorkerInfo; inflight: number }>({ task: 'count', ...s })),
    );
    results.forEach(({ info, inflight }, i) => {
      const spec = specs[i];
      expect({ sva: info.sva, workers: info.workers, open: info.open }).toEqual({
        sva: spec.sva,
        workers: spec.workers,
        open: true,
      });
      // Only this worker's descriptors, in this worker's batches.
      expect(info.counters.descriptors).toBe(spec.count);
      expect(info.counters.bytesIn).toBe(spec.count * 4096);
      expect(inflight).toBe(0);
    });
    // None of it went through the main thread's queue.
    const after = uaccel.info().counters;
    expect(after.descriptors).toBe(before.descriptors);
    expect(after.bytesIn).toBe(before.bytesIn);
    main.destroy();
    await mainRoundTrip();
  });
});
