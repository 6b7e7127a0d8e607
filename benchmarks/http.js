#!/usr/bin/env node
'use strict';
/*
 * uaccel/http vs the `compression` package (node:zlib) as express middleware.
 *
 *   node benchmarks/http.js [--quick] [--reps=N]
 *
 * Grid: response bodies of 4 KiB and 64 KiB of text, gzip level 6 (both
 * middlewares' default), 32 keep-alive clients, a fixed number of requests
 * per measurement (full: 4000, quick: 300). Each middleware runs in its own
 * server process (so the client's work is not billed to it) and the client
 * checks every response body. Middlewares alternate per repetition; the
 * median requests/s and the server's event-loop delay p99 are reported, with
 * the ratio uaccel/compression measured in the same run.
 */

const { fork } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { once } = require('node:events');

const KiB = 1024;

if (process.argv[2] === '--serve') {
  serve(process.argv[3]);
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

/** Server side: one express app with the named middleware; reports its event-loop delay on request. */
function serve(which) {
  const express = require('express');
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const middleware =
    which === 'uaccel'
      ? require(path.join(__dirname, '..', 'dist', 'cjs', 'http', 'index.js'))
      : require('compression');
  const bodies = new Map();
  const app = express();
  app.use(middleware());
  app.get('/:kib', (req, res) => {
    const kib = Number(req.params.kib);
    if (!bodies.has(kib)) bodies.set(kib, makeText(kib * KiB));
    res.type('text/plain').send(bodies.get(kib));
  });
  let histogram = monitorEventLoopDelay({ resolution: 1 });
  process.on('message', (msg) => {
    if (msg === 'reset') {
      histogram.disable();
      histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      process.send({ reset: true });
    } else if (msg === 'delay') {
      process.send({ p99: histogram.percentile(99) / 1e6 });
    }
  });
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

/** Seeded English-like text, the same in every process. */
function makeText(size) {
  const words =
    'the of and to in is that for it as was with be by on not queue ring device buffer stream gzip window worker'.split(
      ' ',
    );
  let a = 0x5eed;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = (t ^ (t >>> 14)) >>> 0;
    at += out.write(words[r % words.length] + ((r >>> 16) % 13 === 0 ? '\n' : ' '), at, 'latin1');
  }
  return out;
}

async function startServer(which) {
  const child = fork(__filename, ['--serve', which], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = await once(child, 'message');
  return { child, port: msg.port };
}

async function ask(child, msg) {
  child.send(msg);
  const [reply] = await once(child, 'message');
  return reply;
}

function get(agent, port, kib) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: `/${kib}`, agent, headers: { 'accept-encoding': 'gzip' } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

async function measure(server, kib, requests, concurrency, expected) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  await ask(server.child, 'reset');
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const r = await get(agent, server.port, kib);
        if (r.encoding !== 'gzip' || !zlib.gunzipSync(r.body).equals(expected)) {
          throw new Error(`wrong response for /${kib} (content-encoding ${r.encoding})`);
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { p99 } = await ask(server.child, 'delay');
  agent.destroy();
  return { rps: requests / seconds, p99 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main() {
  const args = process.argv.slice(2);
  for (const a of args) {
    if (a !== '--quick' && !/^--reps=\d+$/.test(a)) {
      console.error(`benchmarks/http.js: unknown or malformed argument: ${a}`);
      process.exit(2);
    }
  }
  const quick = args.includes('--quick');
  const repsArg = args.find((a) => a.startsWith('--reps='));
  const reps = repsArg ? Number(repsArg.split('=')[1]) : quick ? 1 : 3;
  const requests = quick ? 300 : 4000;
  const concurrency = 32;
  const sizes = [4, 64];
  const names = ['compression', 'uaccel'];
  const servers = {};
  for (const n of names) servers[n] = await startServer(n);
  try {
    const rows = [];
    for (const kib of sizes) {
      const expected = makeText(kib * KiB);
      const samples = Object.fromEntries(names.map((n) => [n, { rps: [], p99: [] }]));
      for (const n of names) await measure(servers[n], kib, 50, concurrency, expected); // warm-up
      for (let rep = 0; rep < reps; rep++) {
        for (const n of names) {
          const m = await measure(servers[n], kib, requests, concurrency, expected);
          samples[n].rps.push(m.rps);
          samples[n].p99.push(m.p99);
        }
      }
      const rps = Object.fromEntries(names.map((n) => [n, median(samples[n].rps)]));
      const p99 = Object.fromEntries(names.map((n) => [n, median(samples[n].p99)]));
      rows.push([
        `GET ${kib} KiB text, gzip`,
        'req/s',
        rps.compression.toFixed(0),
        rps.uaccel.toFixed(0),
        `${(rps.uaccel / rps.compression).toFixed(2)}x`,
      ]);
      rows.push([
        '  server event-loop delay p99',
        'ms',
        p99.compression.toFixed(2),
        p99.uaccel.toFixed(2),
        `${(p99.compression / p99.uaccel).toFixed(2)}x`,
      ]);
    }
    const header = ['workload', 'unit', 'compression', 'uaccel/http', 'ratio'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(
      `express + compression middleware: ${concurrency} keep-alive clients, ${requests} requests, median of ${reps}, node ${process.version}`,
    );
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    console.log(
      'ratio: uaccel/compression for req/s, compression/uaccel for delay (higher is better for uaccel)',
    );
  } finally {
    for (const n of names) servers[n].child.kill();
  }
}
