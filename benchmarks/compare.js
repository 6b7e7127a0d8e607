#!/usr/bin/env node
'use strict';
/*
 * node:zlib vs uaccel, side by side in one process.
 *
 *   node benchmarks/compare.js [--quick] [--reps=N] [--sva=0|1] [--json]
 *
 * UACCEL_BENCH_MODULE selects the module for the uaccel column (a path, or a
 * module name such as `zlib` to benchmark node:zlib against itself as a
 * sanity check). Default: ../dist/cjs/index.js.
 *
 * Every workload first runs once unmeasured with every output checked by
 * node:zlib; a wrong output ends the run with exit code 1 before any number
 * is printed. The measured repetitions then alternate node, uaccel, node,
 * uaccel, ... so slow drift (thermal, page cache, other tenants) hits both
 * columns alike, and the median of each column is reported.
 */

const os = require('node:os');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { isBuiltin } = require('node:module');
const { Readable, Writable } = require('node:stream');
const { pipeline, finished } = require('node:stream/promises');
const { once } = require('node:events');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const KiB = 1024;
const MiB = 1024 * KiB;

// ---------------------------------------------------------------------------
// Grid. `full` is the default; `quick` is sized for CI (a few seconds).
// ---------------------------------------------------------------------------
const GRID = {
  corpusBytes: { full: 32 * MiB, quick: 2 * MiB },
  reps: { full: 5, quick: 1 },
  corpusSeed: 0x5eed,

  // Single large stream: the per-chunk path under steady load.
  stream: { levels: [1, 6], writeBytes: 64 * KiB, latencyLevel: 6 },
  // Gunzip input is node's own output so both modules decode the same bytes.
  gunzip: { sourceLevel: 6, writeBytes: 64 * KiB },
  // The same member in writes of seeded sizes, as sockets deliver them.
  gunzipMixed: { minBytes: 1 * KiB, maxBytes: 64 * KiB, seed: 0x5eed },
  // Many small streams at once: where batching descriptors should pay off.
  concurrentStreams: { streams: 256, bytesPerStream: 64 * KiB, writeBytes: 16 * KiB, level: 6 },
  // Callback API, closed loop with a fixed number of calls in flight.
  oneShot: [
    { bytes: 1 * KiB, concurrency: 64, ops: { full: 20000, quick: 2000 } },
    { bytes: 256 * KiB, concurrency: 16, ops: { full: 256, quick: 48 } },
  ],
  // gunzip(buf, cb) of single members node made (level 6), same closed loop.
  oneShotGunzip: [{ bytes: 256 * KiB, concurrency: 16, ops: { full: 1024, quick: 96 }, members: 32 }],
  // Event-loop responsiveness while several streams compress at once.
  loopDelay: { streams: 4, level: 6, writeBytes: 64 * KiB },
  // Idle streams held open, each in a fresh child process: the memory a
  // server pays per open response.
  openStreams: { streams: 2000, writeBytes: 100 },
  // Stream throughput per worker count (1..cores), each count in a child
  // process with UACCEL_WORKERS set, so scaling can be read off.
  scaling: { levels: [1, 6] },
  // 1 ms is the finest resolution monitorEventLoopDelay accepts.
  loopDelayResolutionMs: 1,
};

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------
const USAGE = `usage: node benchmarks/compare.js [options]

  --quick        ${GRID.corpusBytes.quick / MiB} MiB corpus, ${GRID.reps.quick} repetition (CI smoke run)
  --reps=N       measured repetitions per module (default ${GRID.reps.full}, quick ${GRID.reps.quick})
  --sva=0|1      call uaccel.configure({ sva }) before any work
  --json         print machine-readable results instead of the table
  --help         this text

environment:
  UACCEL_BENCH_MODULE   module for the uaccel column (path or module name);
                        default ../dist/cjs/index.js relative to this file`;

let currentSva;

function parseArgs(argv) {
  const opts = { quick: false, reps: undefined, sva: undefined, json: false };
  for (const arg of argv) {
    const [key, value] = arg.split(/=(.*)/s, 2);
    if (key === '--quick' && value === undefined) opts.quick = true;
    else if (key === '--json' && value === undefined) opts.json = true;
    else if (key === '--help' || key === '-h') usageExit(0);
    else if (key === '--sva' && (value === '0' || value === '1')) opts.sva = value === '1';
    else if (key === '--reps' && /^[1-9]\d*$/.test(value ?? '')) opts.reps = Number(value);
    else usageExit(2, `unknown or malformed argument: ${arg}`);
  }
  const mode = opts.quick ? 'quick' : 'full';
  opts.mode = mode;
  opts.corpusBytes = GRID.corpusBytes[mode];
  opts.reps = opts.reps ?? GRID.reps[mode];
  return opts;
}

