// One "destroy mid-flight" cycle, shared by test/lifecycle.destroy.test.ts
// (in process, against uaccel and against node:zlib as the oracle) and by the
// --expose-gc child that measures memory across cycles. Plain CommonJS so a
// `node` child can require it as is.
'use strict';

/**
 * How each stream is torn down, cycled over the streams. `sync` variants act
 * right after write(), in the same tick (the descriptor is still waiting in
 * the JS queue); `tick` variants act on the next tick, after the queue's
 * submit, when the descriptor is on the ring (or, beyond the ring's or the
 * pinned region's capacity, still waiting for room).
 */
const VARIANTS = [
  'sync destroy()',
  'sync destroy(err)',
  'sync close(cb)',
  'tick destroy()',
  'tick destroy(err)',
  'tick close(cb)',
];

const WATCHED = ['close', 'end', 'finish', 'drain', 'data', 'prefinish', 'pause', 'resume', 'readable'];

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `predicate`; false on the deadline or as soon as `abort()` names a reason. */
async function until(predicate, deadlineMs, abort = () => null) {
  const deadline = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > deadline || abort()) return false;
    await sleep(2);
  }
  return true;
}

function errText(err) {
  if (err === null) return 'null';
  if (err === undefined) return 'undefined';
  return err.code || err.message;
}

/**
 * Creates `count` streams with `create()`, writes `input()` to each, tears
 * each down per its variant, and records every event and callback from then
 * on. Resolves once every stream closed, every close(cb) callback ran,
 * `idle({ count, writeCallbacks })` holds (nothing left in flight), and
 * `settleMs` more passed with nothing new (events that arrive late are part
 * of the pattern). Waits give up after `deadlineMs`, or at once when
 * `abort()` returns a reason (an exception already doomed the cycle), and
 * say so in `stuck`.
 *
 * @returns {Promise<{patterns: Record<string, Record<string, number>>, closes: number,
 *   closeCallbacks: number, expectedCloseCallbacks: number, stuck: string | null}>}
 */
async function runCycle({ create, count, input, idle, abort = () => null, settleMs = 20, deadlineMs = 10000 }) {
  const logs = [];
  let closes = 0;
  let closeCallbacks = 0;
  let expectedCloseCallbacks = 0;
  const state = { count, writeCallbacks: 0 };
  const ticks = [];
  for (let i = 0; i < count; i++) {
    const variant = VARIANTS[i % VARIANTS.length];
    const log = [];
    logs.push({ variant, log });
    const s = create();
    let acted = false;
    const rec = (what) => log.push(acted ? what : `before-teardown:${what}`);
    for (const name of WATCHED) {
      s.on(name, () => {
        if (name === 'close') closes++;
        rec(name);
      });
    }
    s.on('error', (err) => rec(`error:${errText(err)}`));
    s.write(input(i), (err) => {
      state.writeCallbacks++;
      rec(`write-cb:${errText(err)}`);
    });
    const act = () => {
      acted = true;
      if (variant.endsWith('close(cb)')) {
        expectedCloseCallbacks++;
        s.close((err) => {
          closeCallbacks++;
          rec(`close-cb:${errText(err)}`);
        });
      } else if (variant.endsWith('destroy(err)')) {
        s.destroy(new Error('teardown'));
      } else {
        s.destroy();
      }
    };
    if (variant.startsWith('sync')) act();
    else ticks.push(act);
  }
  process.nextTick(() => {
    for (const act of ticks) act();
  });

  let stuck = null;
  if (!(await until(() => closes === count && closeCallbacks === expectedCloseCallbacks, deadlineMs, abort))) {
    stuck = `only ${closes}/${count} streams closed and ${closeCallbacks}/${expectedCloseCallbacks} close callbacks ran`;
  } else if (!(await until(() => idle(state), deadlineMs, abort))) {
    stuck = 'work still in flight after every stream closed';
  }
  if (stuck && abort()) stuck += ` (gave up early: ${abort()})`;
  // Late events: wait until nothing new arrives for settleMs.
  let total = -1;
  for (;;) {
    const now = logs.reduce((n, l) => n + l.log.length, 0);
    if (now === total) break;
    total = now;
    await sleep(settleMs);
  }

  const patterns = {};
  for (const { variant, log } of logs) {
    const p = (patterns[variant] ??= {});
    const key = log.join(' > ');
    p[key] = (p[key] ?? 0) + 1;
  }
  return { patterns, closes, closeCallbacks, expectedCloseCallbacks, stuck };
}

module.exports = { VARIANTS, runCycle, until, sleep };
