#!/usr/bin/env node
'use strict';
/*
 * uaccel/http vs the `compression` package (node:zlib) as express middleware,
 * with the same server and no middleware as the ceiling.
 *
 *   node benchmarks/http.js [--quick] [--reps=N]
 *
 * Grid: pre-serialized JSON bodies of 1 KiB, 64 KiB and 1 MiB (API-like
 * records, generated deterministically), gzip at levels 1 and 6. Three
 * server processes (none / compression / uaccel), each an express app in its
 * own child process; the load comes from autocannon in this process, 32
 * keep-alive connections, a fixed duration per measurement (full: 5 s,
 * quick: 1 s). The order of the servers rotates per repetition and the
 * median requests/s and p99 latency over the repetitions are reported, with
 * the ratio uaccel/compression of the same run. Every cell first checks,
 * untimed, that each server's response decodes to the body.
 */

const { fork } = require('node:child_process');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { once } = require('node:events');

const KiB = 1024;
const SIZES = [1 * KiB, 64 * KiB, 1024 * KiB];
const LEVELS = [1, 6];
const SERVERS = ['none', 'compression', 'uaccel'];
const CONNECTIONS = 32;

if (process.argv[2] === '--serve') {
  serve(process.argv[3]);
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

/**
 * Server side: one express app; `/<level>/<bytes>` sends the pre-serialized
 * body through the named middleware at that level (`none`: no middleware).
 */
function serve(which) {
  const express = require('express');
  const factory =
    which === 'uaccel'
      ? require(path.join(__dirname, '..', 'dist', 'cjs', 'http', 'index.js'))
      : which === 'compression'
        ? require('compression')
        : null;
  const bodies = new Map(SIZES.map((size) => [String(size), makeJson(size)]));
  const send = (req, res) => {
    const body = bodies.get(req.params.size);
    if (body === undefined) return res.sendStatus(404);
    res.type('json').send(body);
  };
  const app = express();
  for (const level of LEVELS) {
    const router = express.Router();
    if (factory) router.use(factory({ level }));
    router.get('/:size', send);
    app.use(`/${level}`, router);
  }
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

/**
 * A JSON array of API-like records (ids, names, emails, timestamps, enums,
 * nested objects), seeded so every process builds the same text, and cut to
 * exactly `size` bytes by the length of the last record's note.
 */
function makeJson(size) {
  let a = 0x5eed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const pick = (xs) => xs[next() % xs.length];
  const hex = () => next().toString(16).padStart(8, '0');
  const first = [
    'Ada',
    'Grace',
    'Linus',
    'Ken',
    'Barbara',
    'Edsger',
    'Margaret',
    'Dennis',
    'Radia',
    'Niklaus',
  ];
  const last = ['Lovelace', 'Hopper', 'Torvalds', 'Thompson', 'Liskov', 'Dijkstra', 'Hamilton', 'Ritchie'];
  const cities = ['Lisbon', 'Osaka', 'Nairobi', 'Toronto', 'Berlin', 'Santiago', 'Pune', 'Oslo'];
  const tags = ['admin', 'beta', 'billing', 'support', 'trial', 'enterprise', 'mobile', 'legacy'];
  const words = 'order shipped pending refund invoice account review update priority customer note'.split(
    ' ',
  );
  const record = (id) => {
    const f = pick(first);
    const l = pick(last);
    const t = 1767225600 + (next() % 31536000);
    return {
      id,
      uuid: [8, 4, 4, 4, 12].map((n) => (hex() + hex()).slice(0, n)).join('-'),
      name: `${f} ${l}`,
      email: `${f}.${l}${next() % 100}@example.com`.toLowerCase(),
      status: pick(['active', 'inactive', 'pending', 'suspended']),
      createdAt: new Date(t * 1000).toISOString(),
      score: (next() % 100000) / 100,
      verified: next() % 2 === 0,
      tags: Array.from({ length: 1 + (next() % 3) }, () => pick(tags)),
      address: {
        city: pick(cities),
        zip: String(10000 + (next() % 89999)),
        country: pick(['PT', 'JP', 'KE', 'CA']),
      },
      orders: next() % 40,
      note: '',
    };
  };
  const fill = (n) => Array.from({ length: n }, () => pick(words)).join(' ');
  // Grown record by record (the text is "[" + records joined by "," + "]"),
  // then the last record's note takes up the remaining bytes.
  const records = [];
  let length = 2;
  for (;;) {
    const r = record(records.length + 1);
    const add = JSON.stringify(r).length + (records.length > 0 ? 1 : 0);
    if (length + add > size) break;
    records.push(r);
    length += add;
  }
  let note = fill(200);
  while (note.length < size) note += ` ${note}`;
  records[records.length - 1].note = note.slice(0, size - length);
  const json = JSON.stringify(records);
  if (json.length !== size) throw new Error(`makeJson(${size}) made ${json.length} bytes`);
  return json;
}

async function startServer(which) {
  const child = fork(__filename, ['--serve', which], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = await once(child, 'message');
  return { which, child, port: msg.port };
}

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: urlPath, agent: false, headers: { 'accept-encoding': 'gzip' } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            encoding: res.headers['content-encoding'],
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

/** Untimed: the response decodes to the body, compressed by every middleware. */
async function verify(server, urlPath, expected) {
  const r = await get(server.port, urlPath);
  const wantEncoding = server.which === 'none' ? undefined : 'gzip';
  const body = r.encoding === 'gzip' ? zlib.gunzipSync(r.body) : r.body;
  if (r.status !== 200 || r.encoding !== wantEncoding || body.toString() !== expected) {
    throw new Error(
      `${server.which} ${urlPath}: wrong response (status ${r.status}, encoding ${r.encoding})`,
    );
  }
}

async function measure(server, urlPath, seconds) {
  const autocannon = require('autocannon');
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${urlPath}`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'accept-encoding': 'gzip' },
  });
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(
      `${server.which} ${urlPath}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`,
    );
  }
  return { rps: result.requests.total / result.duration, p99: result.latency.p99 };
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
  const seconds = quick ? 1 : 5;
  // Other work on the machine shows here first: the load average is printed before and after.
  const loadBefore = os.loadavg()[0];
  const servers = {};
  for (const n of SERVERS) servers[n] = await startServer(n);
  try {
    // Every request of a cell asks for gzip; the ceiling's server ignores it.
    // It does not depend on the level, so it is measured once per body.
    const rows = [];
    for (const size of SIZES) {
      const expected = makeJson(size);
      const samples = {};
      const cells = [
        ['none', 1],
        ...LEVELS.flatMap((level) => [
          ['compression', level],
          ['uaccel', level],
        ]),
      ];
      for (const [n, level] of cells) {
        const urlPath = `/${level}/${size}`;
        await verify(servers[n], urlPath, expected);
        await measure(servers[n], urlPath, quick ? 0.5 : 1); // warm-up
        samples[`${n}/${level}`] = { rps: [], p99: [] };
      }
      for (let rep = 0; rep < reps; rep++) {
        // Rotate the order so no server always runs first (or right after another's load).
        const order = cells.map((_, i) => cells[(i + rep) % cells.length]);
        if (rep % 2 === 1) order.reverse();
        for (const [n, level] of order) {
          const m = await measure(servers[n], `/${level}/${size}`, seconds);
          samples[`${n}/${level}`].rps.push(m.rps);
          samples[`${n}/${level}`].p99.push(m.p99);
        }
      }
      const rps = (key) => median(samples[key].rps);
      const p99 = (key) => median(samples[key].p99);
      for (const level of LEVELS) {
        const c = `compression/${level}`;
        const u = `uaccel/${level}`;
        rows.push([
          size >= 1024 * KiB ? `${size / 1024 / KiB} MiB` : `${size / KiB} KiB`,
          String(level),
          rps('none/1').toFixed(0),
          rps(c).toFixed(0),
          rps(u).toFixed(0),
          `${(rps(u) / rps(c)).toFixed(2)}x`,
          p99('none/1').toFixed(1),
          p99(c).toFixed(1),
          p99(u).toFixed(1),
        ]);
      }
    }
    const header = [
      'body',
      'level',
      'req/s none',
      'req/s compression',
      'req/s uaccel',
      'uaccel/compression',
      'p99 ms none',
      'p99 ms compression',
      'p99 ms uaccel',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(
      `express + JSON body, Accept-Encoding: gzip; autocannon ${CONNECTIONS} keep-alive connections, ` +
        `${seconds} s per measurement, median of ${reps}; node ${process.version}, ${os.cpus().length} CPUs ` +
        'shared by the servers, their zlib/device threads and the load generator',
    );
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    console.log(
      'none: the same server without middleware (uncompressed), measured once per body, shown for both levels',
    );
    console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after`);
  } finally {
    for (const n of SERVERS) servers[n].child.kill();
  }
}