function usageExit(code, message) {
  if (message) process.stderr.write(`${message}\n\n`);
  (code === 0 ? process.stdout : process.stderr).write(`${USAGE}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------
// Module under test
// ---------------------------------------------------------------------------
function loadCandidate() {
  const fromEnv = process.env.UACCEL_BENCH_MODULE;
  const spec = fromEnv || path.join(__dirname, '..', 'dist', 'cjs', 'index.js');
  const isPath = /^[./]/.test(spec) || spec.includes(path.sep) || /\.[cm]?js$/.test(spec);
  const resolved = isPath ? path.resolve(spec) : spec;
  try {
    const mod = require(resolved);
    return { mod, spec: resolved, standIn: isBuiltin(resolved) || mod === zlib };
  } catch (err) {
    return { mod: null, spec: resolved, error: err };
  }
}

function safeInfo(mod) {
  if (!mod || typeof mod.info !== 'function') return null;
  try {
    return mod.info();
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
}

// Batch counters are cumulative; workloads read them as deltas.
function readCounters(mod) {
  const c = safeInfo(mod)?.counters;
  if (!c) return null;
  return {
    descriptors: Number(c.descriptors) || 0,
    batches: Number(c.batches) || 0,
    completionBatches: Number(c.completionBatches) || 0,
  };
}

function addCounterDelta(acc, before, after) {
  if (!before || !after) return acc;
  const sum = acc ?? { descriptors: 0, batches: 0, completionBatches: 0 };
  for (const k of Object.keys(sum)) sum[k] += after[k] - before[k];
  return sum;
}

// ---------------------------------------------------------------------------
// Corpus: seeded, so every run and every machine compresses the same bytes.
// Zipf-weighted English words plus JSON log records with numbers and
// timestamps land near 2.8x at gzip -6, close to real text/JSON payloads,
// without shipping a data file.
// ---------------------------------------------------------------------------
const WORDS = (
  'the of and to a in is it you that he was for on are with as I his they be at one have this ' +
  'from or had by hot word but what some we can out other were all there when up use your how ' +
  'said an each she which do their time if will way about many then them write would like so ' +
  'these her long make thing see him two has look more day could go come did number sound no ' +
  'most people my over know water than call first who may down side been now find any new work ' +
  'part take get place made live where after back little only round man year came show every ' +
  'good me give our under name very through just form sentence great think say help low line ' +
  'differ turn cause much mean before move right boy old too same tell does set three want air ' +
  'well also play small end put home read hand port large spell add even land here must big ' +
  'high such follow act why ask men change went light kind off need house picture try us again ' +
  'animal point mother world near build self earth father head stand own page should country ' +
  'found answer school grow study still learn plant cover food sun four between state keep eye ' +
  'never last let thought city tree cross farm hard start might story saw far sea draw left late ' +
  'run while press close night real life few north open seem together next white children begin ' +
  'got walk example ease paper group always music those both mark often letter until mile river ' +
  'car feet care second book carry took science eat room friend began idea fish mountain stop ' +
  'once base hear horse cut sure watch color face wood main enough plain girl usual young ready ' +
  'above ever red list though feel talk bird soon body dog family direct pose leave song measure ' +
  'door product black short numeral class wind question happen complete ship area half rock ' +
  'order fire south problem piece told knew pass since top whole king space heard best hour ' +
  'better true during hundred five remember step early hold west ground interest reach fast verb ' +
  'sing listen six table travel less morning ten simple several vowel toward war lay against ' +
  'pattern slow center love person money serve appear road map rain rule govern pull cold notice ' +
  'voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star ' +
  'box noun field rest correct able pound done beauty drive stood contain front teach week final ' +
  'gave green oh quick develop ocean warm free minute strong special mind behind clear tail ' +
  'produce fact street inch multiply nothing course stay wheel full force blue object decide ' +
  'surface deep moon island foot system busy test record boat common gold possible plane stead ' +
  'dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring ' +
  'yes distant fill east paint language among'
).split(' ');

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeCorpus(bytes, seed) {
  const rand = mulberry32(seed);
  const int = (n) => Math.floor(rand() * n);
  const cumulative = [];
  let total = 0;
  for (let i = 0; i < WORDS.length; i++) cumulative.push((total += 1 / (i + 1)));
  const word = () => {
    const x = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return WORDS[lo];
  };
  const sentence = () => {
    const n = 4 + int(14);
    const first = word();
    let s = first[0].toUpperCase() + first.slice(1);
    for (let i = 1; i < n; i++) s += (rand() < 0.08 ? ', ' : ' ') + word();
    return s + (rand() < 0.1 ? '?' : '.');
  };
  const pad = (n, w) => String(n).padStart(w, '0');
  const timestamp = () =>
    `2024-${pad(1 + int(12), 2)}-${pad(1 + int(28), 2)}T${pad(int(24), 2)}:` +
    `${pad(int(60), 2)}:${pad(int(60), 2)}.${pad(int(1000), 3)}Z`;

  const parts = [];
  let length = 0;
  let id = 100000;
  while (length < bytes) {
    let part;
    if (rand() < 0.4) {
      id += 1 + int(50);
      part =
        `{"id":${id},"user":"${word()}_${word()}${int(1000)}","ts":"${timestamp()}",` +
        `"amount":${(rand() * 1000).toFixed(2)},"tags":["${word()}","${word()}"],` +
        `"ok":${rand() < 0.9},"note":"${sentence()}"}\n`;
    } else {
      part = '';
      for (let n = 2 + int(5); n > 0; n--) part += sentence() + ' ';
      part += '\n\n';
    }
    parts.push(part);
    length += part.length; // ASCII only, so characters == bytes
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, bytes);
}

// Deterministic, overlapping-free-where-possible slices so concurrent
// operations do not all compress the same bytes.
function sliceAt(corpus, index, size) {
  const span = corpus.length - size + 1;
  const offset = (index * size) % span;
  return corpus.subarray(offset, offset + size);
}

// ---------------------------------------------------------------------------
// Verification (always node:zlib, never the module under test)
// ---------------------------------------------------------------------------
class WrongOutput extends Error {}

function expectGunzipsTo(compressed, expected, what) {
  let plain;
  try {
    plain = zlib.gunzipSync(compressed);
  } catch (err) {
    throw new WrongOutput(`${what}: output is not valid gzip (${err.message})`);
  }
  if (!plain.equals(expected)) {
    throw new WrongOutput(
      `${what}: output gunzips to ${plain.length} bytes that differ from the ${expected.length}-byte input`,
    );
  }
}

function expectEqual(actual, expected, what) {
  if (!actual.equals(expected)) {
    throw new WrongOutput(
      `${what}: produced ${actual.length} bytes that differ from the ${expected.length}-byte original`,
    );
  }
}

// ---------------------------------------------------------------------------
// Workload building blocks
// ---------------------------------------------------------------------------

// Pushes fixed-size views of `buf`, so the transform sees exactly these writes.
function sliceSource(buf, sliceBytes) {
  return piecesSource(buf, () => sliceBytes, sliceBytes);
}

// Slices of seeded sizes in [minBytes, maxBytes].
function mixedSource(buf, minBytes, maxBytes, seed) {
  const rand = mulberry32(seed);
  return piecesSource(buf, () => minBytes + Math.floor(rand() * (maxBytes - minBytes + 1)), maxBytes);
}

// A readable of consecutive slices of buf, each as long as nextSize() says.
function piecesSource(buf, nextSize, highWaterMark) {
  let offset = 0;
  return new Readable({
    highWaterMark,
    read() {
      if (offset >= buf.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + nextSize(), buf.length);
      this.push(buf.subarray(offset, end));
      offset = end;
    },
  });
}

function countingSink(keep) {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      sink.bytes += chunk.length;
      if (keep) sink.chunks.push(chunk);
      cb();
    },
  });
  sink.bytes = 0;
  sink.chunks = [];
  return sink;
}

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

const mbps = (bytes, seconds) => bytes / 1e6 / seconds;

// ---------------------------------------------------------------------------
// Workloads. Each run(mod, ctx, verify, name) returns { metricKey: number };
// `metrics` says how each key is labelled and which direction is better.
// ---------------------------------------------------------------------------
function streamGzipWorkload(level) {
  const { writeBytes, latencyLevel } = GRID.stream;
  const withLatency = level === latencyLevel;
  const metrics = [
    {
      key: 'mbps',
      label: `gzip L${level} stream, ${writeBytes / KiB} KiB writes`,
      unit: 'MB/s',
      better: 'higher',
    },
    { key: 'sizeRatio', label: '  compression ratio (in/out)', unit: 'x', better: 'higher' },
  ];
  if (withLatency) {
    metrics.push({ key: 'loopP99', label: '  event-loop delay p99', unit: 'ms', better: 'lower' });
  }
  return {
    id: `stream-gzip-l${level}`,
    metrics,
    async run(mod, { corpus }, verify, name) {
      const sink = countingSink(verify);
      const histogram = withLatency
        ? monitorEventLoopDelay({ resolution: GRID.loopDelayResolutionMs })
        : null;
      histogram?.enable();
      const { seconds } = await timed(() =>
        pipeline(sliceSource(corpus, writeBytes), mod.createGzip({ level }), sink),
      );
      histogram?.disable();
      if (verify) expectGunzipsTo(Buffer.concat(sink.chunks), corpus, `${name} gzip L${level} stream`);
      const result = { mbps: mbps(corpus.length, seconds), sizeRatio: corpus.length / sink.bytes };
      if (histogram) result.loopP99 = histogram.percentile(99) / 1e6;
      return result;
    },
  };
}

// The corpus split over a few concurrent gzip streams; what matters is how
// long the event loop stalls meanwhile (timers, I/O of a busy server).
const loopDelayWorkload = (() => {
  const { streams, level, writeBytes } = GRID.loopDelay;
  return {
    id: 'loop-delay',
    metrics: [
      {
        key: 'loopP99',
        label: `event-loop delay p99, ${streams} gzip L${level} streams`,
        unit: 'ms',
        better: 'lower',
      },
      { key: 'mbps', label: `  throughput of the ${streams} streams`, unit: 'MB/s', better: 'higher' },
    ],
    async run(mod, { corpus }, verify, name) {
      const part = Math.ceil(corpus.length / streams);
      const histogram = monitorEventLoopDelay({ resolution: GRID.loopDelayResolutionMs });
      histogram.enable();
      const sinks = [];
      const { seconds } = await timed(() =>
        Promise.all(
          Array.from({ length: streams }, (_, i) => {
            const sink = countingSink(verify);
            sinks.push(sink);
            const input = corpus.subarray(i * part, (i + 1) * part);
            return pipeline(sliceSource(input, writeBytes), mod.createGzip({ level }), sink);
          }),
        ),
      );
      histogram.disable();
      if (verify) {
        sinks.forEach((sink, i) =>
          expectGunzipsTo(
            Buffer.concat(sink.chunks),
            corpus.subarray(i * part, (i + 1) * part),
            `${name} stream #${i}`,
          ),
        );
      }
      return { loopP99: histogram.percentile(99) / 1e6, mbps: mbps(corpus.length, seconds) };
    },
  };
})();

