// @fastify/compress with `{ zlib: uaccel }` on a real fastify server and real
// clients: gzip and deflate responses for strings, Buffers, streams and
// serialized objects come from uaccel (device counters grow, or libdeflate's
// bytes on the one-shot path) and decode with node:zlib; request bodies are
// decoded by uaccel too, alone or next to uaccel/fastify's limited decoder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import fastifyCompress from '@fastify/compress';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { decompressRequest } from '../src/http/fastify';
import { KiB, text } from './helpers/corpus';
import { hasTool, scratch } from './helpers/cli';
import { curl, send, urlOf } from './helpers/http-clients';

const BODY = text(64 * KiB, 81);
/** Small enough for @fastify/compress's one-shot path (gzipSync) on any host. */
const SMALL = text(3 * KiB, 82);
const DOC = { items: Array.from({ length: 2000 }, (_, i) => ({ i, name: `item ${i}` })) };
const DECODE: Record<string, (b: Buffer) => Buffer> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
};

let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify();
  // The one line this file is about.
  await app.register(fastifyCompress, { zlib: uaccel });
  app.get('/string', (_req, reply) => reply.type('text/plain').send(BODY.toString()));
  app.get('/buffer', (_req, reply) => reply.type('text/plain').send(BODY));
  app.get('/stream', (_req, reply) => {
    const pieces = [];
    for (let at = 0; at < BODY.length; at += 5000) pieces.push(BODY.subarray(at, at + 5000));
    return reply.type('text/plain').send(Readable.from(pieces));
  });
  app.get('/object', async () => DOC);
  app.get('/small', (_req, reply) => reply.type('text/plain').send(SMALL));
  app.post('/echo', async (req) => req.body);
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = urlOf(app.server);
});
afterAll(() => app.close());

const get = (path: string, accept: string) =>
  send(`${url}${path}`, Buffer.alloc(0), { 'Accept-Encoding': accept }, { method: 'GET' });

describe('responses through @fastify/compress with zlib: uaccel', () => {
  const EXPECTED: Record<string, Buffer> = {
    '/string': BODY,
    '/buffer': BODY,
    '/stream': BODY,
    '/object': Buffer.from(JSON.stringify(DOC)),
  };
  for (const path of Object.keys(EXPECTED)) {
    for (const coding of ['gzip', 'deflate']) {
      it(`${path} ${coding}: compressed on uaccel's device, decodes with node:zlib`, async () => {
        const before = uaccel.info().counters;
        const r = await get(path, coding);
        const after = uaccel.info().counters;
        expect(r.status).toBe(200);
        expect(r.headers['content-encoding']).toBe(coding);
        expect(r.headers.vary).toMatch(/accept-encoding/i);
        expect(DECODE[coding](r.body).equals(EXPECTED[path])).toBe(true);
        expect(r.body.length).toBeLessThan(EXPECTED[path].length / 2);
        expect(after.descriptors).toBeGreaterThan(before.descriptors);
        expect(after.bytesIn - before.bytesIn).toBeGreaterThanOrEqual(EXPECTED[path].length);
      });
    }
  }

  for (const [coding, ours, nodes] of [
    ['gzip', uaccel.gzipSync, zlib.gzipSync],
    ['deflate', uaccel.deflateSync, zlib.deflateSync],
  ] as const) {
    it(`a small body takes the one-shot path: uaccel's ${coding}Sync bytes, not node's`, async () => {
      const r = await get('/small', coding);
      expect(r.headers['content-encoding']).toBe(coding);
      expect(r.headers['content-length']).toBe(String(r.body.length));
      expect(DECODE[coding](r.body).equals(SMALL)).toBe(true);
      expect(r.body.equals(ours(SMALL))).toBe(true);
      expect(r.body.equals(nodes(SMALL))).toBe(false);
    });
  }

  it('br still works (node:zlib brotli, which uaccel re-exports)', async () => {
    const r = await get('/string', 'br');
    expect(r.headers['content-encoding']).toBe('br');
    expect(DECODE.br(r.body).equals(BODY)).toBe(true);
  });

  it('no Accept-Encoding: identity', async () => {
    const r = await send(`${url}/string`, Buffer.alloc(0), {}, { method: 'GET' });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body.equals(BODY)).toBe(true);
  });
});

describe('real clients', () => {
  it('fetch (undici) decodes what it negotiated', async () => {
    for (const path of ['/string', '/stream', '/object']) {
      const res = await fetch(`${url}${path}`);
      expect(res.headers.get('content-encoding')).toMatch(/^(gzip|deflate|br)$/);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(path === '/object' ? Buffer.from(JSON.stringify(DOC)) : BODY)).toBe(true);
    }
  });

  const noCurl = hasTool('curl') ? false : 'curl is not installed';
  it.skipIf(noCurl)(`curl --compressed${noCurl ? ` (skipped: ${noCurl})` : ''}`, async () => {
    const { dir, cleanup } = scratch();
    try {
      for (const coding of ['gzip', 'deflate']) {
        const file = join(dir, coding);
        const before = uaccel.info().counters.descriptors;
        const out = await curl([
          '--compressed',
          '-H',
          `Accept-Encoding: ${coding}`,
          '-o',
          file,
          '-w',
          '%header{content-encoding}',
          `${url}/stream`,
        ]);
        expect(out.stderr).toBe('');
        expect(out.status).toBe(0);
        expect(out.stdout.toString()).toBe(coding);
        expect(readFileSync(file).equals(BODY)).toBe(true);
        expect(uaccel.info().counters.descriptors).toBeGreaterThan(before);
      }
    } finally {
      cleanup();
    }
  });
});

describe('request bodies', () => {
  const JSON_BODY = Buffer.from(JSON.stringify(DOC));

  it("@fastify/compress's own request decoding runs on uaccel", async () => {
    for (const [coding, encode] of [
      ['gzip', zlib.gzipSync],
      ['deflate', zlib.deflateSync],
    ] as const) {
      const before = uaccel.info().counters.descriptors;
      const r = await send(`${url}/echo`, encode(JSON_BODY), {
        'Content-Type': 'application/json',
        'Content-Encoding': coding,
      });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString())).toEqual(DOC);
      expect(uaccel.info().counters.descriptors).toBeGreaterThan(before);
    }
  });

  it("uaccel/fastify's decoder next to @fastify/compress: decoded once, limit enforced", async () => {
    const both = Fastify();
    both.addHook('preParsing', decompressRequest({ limit: JSON_BODY.length }));
    await both.register(fastifyCompress, { zlib: uaccel });
    both.post('/echo', async (req) => req.body);
    await both.listen({ port: 0, host: '127.0.0.1' });
    try {
      const headers = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
      const ok = await send(`${urlOf(both.server)}/echo`, zlib.gzipSync(JSON_BODY), headers);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body.toString())).toEqual(DOC);
      const bigger = Buffer.from(JSON.stringify({ ...DOC, more: 1 }));
      const over = await send(`${urlOf(both.server)}/echo`, zlib.gzipSync(bigger), headers);
      expect(over.status).toBe(413);
      expect(JSON.parse(over.body.toString())).toMatchObject({ code: 'UACCEL_BODY_TOO_LARGE' });
    } finally {
      await both.close();
    }
  });
});
