// Request-body decompression against real express and fastify servers on
// loopback: gzip/deflate bodies reach the body parsers decoded (node:zlib
// compresses them), unknown codings get 415, corrupt bodies 400, and a body
// that decodes past the limit gets 413 without the server inflating it — a
// gzip bomb of 1 GiB of zeros stops at the limit.
import { createHash } from 'node:crypto';
import { request, type Server } from 'node:http';
import * as zlib from 'node:zlib';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { info } from '../src/index';
import { decompressRequest as fastifyDecompress } from '../src/http/fastify';
import { decompressRequest } from '../src/http/decompress-request';
import { KiB, text } from './helpers/corpus';
import { hasTool } from './helpers/cli';
import { curl, send, urlOf, type Reply } from './helpers/http-clients';

const LIMIT = 512 * KiB;
const MiB = 1024 * KiB;

interface Served {
  url: string;
  close(): Promise<void>;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A gzip member of 1 GiB of zeros, built with node:zlib's streaming API: about 1 MB. */
function gzipBomb(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = zlib.createGzip({ level: 9 });
    const out: Buffer[] = [];
    gzip.on('data', (c: Buffer) => out.push(c));
    gzip.on('end', () => resolve(Buffer.concat(out)));
    gzip.on('error', reject);
    const zeros = Buffer.alloc(MiB);
    let written = 0;
    const pump = (): void => {
      while (written < 1024) {
        written++;
        if (!gzip.write(zeros)) return void gzip.once('drain', pump);
      }
      gzip.end();
    };
    pump();
  });
}