// One gunzip stream over the member node made, fed by `source`.
function gunzipStreamWorkload(id, writes, source) {
  return {
    id,
    metrics: [{ key: 'mbps', label: `gunzip stream, ${writes} writes`, unit: 'MB/s', better: 'higher' }],
    async run(mod, { corpus, corpusGz }, verify, name) {
      const sink = countingSink(verify);
      const { seconds } = await timed(() => pipeline(source(corpusGz), mod.createGunzip(), sink));
      if (verify) expectEqual(Buffer.concat(sink.chunks), corpus, `${name} gunzip stream, ${writes} writes`);
      // Throughput counts uncompressed bytes, like the gzip rows.
      return { mbps: mbps(sink.bytes, seconds) };
    },
  };
}

const streamGunzipWorkload = gunzipStreamWorkload(
  'stream-gunzip',
  `${GRID.gunzip.writeBytes / KiB} KiB`,
  (gz) => sliceSource(gz, GRID.gunzip.writeBytes),
);

const streamGunzipMixedWorkload = (() => {
  const { minBytes, maxBytes, seed } = GRID.gunzipMixed;
  return gunzipStreamWorkload('stream-gunzip-mixed', `${minBytes / KiB}-${maxBytes / KiB} KiB`, (gz) =>
    mixedSource(gz, minBytes, maxBytes, seed),
  );
})();

