// uaccel/koa on a real koa server with real clients: string, Buffer, stream
// and JSON bodies compressed on uaccel's device and decoded by node:zlib,
// negotiation, the responses left alone, and client aborts.
import { request } from 'node:http';
import type { Server } from 'node:http';
import { Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Gzip, info } from '../src/index';
import { compress } from '../src/http/koa';
import { runScriptSync } from './helpers/child';
import { KiB, text } from './helpers/corpus';
import { hasTool } from './helpers/cli';
import { curl, send, urlOf, type Reply } from './helpers/http-clients';

const BODY = text(64 * KiB, 91);
const DOC = { items: Array.from({ length: 2000 }, (_, i) => ({ i, name: `item ${i}` })) };
const DECODE: Record<string, (b: Buffer) => Buffer> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
};

interface Served {
  url: string;
  close(): Promise<void>;
}

/** Errors koa reported (it would print them); a client abort is one such. */
const appErrors: { code?: string }[] = [];

async function serve(configure: (app: Koa) => void): Promise<Served> {
  const app = new Koa();
  app.on('error', (err: { code?: string }) => appErrors.push(err));
  configure(app);
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

const get = (url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> =>
  send(url, Buffer.alloc(0), headers, { method });

/** The compressor a response was given, for the abort test. */
let lastBody: unknown;
let server: Served;

beforeAll(async () => {
  server = await serve((app) => {
    app.use(async (ctx, next) => {
      await next();
      lastBody = ctx.body;
    });
    app.use(compress());
    app.use(async (ctx) => {
      switch (ctx.path) {
        case '/text':
          ctx.type = 'text/plain';
          ctx.body = BODY.toString();
          break;
        case '/buffer':
          ctx.type = 'text/plain';
          ctx.body = BODY;
          break;
        case '/stream': {
          const pieces = [];
          for (let at = 0; at < BODY.length; at += 5000) pieces.push(BODY.subarray(at, at + 5000));
          ctx.type = 'text/plain';
          ctx.body = Readable.from(pieces);
          break;
        }
        case '/json':
          ctx.body = DOC;
          break;
        case '/small':
          ctx.type = 'text/plain';
          ctx.body = 'tiny';
          break;
        case '/png':
          ctx.type = 'image/png';
          ctx.body = BODY;
          break;
        case '/etag':
          ctx.type = 'text/plain';
          ctx.set('ETag', '"v1"');
          ctx.body = BODY;
          break;
        case '/no-transform':
          ctx.type = 'text/plain';
          ctx.set('Cache-Control', 'no-transform');
          ctx.body = BODY;
          break;
        case '/encoded':
          ctx.type = 'text/plain';
          ctx.set('Content-Encoding', 'x-custom');
          ctx.body = BODY;
          break;
        case '/empty':
          ctx.status = 204;
          break;
        case '/forever': {
          const piece = text(16 * KiB, 92);
          ctx.type = 'text/plain';
          ctx.body = new Readable({
            read() {
              this.push(piece);
            },
          });
          break;
        }
      }
    });
  });
});
afterAll(() => server.close());

describe('bodies', () => {
  const EXPECTED: Record<string, Buffer> = {
    '/text': BODY,
    '/buffer': BODY,
    '/stream': BODY,
    '/json': Buffer.from(JSON.stringify(DOC)),
  };
  for (const path of Object.keys(EXPECTED)) {
    for (const coding of ['gzip', 'deflate']) {
      it(`${path} ${coding}: compressed on uaccel's device, decodes with node:zlib`, async () => {
        const before = info().counters;
        const r = await get(`${server.url}${path}`, { 'Accept-Encoding': coding });
        const after = info().counters;
        expect(r.status).toBe(200);
        expect(r.headers['content-encoding']).toBe(coding);
        expect(r.headers['content-length']).toBeUndefined();
        expect(r.headers.vary).toMatch(/Accept-Encoding/);
        expect(DECODE[coding](r.body).equals(EXPECTED[path])).toBe(true);
        expect(r.body.length).toBeLessThan(EXPECTED[path].length / 2);
        expect(after.descriptors).toBeGreaterThan(before.descriptors);
        expect(after.bytesIn - before.bytesIn).toBeGreaterThanOrEqual(EXPECTED[path].length);
      });
    }
  }
});

describe('Accept-Encoding negotiation', () => {
  const CASES: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['gzip, deflate, br', 'br'],
    ['gzip;q=0.5, deflate', 'deflate'],
    ['br;q=0.1, gzip;q=0.9', 'gzip'],
    ['identity', undefined],
    ['gzip;q=0', undefined],
  ];
  for (const [accept, expected] of CASES) {
    it(`${accept === undefined ? '(no header)' : JSON.stringify(accept)} -> ${expected ?? 'identity'}`, async () => {
      const r = await get(`${server.url}/text`, accept === undefined ? {} : { 'Accept-Encoding': accept });
      expect(r.headers['content-encoding']).toBe(expected);
      expect((expected ? DECODE[expected](r.body) : r.body).equals(BODY)).toBe(true);
    });
  }
});

describe('responses left alone', () => {
  for (const [name, path] of [
    ['below the threshold', '/small'],
    ['a type the filter rejects', '/png'],
    ['Cache-Control: no-transform', '/no-transform'],
    ['already encoded', '/encoded'],
  ]) {
    it(name, async () => {
      const r = await get(`${server.url}${path}`, { 'Accept-Encoding': 'gzip' });
      expect(r.headers['content-encoding'] ?? 'identity').not.toBe('gzip');
      expect(r.headers['content-length']).toBe(String(r.body.length));
    });
  }

  it('HEAD: no body, no encoding, but Vary', async () => {
    const r = await get(`${server.url}/text`, { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toMatch(/Accept-Encoding/);
    expect(r.body.length).toBe(0);
  });

  it('204: no encoding', async () => {
    const r = await get(`${server.url}/empty`, { 'Accept-Encoding': 'gzip' });
    expect(r.status).toBe(204);
    expect(r.headers['content-encoding']).toBeUndefined();
  });

  it('a strong ETag becomes weak when compressed', async () => {
    expect((await get(`${server.url}/etag`, { 'Accept-Encoding': 'gzip' })).headers.etag).toBe('W/"v1"');
    expect((await get(`${server.url}/etag`)).headers.etag).toBe('"v1"');
  });
});

describe('real clients', () => {
  it('fetch (undici) decodes what it negotiated', async () => {
    const res = await fetch(`${server.url}/stream`);
    expect(res.headers.get('content-encoding')).toMatch(/^(gzip|deflate|br)$/);
    expect(Buffer.from(await res.arrayBuffer()).equals(BODY)).toBe(true);
  });

  const noCurl = hasTool('curl') ? false : 'curl is not installed';
  it.skipIf(noCurl)(`curl --compressed${noCurl ? ` (skipped: ${noCurl})` : ''}`, async () => {
    for (const coding of ['gzip', 'deflate']) {
      const out = await curl(['--compressed', '-H', `Accept-Encoding: ${coding}`, `${server.url}/json`]);
      expect(out.stderr).toBe('');
      expect(out.status).toBe(0);
      expect(JSON.parse(out.stdout.toString())).toEqual(DOC);
    }
  });
});

describe('client aborts', () => {
  it('a client that goes away destroys the compressor; the server keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/forever`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end();
    });
    const compressor = lastBody as Transform;
    await new Promise((r) => setTimeout(r, 300));
    expect(compressor).toBeInstanceOf(Gzip);
    expect(compressor.destroyed).toBe(true);
    expect(appErrors.map((e) => e.code)).toEqual(['ERR_STREAM_PREMATURE_CLOSE']);
    expect((await get(`${server.url}/text`, { 'Accept-Encoding': 'gzip' })).status).toBe(200);
  });
});