async function expressServer(): Promise<Served> {
  const app = express();
  const report = (req: express.Request, res: express.Response, body: unknown): void => {
    res.json({
      body,
      encoding: req.headers['content-encoding'] ?? null,
      length: req.headers['content-length'] ?? null,
    });
  };
  // Body parsers allow more than the decoder, so the decoder's limit is what is tested.
  app.post('/json', decompressRequest({ limit: LIMIT }), express.json({ limit: '100mb' }), (req, res) =>
    report(req, res, req.body),
  );
  app.post(
    '/raw',
    decompressRequest({ limit: LIMIT }),
    express.raw({ type: '*/*', limit: '100mb' }),
    (req, res) => report(req, res, { length: (req.body as Buffer).length, sha: sha(req.body as Buffer) }),
  );
  // The body is complete and waiting in req's buffer when the decoder runs.
  app.post(
    '/late',
    (_req, _res, next) => setTimeout(next, 100),
    decompressRequest({ limit: LIMIT }),
    express.text({ type: '*/*', limit: '100mb' }),
    (req, res) => report(req, res, req.body),
  );
  app.use(
    (err: { status?: number; code?: string }, _req: express.Request, res: express.Response, _next: unknown) =>
      res.status(err.status ?? 500).json({ code: err.code }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: urlOf(server),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function fastifyServer(): Promise<Served> {
  const app: FastifyInstance = Fastify({ bodyLimit: 100 * MiB });
  app.addHook('preParsing', fastifyDecompress({ limit: LIMIT }));
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  const report = (req: { headers: Record<string, unknown> }, body: unknown) => ({
    body,
    encoding: req.headers['content-encoding'] ?? null,
    length: req.headers['content-length'] ?? null,
  });
  app.post('/json', async (req) => report(req, req.body));
  app.post('/raw', async (req) =>
    report(req, { length: (req.body as Buffer).length, sha: sha(req.body as Buffer) }),
  );
  // Without a limit of its own the hook takes the route's bodyLimit.
  app.post('/route-limit', { bodyLimit: 1000 }, async (req) => report(req, req.body));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: urlOf(app.server), close: () => app.close() };
}

let bomb: Buffer;
beforeAll(async () => {
  bomb = await gzipBomb();
});

const FRAMEWORKS: [string, () => Promise<Served>][] = [
  ['express', expressServer],
  ['fastify', fastifyServer],
];

describe.each(FRAMEWORKS)('%s', (name, start) => {
  let server: Served;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  const json = (body: Buffer, encoding?: string, path = '/json'): Promise<Reply> =>
    send(`${server.url}${path}`, body, {
      'Content-Type': 'application/json',
      ...(encoding === undefined ? {} : { 'Content-Encoding': encoding }),
    });
  const parsed = (r: Reply): { body: unknown; encoding: string | null; length: string | null } =>
    JSON.parse(r.body.toString());

  const DOC = { name: 'uaccel', items: Array.from({ length: 200 }, (_, i) => ({ i, text: `item ${i}` })) };
  const DOC_BYTES = Buffer.from(JSON.stringify(DOC));

  for (const [coding, encode] of [
    ['gzip', zlib.gzipSync],
    ['x-gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['GZIP', zlib.gzipSync],
  ] as const) {
    it(`a ${coding} JSON body is parsed decoded, through uaccel's device`, async () => {
      const before = info().counters.descriptors;
      const r = await json(encode(DOC_BYTES), coding);
      expect(r.status).toBe(200);
      const got = parsed(r);
      expect(got.body).toEqual(DOC);
      // The parser saw an unencoded body of the decoded length.
      expect(got.encoding).toBeNull();
      // express's parsers check the length they read against Content-Length;
      // fastify checks the encoded length itself.
      if (name === 'express') expect(got.length).toBe(String(DOC_BYTES.length));
      expect(info().counters.descriptors).toBeGreaterThan(before);
    });
  }

  it('identity and no Content-Encoding pass through untouched', async () => {
    const plain = await json(DOC_BYTES);
    expect(plain.status).toBe(200);
    expect(parsed(plain).body).toEqual(DOC);
    const identity = await json(DOC_BYTES, 'identity');
    expect(identity.status).toBe(200);
    expect(parsed(identity).body).toEqual(DOC);
  });

  it('an empty body with Content-Encoding: gzip is left to the parsers', async () => {
    const r = await send(`${server.url}/json`, Buffer.alloc(0), {
      'Content-Type': 'application/json',
      'Content-Encoding': 'gzip',
      'Content-Length': '0',
    });
    // Whatever the parser makes of it (both refuse an empty JSON body), the decoder did not answer.
    expect((parsed(r) as { code?: string }).code ?? '').not.toMatch(/^UACCEL_/);
  });

  for (const coding of ['br', 'compress', 'x-custom', 'gzip, deflate']) {
    it(`Content-Encoding: ${coding} -> 415`, async () => {
      const r = await json(zlib.gzipSync(DOC_BYTES), coding);
      expect(r.status).toBe(415);
      expect(parsed(r)).toMatchObject({ code: 'UACCEL_UNSUPPORTED_CONTENT_ENCODING' });
    });
  }

  it('a corrupt gzip body -> 400', async () => {
    const corrupt = zlib.gzipSync(DOC_BYTES);
    corrupt.fill(0xa5, 12, 40);
    const r = await json(corrupt, 'gzip');
    expect(r.status).toBe(400);
    expect(parsed(r)).toMatchObject({ code: 'UACCEL_INVALID_COMPRESSED_BODY' });
  });

  it('a truncated deflate body -> 400', async () => {
    const whole = zlib.deflateSync(DOC_BYTES);
    const r = await json(whole.subarray(0, whole.length - 20), 'deflate');
    expect(r.status).toBe(400);
    expect(parsed(r)).toMatchObject({ code: 'UACCEL_INVALID_COMPRESSED_BODY' });
  });

  it('a large body uploaded in many pieces arrives intact', async () => {
    const body = text(LIMIT, 71);
    const r = await send(
      `${server.url}/raw`,
      zlib.gzipSync(body),
      {
        'Content-Type': 'application/octet-stream',
        'Content-Encoding': 'gzip',
      },
      { pieces: 37 },
    );
    expect(r.status).toBe(200);
    expect(parsed(r).body).toEqual({ length: body.length, sha: sha(body) });
  });

  it('a body decoding to exactly the limit passes; one byte more -> 413', async () => {
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'deflate' };
    const at = await send(`${server.url}/raw`, zlib.deflateSync(Buffer.alloc(LIMIT, 7)), headers);
    expect(at.status).toBe(200);
    const over = await send(`${server.url}/raw`, zlib.deflateSync(Buffer.alloc(LIMIT + 1, 7)), headers);
    expect(over.status).toBe(413);
    expect(parsed(over)).toMatchObject({ code: 'UACCEL_BODY_TOO_LARGE' });
  });

  it('a gzip bomb (1 GiB of zeros) -> 413 quickly, inflating little past the limit', async () => {
    const before = info().counters.bytesOut;
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
    const started = Date.now();
    const r = await send(`${server.url}/raw`, bomb, {
      'Content-Type': 'application/octet-stream',
      'Content-Encoding': 'gzip',
    });
    const ms = Date.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(r.status).toBe(413);
    expect(parsed(r)).toMatchObject({ code: 'UACCEL_BODY_TOO_LARGE' });
    // Inflating the whole gigabyte takes seconds; stopping at the limit takes milliseconds.
    expect(ms).toBeLessThan(2000);
    // What the device decoded: the limit plus what was in flight when decoding stopped.
    expect(info().counters.bytesOut - before).toBeLessThan(LIMIT + 2 * MiB);
    expect(peak - rss0).toBeLessThan(LIMIT + 8 * MiB);
  });

  const noCurl = hasTool('curl') ? false : 'curl is not installed';
  it.skipIf(noCurl)(
    `curl --data-binary with Content-Encoding: gzip${noCurl ? ` (skipped: ${noCurl})` : ''}`,
    async () => {
      const out = await curl(
        [
          '-X',
          'POST',
          '--data-binary',
          '@-',
          '-H',
          'Content-Type: application/json',
          '-H',
          'Content-Encoding: gzip',
          `${server.url}/json`,
        ],
        zlib.gzipSync(DOC_BYTES),
      );
      expect(out.stderr).toBe('');
      expect(out.status).toBe(0);
      expect(JSON.parse(out.stdout.toString()).body).toEqual(DOC);
    },
  );
});

describe('express: a body already received when the decoder runs', () => {
  let server: Served;
  beforeAll(async () => {
    server = await expressServer();
  });
  afterAll(() => server.close());

  it('is decoded', async () => {
    const body = text(20 * KiB, 72);
    const r = await send(`${server.url}/late`, zlib.gzipSync(body), {
      'Content-Type': 'text/plain',
      'Content-Encoding': 'gzip',
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({
      body: body.toString(),
      encoding: null,
      length: String(body.length),
    });
  });

  it('part of it received: that part and the rest are decoded in order', async () => {
    const body = text(200 * KiB, 74);
    const gz = zlib.gzipSync(body);
    const r = await new Promise<Reply>((resolve, reject) => {
      const req = request(
        `${server.url}/late`,
        { method: 'POST', headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      // The first half waits in req's buffer while the route's first middleware sleeps.
      req.write(gz.subarray(0, gz.length >> 1));
      setTimeout(() => req.end(gz.subarray(gz.length >> 1)), 300);
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).body).toBe(body.toString());
  });

  it('past the limit -> 413, corrupt -> 400', async () => {
    const big = await send(`${server.url}/late`, zlib.gzipSync(Buffer.alloc(4 * MiB)), {
      'Content-Encoding': 'gzip',
    });
    expect(big.status).toBe(413);
    const corrupt = zlib.gzipSync(text(4 * KiB, 73));
    corrupt.fill(0, 10, 30);
    expect((await send(`${server.url}/late`, corrupt, { 'Content-Encoding': 'gzip' })).status).toBe(400);
  });
});

describe('fastify: the limit defaults to the route bodyLimit', () => {
  let server: Served;
  beforeAll(async () => {
    const app = Fastify();
    app.addHook('preParsing', fastifyDecompress());
    app.post('/', { bodyLimit: 1000 }, async (req) => ({ length: JSON.stringify(req.body).length }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = { url: urlOf(app.server), close: () => app.close() };
  });
  afterAll(() => server.close());

  it('a small body passes, a larger one -> 413', async () => {
    const headers = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
    const small = await send(server.url, zlib.gzipSync(JSON.stringify({ a: 'x'.repeat(900) })), headers);
    expect(small.status).toBe(200);
    const large = await send(server.url, zlib.gzipSync(JSON.stringify({ a: 'x'.repeat(1000) })), headers);
    expect(large.status).toBe(413);
    expect(JSON.parse(large.body.toString())).toMatchObject({ code: 'UACCEL_BODY_TOO_LARGE' });
  });
});

describe('options', () => {
  for (const [name, factory] of [
    ['express', decompressRequest],
    ['fastify', fastifyDecompress],
  ] as const) {
    it(`${name}: limit is validated with node's error shapes`, () => {
      expect(() => factory({ limit: 'lots' })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => factory({ limit: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => factory({ limit: Infinity })).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
      expect(() => factory({ limit: {} as never })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARG_TYPE',
          message: expect.stringMatching(/options\.limit/),
        }),
      );
      expect(() => factory('1mb' as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
      expect(() => factory({ limit: '2kb' })).not.toThrow();
    });
  }
});