const concurrentStreamsWorkload = (() => {
  const { streams, bytesPerStream, writeBytes, level } = GRID.concurrentStreams;
  return {
    id: 'concurrent-streams',
    metrics: [
      {
        key: 'mbps',
        label: `${streams} gzip L${level} streams x ${bytesPerStream / KiB} KiB (${writeBytes / KiB} KiB writes)`,
        unit: 'MB/s',
        better: 'higher',
      },
    ],
    async run(mod, { corpus }, verify, name) {
      // Producers honour backpressure, as a real server writing responses would.
      const one = async (i) => {
        const input = sliceAt(corpus, i, bytesPerStream);
        const gz = mod.createGzip({ level });
        const chunks = [];
        gz.on('data', (chunk) => {
          if (verify) chunks.push(chunk);
        });
        const done = finished(gz);
        for (let off = 0; off < input.length; off += writeBytes) {
          if (!gz.write(input.subarray(off, off + writeBytes))) await once(gz, 'drain');
        }
        gz.end();
        await done;
        if (verify) expectGunzipsTo(Buffer.concat(chunks), input, `${name} concurrent stream #${i}`);
      };
      const { seconds } = await timed(() => Promise.all(Array.from({ length: streams }, (_, i) => one(i))));
      return { mbps: mbps(streams * bytesPerStream, seconds) };
    },
  };
})();

