'use strict';
// Raw codec throughput of the software device's stateless opcodes, against
// node:zlib compressing the same corpus serially: history-primed 128 KiB
// blocks (zlib or ISA-L by level) spread over the workers, whole members by
// libdeflate, and one-shot inflation. This is the data behind the codec
// policy; it drives the descriptor queue directly.
//
//   node benchmarks/codecs.js [--quick]
const zlib = require('zlib');
const path = require('path');

const dist = path.join(__dirname, '..', 'dist', 'cjs');
const { binding } = require(path.join(dist, 'native', 'binding.js'));
const { DescriptorQueue } = require(path.join(dist, 'ring', 'queue.js'));

const quick = process.argv.includes('--quick');
const SIZE = quick ? 4 << 20 : 32 << 20;
const BLOCK = 128 << 10;
const HISTORY = 32 << 10;
const LEVELS = [1, 2, 3, 6, 9];

function corpus(size) {
  const words =
    'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(
      ' ',
    );
  let x = 12345;
  const parts = [];
  let n = 0;
  while (n < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const w =
      x % 9 === 0
        ? `{"id":${x % 100000},"ok":${x % 2 === 0},"user":"${words[x % words.length]}"}\n`
        : `${words[(x >> 7) % words.length]} `;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

const input = corpus(SIZE);
const abi = binding.abi;
const arg = (level, format, noIsal) => (level + 1) | (format << 8) | ((noIsal ? 1 : 0) << 13);

function run(queue, d) {
  return new Promise((resolve) => queue.enqueue({ ...d, done: resolve }));
}

async function blocks(queue, level, noIsal) {
  const jobs = [];
  const outs = [];
  for (let at = 0; at < input.length; at += BLOCK) {
    const len = Math.min(BLOCK, input.length - at);
    const h = Math.max(0, at - HISTORY);
    const dst = Buffer.allocUnsafe(len + (len >> 3) + 1024);
    outs.push(dst);
    jobs.push(
      run(queue, {
        op: abi.op.DEFLATE_BLOCK,
        flush: 0,
        ctx: 0,
        src: input,
        srcOff: at,
        srcLen: len,
        dst,
        dstOff: 0,
        dstLen: dst.length,
        arg: arg(level, 0, noIsal),
        flags: (at === 0 ? abi.flag.FIRST : 0) | (at + BLOCK >= input.length ? abi.flag.LAST : 0),
        hist: input,
        histOff: h,
        histLen: at - h,
      }),
    );
  }
  const done = await Promise.all(jobs);
  if (done.some((c) => c.status !== 0)) throw new Error('block failed');
  return Buffer.concat(done.map((c, i) => outs[i].subarray(0, c.produced)));
}

async function members(queue, level, size) {
  const jobs = [];
  for (let at = 0; at < input.length; at += size) {
    const len = Math.min(size, input.length - at);
    const dst = Buffer.allocUnsafe(len + (len >> 3) + 1024);
    jobs.push(
      run(queue, {
        op: abi.op.DEFLATE_BLOCK,
        flush: 0,
        ctx: 0,
        src: input,
        srcOff: at,
        srcLen: len,
        dst,
        dstOff: 0,
        dstLen: dst.length,
        arg: arg(level, 2, false),
        flags: abi.flag.FIRST | abi.flag.LAST,
      }).then((c) => c.produced),
    );
  }
  return (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
}

function mbps(bytes, ms) {
  return (bytes / (1 << 20) / (ms / 1000)).toFixed(0);
}

async function time(fn) {
  const t = process.hrtime.bigint();
  const r = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
}

(async () => {
  const queue = new DescriptorQueue(binding, {
    sva: true,
    queueDepth: 256,
    workers: require('os').availableParallelism(),
    pinnedBytes: 4 << 20,
    device: '',
  });
  const rows = [];
  for (const level of LEVELS) {
    const node = await time(() => zlib.deflateRawSync(input, { level }));
    const viaZlib = await time(() => blocks(queue, level, true));
    if (!zlib.inflateRawSync(viaZlib.r).equals(input)) throw new Error('zlib blocks do not round-trip');
    const row = {
      level,
      'node MB/s': mbps(SIZE, node.ms),
      'zlib blocks MB/s': mbps(SIZE, viaZlib.ms),
      'zlib size': (viaZlib.r.length / node.r.length).toFixed(3),
    };
    if (binding.codecs.isal && level === 1) {
      const viaIsal = await time(() => blocks(queue, level, false));
      if (!zlib.inflateRawSync(viaIsal.r).equals(input)) throw new Error('ISA-L blocks do not round-trip');
      row['isal blocks MB/s'] = mbps(SIZE, viaIsal.ms);
      row['isal size'] = (viaIsal.r.length / node.r.length).toFixed(3);
    }
    const lib = await time(() => members(queue, level, 1 << 20));
    row['libdeflate 1MiB members MB/s'] = mbps(SIZE, lib.ms);
    row['libdeflate size'] = (lib.r / node.r.length).toFixed(3);
    rows.push(row);
  }
  console.log(
    `corpus ${SIZE >> 20} MiB, ${require('os').availableParallelism()} workers, codecs: ${Object.values(binding.codecs).filter(Boolean).join(', ')}`,
  );
  console.table(rows);
  queue.close();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
