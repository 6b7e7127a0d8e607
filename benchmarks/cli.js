#!/usr/bin/env node
'use strict';
/*
 * `uaccel gzip` vs pigz (and gzip for reference) on one generated file.
 *
 *   node benchmarks/cli.js [--quick] [--reps=N] [--mib=N]
 *
 * Grid: one text-like file of --mib MiB (default 200; --quick: 8), level 6,
 * compression to stdout (`-6 -c file > /dev/null`) and decompression of the
 * same bytes as produced by pigz (`-d -c file.gz > /dev/null`). Tools alternate
 * in every repetition so drift hits all alike; the median wall time of each is
 * reported with MB/s and the ratio against pigz measured in the same run.
 * Before timing, every tool's compressed output is checked to decompress to
 * the input (via node:zlib); a mismatch ends the run with exit code 1.
 */

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const flag = (name, fallback) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : fallback;
};
for (const a of args) {
  if (a !== '--quick' && !/^--(reps|mib)=\d+$/.test(a)) {
    console.error(`benchmarks/cli.js: unknown or malformed argument: ${a}`);
    process.exit(2);
  }
}
const SIZE_MIB = flag('mib', quick ? 8 : 200);
const REPS = flag('reps', quick ? 1 : 3);
const LEVEL = 6;
const CLI = path.join(__dirname, '..', 'dist', 'cjs', 'cli', 'main.js');

function has(tool) {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

const TOOLS = [
  { name: 'uaccel', cmd: process.execPath, pre: [CLI, 'gzip'] },
  { name: 'pigz', cmd: 'pigz', pre: [] },
  { name: 'gzip', cmd: 'gzip', pre: [] },
].filter((t) => (t.name === 'uaccel' ? fs.existsSync(CLI) : has(t.cmd)));

if (!TOOLS.some((t) => t.name === 'uaccel')) {
  console.error(`benchmarks/cli.js: ${CLI} is missing: run npm run build:ts first`);
  process.exit(1);
}
if (!TOOLS.some((t) => t.name === 'pigz'))
  console.error('benchmarks/cli.js: pigz is not installed: no ratio column');

/** Seeded English-like text (mulberry32 words), written in 1 MiB slices. */
function writeCorpus(file, mib) {
  const words = (
    'the of and to in is that for it as was with be by on not he this are or his from at which ' +
    'queue ring descriptor device buffer stream deflate inflate gzip window flush worker thread memory 0 1 2 3 ' +
    'pinned region batch latency throughput error 2026-11-24T17:00:00Z GET POST /api/v1/items 200 404 500'
  ).split(' ');
  let a = 0x5eed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const fd = fs.openSync(file, 'w');
  const slice = Buffer.allocUnsafe(MiB);
  for (let m = 0; m < mib; m++) {
    let at = 0;
    while (at < MiB) {
      const r = next();
      const sep = (r >>> 16) % 13 === 0 ? '\n' : ' ';
      at += slice.write(words[r % words.length] + sep, at, 'latin1');
    }
    fs.writeSync(fd, slice);
  }
  fs.closeSync(fd);
}

function time(tool, toolArgs) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(tool.cmd, [...tool.pre, ...toolArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${tool.name} ${toolArgs.join(' ')} exited ${code}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
}

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uaccel-bench-cli-'));
  const input = path.join(dir, 'corpus.txt');
  try {
    writeCorpus(input, SIZE_MIB);
    const bytes = fs.statSync(input).size;
    const original = fs.readFileSync(input);

    // Correctness first: every tool's output decompresses to the input.
    const sizes = {};
    for (const tool of TOOLS) {
      const r = spawnSync(tool.cmd, [...tool.pre, `-${LEVEL}`, '-c', input], { maxBuffer: 2 * bytes + MiB });
      if (r.status !== 0 || !zlib.gunzipSync(r.stdout).equals(original)) {
        console.error(`benchmarks/cli.js: ${tool.name} -${LEVEL} output does not decompress to the input`);
        process.exit(1);
      }
      sizes[tool.name] = r.stdout.length;
      if (tool.name === 'pigz') fs.writeFileSync(`${input}.gz`, r.stdout);
    }
    if (!fs.existsSync(`${input}.gz`))
      fs.writeFileSync(`${input}.gz`, zlib.gzipSync(original, { level: LEVEL }));

    const workloads = [
      { label: `gzip -${LEVEL} -c (${SIZE_MIB} MiB)`, args: [`-${LEVEL}`, '-c', input] },
      { label: `gzip -d -c`, args: ['-d', '-c', `${input}.gz`] },
    ];
    const rows = [];
    for (const w of workloads) {
      const samples = Object.fromEntries(TOOLS.map((t) => [t.name, []]));
      for (let rep = 0; rep < REPS; rep++) {
        for (const tool of TOOLS) samples[tool.name].push(await time(tool, w.args));
      }
      rows.push({
        label: w.label,
        mbps: Object.fromEntries(TOOLS.map((t) => [t.name, bytes / 1e6 / median(samples[t.name])])),
      });
    }

    const names = TOOLS.map((t) => t.name);
    const header = ['workload (MB/s of input)', ...names, 'uaccel/pigz'];
    const table = rows.map((r) => [
      r.label,
      ...names.map((n) => r.mbps[n].toFixed(1)),
      r.mbps.pigz ? `${(r.mbps.uaccel / r.mbps.pigz).toFixed(2)}x` : '-',
    ]);
    table.push([
      'compressed size (bytes)',
      ...names.map((n) => String(sizes[n])),
      sizes.pigz ? `${(sizes.uaccel / sizes.pigz).toFixed(3)}x` : '-',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    const line = (cells) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(
      `uaccel CLI vs pigz: ${SIZE_MIB} MiB text, level ${LEVEL}, median of ${REPS}, ${os.cpus().length} CPUs, node ${process.version}`,
    );
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of table) console.log(line(r));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