function oneShotWorkload({ bytes, concurrency, ops }) {
  const sizeLabel = bytes >= KiB ? `${bytes / KiB} KiB` : `${bytes} B`;
  return {
    id: `oneshot-${bytes}`,
    metrics: [
      {
        key: 'opsPerSec',
        label: `gzip(buf, cb) ${sizeLabel}, ${concurrency} in flight`,
        unit: 'ops/s',
        better: 'higher',
      },
    ],
    run(mod, { corpus, mode }, verify, name) {
      return closedLoop(concurrency, ops[mode], (i, done) => {
        const input = sliceAt(corpus, i, bytes);
        mod.gzip(input, (err, out) => {
          if (!err && verify) {
            try {
              expectGunzipsTo(out, input, `${name} gzip(buf, cb) ${sizeLabel} #${i}`);
            } catch (e) {
              err = e;
            }
          }
          done(err);
        });
      });
    },
  };
}

// Runs `total` calls with `concurrency` in flight (each started when one
// finishes) and resolves the rate; the first error rejects.
function closedLoop(concurrency, total, call) {
  return new Promise((resolve, reject) => {
    let started = 0;
    let completed = 0;
    let failed = false;
    const startTime = performance.now();
    const launch = () => {
      call(started++, (err) => {
        if (failed) return;
        if (err) {
          failed = true;
          reject(err);
          return;
        }
        completed++;
        if (started < total) launch();
        else if (completed === total)
          resolve({ opsPerSec: total / ((performance.now() - startTime) / 1000) });
      });
    };
    for (let k = 0; k < Math.min(concurrency, total); k++) launch();
  });
}

// Members are compressed by node before timing starts, so both columns
// measure decompression only.
function oneShotGunzipWorkload({ bytes, concurrency, ops, members }) {
  const sizeLabel = `${bytes / KiB} KiB`;
  let prepared = null;
  return {
    id: `oneshot-gunzip-${bytes}`,
    metrics: [
      {
        key: 'opsPerSec',
        label: `gunzip(buf, cb) ${sizeLabel}, ${concurrency} in flight`,
        unit: 'ops/s',
        better: 'higher',
      },
    ],
    run(mod, { corpus, mode }, verify, name) {
      if (prepared === null || prepared.corpus !== corpus) {
        const plain = Array.from({ length: members }, (_, i) => sliceAt(corpus, i, bytes));
        prepared = { corpus, plain, packed: plain.map((p) => zlib.gzipSync(p, { level: 6 })) };
      }
      const { plain, packed } = prepared;
      return closedLoop(concurrency, ops[mode], (n, done) => {
        const i = n % members;
        mod.gunzip(packed[i], (err, out) => {
          if (!err && verify && !out.equals(plain[i])) {
            err = new WrongOutput(`${name} gunzip(buf, cb) ${sizeLabel} #${i}: wrong output`);
          }
          done(err);
        });
      });
    },
  };
}

// Each measurement is a fresh child process (RSS only ever grows within one),
// which loads the module, opens its queue with one finished stream, then
// holds the streams open and reports the RSS growth they caused.
const openStreamsWorkload = (() => {
  const { streams, writeBytes } = GRID.openStreams;
  return {
    id: 'open-streams',
    metrics: [
      {
        key: 'rssMiB',
        label: `${streams.toLocaleString('en-US')} open gzip streams, one ${writeBytes} B write each`,
        unit: 'MiB',
        better: 'lower',
      },
    ],
    run(mod, _ctx, _verify, name) {
      const which = mod === zlib ? 'zlib' : 'uaccel';
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', __filename, `--child-open-streams=${which}`],
        {
          env: { ...process.env, UACCEL_BENCH_SVA: String(currentSva ?? '') },
          encoding: 'utf8',
        },
      );
      const r = JSON.parse(out.trim().split('\n').pop());
      if (r.error) throw new WrongOutput(`${name} open streams: ${r.error}`);
      return { rssMiB: r.rssMiB };
    },
  };
})();

async function childOpenStreams(which) {
  const mod = which === 'zlib' ? zlib : loadCandidate().mod;
  if (process.env.UACCEL_BENCH_SVA && mod.configure)
    mod.configure({ sva: process.env.UACCEL_BENCH_SVA === 'true' });
  const { streams, writeBytes } = GRID.openStreams;
  const warm = mod.createGzip();
  warm.resume();
  warm.end(Buffer.alloc(writeBytes, 97));
  await finished(warm);
  global.gc();
  await new Promise((r) => setTimeout(r, 100));
  const base = process.memoryUsage().rss;
  const open = [];
  const written = [];
  for (let i = 0; i < streams; i++) {
    const gz = mod.createGzip();
    gz.on('data', () => {});
    written.push(new Promise((resolve) => gz.write(makeCorpus(writeBytes, i), resolve)));
    open.push(gz);
  }
  await Promise.all(written);
  await new Promise((r) => setTimeout(r, 200));
  global.gc();
  const rssMiB = (process.memoryUsage().rss - base) / MiB;
  process.stdout.write(`${JSON.stringify({ rssMiB, open: open.length })}\n`);
  process.exit(0);
}