describe('options', () => {
  it('threshold, level and filter are honoured', async () => {
    const s = await serve((app) => {
      app.use(compress({ threshold: '100kb', level: 1 }));
      app.use((ctx) => {
        ctx.type = 'text/plain';
        ctx.body = BODY;
      });
    });
    const t = await serve((app) => {
      app.use(compress({ threshold: 0, level: 1, filter: (req) => req.headers['x-compress'] === 'yes' }));
      app.use((ctx) => {
        ctx.type = 'application/octet-stream';
        ctx.body = BODY;
      });
    });
    try {
      expect((await get(s.url, { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
      const fast = await get(t.url, { 'Accept-Encoding': 'gzip', 'X-Compress': 'yes' });
      expect(fast.headers['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(fast.body).equals(BODY)).toBe(true);
      // Level 1 gives up ratio for speed: more bytes than the default level.
      const normal = await get(`${server.url}/buffer`, { 'Accept-Encoding': 'gzip' });
      expect(fast.body.length).toBeGreaterThan(normal.body.length);
      expect((await get(t.url, { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
    } finally {
      await s.close();
      await t.close();
    }
  });

  it('bad options throw node-shaped errors at construction', () => {
    expect(() => compress({ filter: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => compress({ threshold: 'lots' })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => compress({ level: 42 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('package entry points', () => {
  it("require('uaccel/koa'), require('uaccel/fastify') and uaccel/http's decompressRequest", () => {
    const r = runScriptSync(`
      const koa = require('uaccel/koa');
      const fastify = require('uaccel/fastify');
      const http = require('uaccel/http');
      console.log(JSON.stringify([
        typeof koa.compress, koa.compress().length,
        typeof fastify.decompressRequest, fastify.decompressRequest().length,
        typeof http, typeof http.decompressRequest, http.decompressRequest().length,
      ]));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['function', 2, 'function', 4, 'function', 'function', 3]);
  });

  it('ESM: named imports from uaccel/koa and uaccel/fastify', () => {
    const r = runScriptSync(`
      Promise.all([import('uaccel/koa'), import('uaccel/fastify')]).then(([koa, fastify]) =>
        console.log(typeof koa.compress, typeof fastify.decompressRequest));
    `);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function');
  });
});
