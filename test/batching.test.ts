// Batching: every descriptor queued during one event-loop turn goes to the
// device in a single submit, and completions that are ready together are
// delivered to JavaScript in one call. The workload is 200 serial gzip
// streams (blockSize 0: one stateful step per write), each written one 16 KiB
// chunk in the same tick (one descriptor each: no end, so the codec only
// buffers and each step's output is the 10-byte header).
//
// Counters belong to the queue, so each mode starts from configure(), which
// retires the open queue: the next stream opens a fresh one with zeroed
// counters. The pinned region is raised to 32 MiB so the whole turn fits (a
// descriptor takes a 64 KiB source slot and a 64 KiB destination slot; the
// default 4 MiB region holds 32 such pairs, and waiting for slots is
// backpressure, not what this file measures).
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { openQueue } from '../src/ring/current';
import { KiB, MiB, text } from './helpers/corpus';
import { MODES } from './helpers/streams';

const STREAMS = 200;
const CHUNK = 16 * KiB;

describe.each(MODES)('batching ($name)', ({ sva }) => {
  afterAll(() => {
    uaccel.configure({ pinnedBytes: 4 * MiB });
  });

  it(`${STREAMS} streams x one ${CHUNK / KiB} KiB write in one tick: one submit, batched completions`, async () => {
    uaccel.configure({ sva, pinnedBytes: 32 * MiB, blockSize: 0 });
    const chunk = text(CHUNK, 42);
    const streams: uaccel.Gzip[] = [];
    const written: Array<Promise<void>> = [];
    for (let i = 0; i < STREAMS; i++) {
      const s = uaccel.createGzip();
      s.resume();
      streams.push(s);
      written.push(
        new Promise<void>((resolve, reject) => {
          s.write(chunk, (err) => (err ? reject(err) : resolve()));
        }),
      );
    }
    // The queue opened with the first stream, in the requested mode.
    const opened = uaccel.info();
    expect(opened.open).toBe(true);
    expect(opened.sva).toBe(sva);
    expect(opened.queueDepth).toBeGreaterThanOrEqual(STREAMS);

    await Promise.all(written);
    const { counters } = uaccel.info();
    expect(openQueue()!.info().inflight).toBe(0);

    expect(counters.descriptors).toBe(STREAMS);
    expect(counters.bytesIn).toBe(STREAMS * CHUNK);
    // All 200 went down in one submit.
    expect(counters.batches).toBe(1);
    expect(counters.averageBatch).toBeGreaterThan(10);
    // The JavaScript thread woke fewer times than there were completions.
    expect(counters.completionBatches).toBeLessThan(STREAMS);
    expect(counters.averageCompletionBatch).toBeGreaterThan(1);

    for (const s of streams) s.destroy();
    await Promise.all(streams.map((s) => (s.closed ? undefined : once(s, 'close'))));
  });
});