// Throughput of one gzip stream at each worker count, each in a child with
// UACCEL_WORKERS set (the worker count is fixed when the queue opens).
function childScaling(level, mode) {
  const mod = loadCandidate().mod;
  if (process.env.UACCEL_BENCH_SVA && mod.configure)
    mod.configure({ sva: process.env.UACCEL_BENCH_SVA === 'true' });
  const corpus = makeCorpus(GRID.corpusBytes[mode], GRID.corpusSeed);
  const workload = streamGzipWorkload(level);
  (async () => {
    await workload.run(mod, { corpus }, true, 'uaccel');
    const runs = [];
    for (let rep = 0; rep < GRID.reps[mode]; rep++)
      runs.push((await workload.run(mod, { corpus }, false, 'uaccel')).mbps);
    process.stdout.write(`${JSON.stringify({ mbps: median(runs), workers: mod.info().workers })}\n`);
    process.exit(0);
  })().catch((err) => {
    process.stdout.write(`${JSON.stringify({ error: String(err && err.message) })}\n`);
    process.exit(1);
  });
}

function measureScaling(opts, log) {
  const rows = [];
  const cores = os.availableParallelism();
  for (const level of GRID.scaling.levels) {
    const row = { level, byWorkers: [] };
    for (let workers = 1; workers <= cores; workers++) {
      log(`  scaling: gzip L${level} stream, ${workers} worker(s)`);
      const out = execFileSync(process.execPath, [__filename, `--child-scaling=${level}:${opts.mode}`], {
        env: { ...process.env, UACCEL_WORKERS: String(workers), UACCEL_BENCH_SVA: String(opts.sva ?? '') },
        encoding: 'utf8',
      });
      const r = JSON.parse(out.trim().split('\n').pop());
      if (r.error) throw new WrongOutput(`scaling child: ${r.error}`);
      row.byWorkers.push({ workers: r.workers, mbps: r.mbps });
    }
    rows.push(row);
  }
  return rows;
}

// What one serial decoder can reach on the gunzip row's bytes: `igzip -d`
// (ISA-L, the codec the software device decodes stream bodies with) reading
// the member from the page cache and writing to /dev/null, no JavaScript in
// between, less the time the same command takes on an empty member (process
// start). A stream is serial, so this is its ceiling on this machine.
function measureDecodeCeiling(corpus, corpusGz, reps) {
  if (spawnSync('igzip', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uaccel-bench-'));
  const devNull = fs.openSync('/dev/null', 'w');
  const seconds = (file) => {
    const runs = [];
    for (let rep = 0; rep <= reps; rep++) {
      const start = performance.now();
      const r = spawnSync('igzip', ['-d', '-c', file], { stdio: ['ignore', devNull, 'ignore'] });
      if (r.status !== 0) return NaN;
      if (rep > 0) runs.push((performance.now() - start) / 1000); // the first run warms up
    }
    return median(runs);
  };
  try {
    const member = path.join(dir, 'corpus.gz');
    const empty = path.join(dir, 'empty.gz');
    fs.writeFileSync(member, corpusGz);
    fs.writeFileSync(empty, zlib.gzipSync(Buffer.alloc(0)));
    const decoding = seconds(member) - seconds(empty);
    if (!(decoding > 0)) return null;
    return { tool: 'igzip -d', mbps: corpus.length / decoding / 1e6 };
  } finally {
    fs.closeSync(devNull);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const WORKLOADS = [
  ...GRID.stream.levels.map(streamGzipWorkload),
  loopDelayWorkload,
  streamGunzipWorkload,
  streamGunzipMixedWorkload,
  concurrentStreamsWorkload,
  ...GRID.oneShot.map(oneShotWorkload),
  ...GRID.oneShotGunzip.map(oneShotGunzipWorkload),
  openStreamsWorkload,
];

// ---------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------
function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// Keeps one module's garbage from being collected on the other's clock.
const collectGarbage = typeof global.gc === 'function' ? () => global.gc() : () => {};

async function runWorkload(workload, subjects, ctx, reps, log) {
  // Unmeasured pass with every output verified; doubles as warm-up.
  for (const s of subjects) {
    log(`  ${workload.id}: verifying ${s.name}`);
    await workload.run(s.mod, ctx, true, s.name);
  }
  const samples = Object.fromEntries(subjects.map((s) => [s.name, {}]));
  let counters = null;
  for (let rep = 0; rep < reps; rep++) {
    for (const s of subjects) {
      collectGarbage();
      const before = s.trackCounters ? readCounters(s.mod) : null;
      const result = await workload.run(s.mod, ctx, false, s.name);
      if (s.trackCounters) counters = addCounterDelta(counters, before, readCounters(s.mod));
      for (const [key, value] of Object.entries(result)) {
        (samples[s.name][key] ??= []).push(value);
      }
    }
    log(`  ${workload.id}: rep ${rep + 1}/${reps}`);
  }
  return { samples, counters };
}

function ratioOf(metric, node, uaccel) {
  if (!(node > 0) || !(uaccel > 0)) return null;
  return metric.better === 'higher' ? uaccel / node : node / uaccel;
}

function batchSizes(counters) {
  if (!counters) return null;
  return {
    ...counters,
    descriptorsPerBatch: counters.batches > 0 ? counters.descriptors / counters.batches : null,
    completionsPerBatch:
      counters.completionBatches > 0 ? counters.descriptors / counters.completionBatches : null,
  };
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------
function fmtValue(v, unit) {
  if (v == null || Number.isNaN(v)) return '-';
  if (unit === 'x') return `${v.toFixed(2)}x`;
  if (unit === 'ms') return v.toFixed(2);
  if (unit === 'MiB') return v.toFixed(1);
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(1);
}

const fmtRatio = (r) => (r == null ? '-' : `${r.toFixed(2)}x`);
const fmtBatch = (b) => (b == null ? '-' : b.toFixed(1));

function renderTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // First column left-aligned (labels), the rest right-aligned (numbers).
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function describeMachine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
  };
}

function describeUaccel(candidate, info) {
  if (!candidate.mod) return 'uaccel: not loaded - node:zlib column only';
  if (candidate.standIn)
    return `uaccel: stand-in ${candidate.spec} (UACCEL_BENCH_MODULE); ratios should be ~1.00x`;
  if (!info) return `uaccel: ${candidate.spec} has no info()`;
  if (info.error) return `uaccel: info() failed: ${info.error}`;
  const fields = [
    `device=${info.device}`,
    `sva=${info.sva}`,
    `workers=${info.workers}`,
    `queueDepth=${info.queueDepth}`,
    `codecs=${Array.isArray(info.codecs) ? info.codecs.join(',') : info.codecs}`,
  ];
  return `uaccel: ${fields.join(' ')}`;
}

function printText(report) {
  const m = report.machine;
  const out = [];
  out.push(
    `machine: ${m.cpus} x ${m.cpuModel}, ${m.totalMemGiB} GiB, ${m.platform}, node ${m.node}, ` +
      `uv threadpool ${m.uvThreadpoolSize}`,
  );
  out.push(report.uaccelLine);
  if (report.warnings.length) out.push(...report.warnings.map((w) => `warning: ${w}`));
  out.push(
    `corpus: ${(report.config.corpusBytes / MiB).toFixed(1)} MiB text+JSON ` +
      `(gzip -6 ratio ${report.config.corpusGzipRatio.toFixed(2)}x), ` +
      `${report.config.reps} rep(s) per module, A/B alternating, median` +
      (report.config.sva === undefined ? '' : `, --sva=${report.config.sva ? 1 : 0}`),
  );
  out.push('');

  const header = ['workload', 'unit', 'node:zlib', 'uaccel', 'ratio', 'desc/batch', 'cmpl/batch'];
  const rows = [];
  for (const w of report.results) {
    w.metrics.forEach((r, i) => {
      const batch = i === 0 ? w.batch : null;
      rows.push([
        r.label,
        r.unit,
        fmtValue(r.node, r.unit),
        fmtValue(r.uaccel, r.unit),
        fmtRatio(r.ratio),
        fmtBatch(batch?.descriptorsPerBatch),
        fmtBatch(batch?.completionsPerBatch),
      ]);
    });
  }
  out.push(renderTable(header, rows));
  out.push('');
  if (report.scaling) {
    const byLevel = report.scaling;
    const workerCounts = byLevel[0].byWorkers.map((w) => w.workers);
    const nodeRate = (level) =>
      report.results.find((w) => w.id === `stream-gzip-l${level}`)?.metrics[0].node ?? NaN;
    out.push('uaccel gzip stream throughput by worker count (MB/s; x = vs node:zlib in the table above)');
    out.push(
      renderTable(
        ['workload', ...workerCounts.map((n) => `${n} worker${n > 1 ? 's' : ''}`)],
        byLevel.map((row) => [
          `gzip L${row.level} stream, ${GRID.stream.writeBytes / KiB} KiB writes`,
          ...row.byWorkers.map((w) => `${w.mbps.toFixed(1)} (${(w.mbps / nodeRate(row.level)).toFixed(2)}x)`),
        ]),
      ),
    );
    out.push('');
  }
  if (report.decodeCeiling) {
    const node = report.results.find((w) => w.id === 'stream-gunzip')?.metrics[0].node ?? NaN;
    const { tool, mbps: rate } = report.decodeCeiling;
    out.push(
      `gunzip ceiling: \`${tool}\` alone decodes the gunzip row's member at ${rate.toFixed(1)} MB/s ` +
        `(${(rate / node).toFixed(2)}x node:zlib's stream), file to /dev/null, process start excluded`,
    );
    out.push('');
  }
  out.push(
    'ratio: uaccel/node for throughput and compression, node/uaccel for latency; >1 means uaccel is better.',
  );
  out.push(
    'desc/batch: descriptors per ring submission; cmpl/batch: completions reaped per callback into JS.',
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = opts.json ? () => {} : (msg) => process.stderr.write(`${msg}\n`);
  const warnings = [];

  const candidate = loadCandidate();
  if (!candidate.mod) {
    warnings.push(
      `uaccel is not built or failed to load from ${candidate.spec} ` +
        `(${String(candidate.error?.message ?? candidate.error).split('\n')[0]}); measuring node:zlib only. ` +
        'Run `npm run build:ts` or set UACCEL_BENCH_MODULE.',
    );
  }

  currentSva = opts.sva;
  if (opts.sva !== undefined) {
    if (candidate.mod && typeof candidate.mod.configure === 'function') {
      candidate.mod.configure({ sva: opts.sva });
    } else if (candidate.mod) {
      warnings.push(`--sva ignored: ${candidate.spec} has no configure()`);
    }
  }

  const preInfo = candidate.standIn ? null : safeInfo(candidate.mod);
  if (preInfo && preInfo.device === 'none') {
    warnings.push(
      'uaccel reports device "none" (native addon did not load); its column measures the fallback path',
    );
  }

  log(`generating ${(opts.corpusBytes / MiB).toFixed(1)} MiB corpus...`);
  const corpus = makeCorpus(opts.corpusBytes, GRID.corpusSeed);
  const corpusGz = zlib.gzipSync(corpus, { level: GRID.gunzip.sourceLevel });
  const ctx = { corpus, corpusGz, mode: opts.mode };

  const subjects = [{ name: 'node:zlib', mod: zlib, trackCounters: false }];
  if (candidate.mod) {
    subjects.push({ name: 'uaccel', mod: candidate.mod, trackCounters: !candidate.standIn });
  }

  const results = [];
  for (const workload of WORKLOADS) {
    const { samples, counters } = await runWorkload(workload, subjects, ctx, opts.reps, log);
    const metrics = workload.metrics.map((metric) => {
      const node = median(samples['node:zlib'][metric.key] ?? []);
      const uaccel = candidate.mod ? median(samples.uaccel[metric.key] ?? []) : null;
      return {
        ...metric,
        node,
        uaccel,
        ratio: ratioOf(metric, node, uaccel),
        samples: { node: samples['node:zlib'][metric.key], uaccel: samples.uaccel?.[metric.key] ?? null },
      };
    });
    results.push({ id: workload.id, metrics, batch: batchSizes(counters) });
  }

  const scaling = candidate.mod && !candidate.standIn ? measureScaling(opts, log) : null;
  log('  decode ceiling: igzip -d');
  const decodeCeiling = measureDecodeCeiling(corpus, corpusGz, opts.reps);

  // Read after the run: workers and queue depth are settled once the queue is open.
  const info = candidate.standIn ? null : safeInfo(candidate.mod);
  const report = {
    machine: describeMachine(),
    uaccel: {
      module: candidate.spec,
      loaded: !!candidate.mod,
      standIn: !!candidate.standIn,
      info: info ?? null,
    },
    uaccelLine: describeUaccel(candidate, info),
    warnings,
    config: {
      mode: opts.mode,
      reps: opts.reps,
      sva: opts.sva,
      corpusBytes: corpus.length,
      corpusGzipRatio: corpus.length / corpusGz.length,
      grid: GRID,
    },
    results,
    scaling,
    decodeCeiling,
  };

  if (opts.json) {
    const { uaccelLine, ...json } = report;
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    printText(report);
  }
  return 0;
}

function exit(code) {
  // The uaccel queue may hold a ref'd handle open; exit explicitly once output is flushed.
  process.stdout.write('', () => process.exit(code));
}

const childArg = process.argv.slice(2).find((a) => a.startsWith('--child-'));
if (childArg?.startsWith('--child-open-streams=')) {
  childOpenStreams(childArg.split('=')[1]);
} else if (childArg?.startsWith('--child-scaling=')) {
  const [level, mode] = childArg.split('=')[1].split(':');
  childScaling(Number(level), mode);
} else
  main().then(exit, (err) => {
    if (err instanceof WrongOutput) {
      process.stderr.write(`FAIL: wrong output, no results reported.\n${err.message}\n`);
    } else {
      process.stderr.write(`FAIL: benchmark aborted: ${err && err.stack ? err.stack : err}\n`);
    }
    exit(1);
  });
