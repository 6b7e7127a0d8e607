// uaccel/http compresses a body that is whole when res.end() runs (res.send,
// res.end(body), writes followed by end in the same tick) with one one-shot
// call; these check, against a real express server and node:zlib as the
// decoder, that such bodies arrive intact across sizes and threshold edges,
// that they did take the one-shot (their bytes are uaccel's whole-member
// gzip/deflate at the same level, not a stream's), and that bodies written
// across ticks still stream.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compression } from '../src/http/compression';
import * as uaccel from '../src/index';
import { KiB, text } from './helpers/corpus';
import { raw, serve, type Served } from './helpers/http-server';

const LEVEL = 4;
const DECODE: Record<string, (b: Buffer) => Buffer> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
};
/** What one whole-member one-shot of uaccel makes of a body. */
const ONE_SHOT: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => uaccel.gzipSync(b, { level: LEVEL }),
  deflate: (b) => uaccel.deflateSync(b, { level: LEVEL }),
};

const bodies = new Map<number, Buffer>();
function body(size: number): Buffer {
  let b = bodies.get(size);
  if (!b) bodies.set(size, (b = text(size, size)));
  return b;
}

let server: Served;
const writeCallbacks: string[] = [];
/** Callbacks of responses destroyed before their held body was written: [which, error code]. */
const abandoned: Array<[string, string | undefined]> = [];

beforeAll(async () => {
  server = await serve((app) => {
    app.use(compression({ level: LEVEL }));
    app.get('/end/:size', (req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(body(Number(req.params.size)));
    });
    app.get('/send-string/:size', (req, res) => {
      res.type('text/plain').send(body(Number(req.params.size)).toString('latin1'));
    });
    app.get('/write-end/:size', (req, res) => {
      const b = body(Number(req.params.size));
      res.type('text/plain');
      res.write(b.subarray(0, b.length >> 1), () => writeCallbacks.push(req.url));
      res.end(b.subarray(b.length >> 1));
    });
    app.get('/writes-then-end/:size', (req, res) => {
      const b = body(Number(req.params.size));
      res.type('text/plain');
      for (let at = 0; at < b.length; at += 4 * KiB) res.write(b.subarray(at, at + 4 * KiB));
      res.end();
    });
    app.get('/write-end-destroy/:size', (req, res) => {
      const b = body(Number(req.params.size));
      res.type('text/plain');
      res.write(b.subarray(0, b.length >> 1), (err) => abandoned.push(['write', err?.code]));
      res.end(b.subarray(b.length >> 1), (err?: NodeJS.ErrnoException | null) =>
        abandoned.push(['end', err?.code]),
      );
      res.destroy();
    });
    app.get('/write-later-end/:size', (req, res) => {
      const b = body(Number(req.params.size));
      res.type('text/plain');
      res.write(b.subarray(0, b.length >> 1));
      setImmediate(() => res.end(b.subarray(b.length >> 1)));
    });
  });
});
afterAll(() => server.close());

async function get(path: string, coding: string) {
  const r = await raw(`${server.url}${path}`, { 'Accept-Encoding': coding });
  expect(r.status).toBe(200);
  return r;
}

const SIZES = [1023, 1024, 1025, 16 * KiB, 64 * KiB + 1, 1024 * KiB];

describe('res.end(buffer), the whole body before the headers', () => {
  for (const coding of ['gzip', 'deflate']) {
    for (const size of SIZES) {
      it(`${coding}, ${size} bytes`, async () => {
        const r = await get(`/end/${size}`, coding);
        if (size < 1024) {
          // Below the default threshold: sent as is.
          expect(r.headers['content-encoding']).toBeUndefined();
          expect(r.body.equals(body(size))).toBe(true);
          return;
        }
        expect(r.headers['content-encoding']).toBe(coding);
        expect(r.headers['content-length']).toBeUndefined();
        expect(r.headers.vary).toBe('Accept-Encoding');
        expect(DECODE[coding](r.body).equals(body(size))).toBe(true);
        expect(r.body.equals(ONE_SHOT[coding](body(size)))).toBe(true);
      });
    }
  }

  it('br is compressed whole too and decodes', async () => {
    const r = await get(`/end/${64 * KiB}`, 'br');
    expect(r.headers['content-encoding']).toBe('br');
    expect(DECODE.br(r.body).equals(body(64 * KiB))).toBe(true);
  });

  it('a body larger than one descriptor takes the stream path and still arrives whole', async () => {
    const size = 9 * 1024 * KiB;
    const r = await get(`/end/${size}`, 'gzip');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(r.body).equals(body(size))).toBe(true);
  });
});

describe('res.send(string)', () => {
  for (const coding of ['gzip', 'deflate']) {
    for (const size of [1023, 1024, 64 * KiB]) {
      it(`${coding}, ${size} bytes`, async () => {
        const r = await get(`/send-string/${size}`, coding);
        if (size < 1024) {
          expect(r.headers['content-encoding']).toBeUndefined();
          expect(r.body.equals(body(size))).toBe(true);
          return;
        }
        expect(r.headers['content-encoding']).toBe(coding);
        expect(r.body.equals(ONE_SHOT[coding](body(size)))).toBe(true);
        expect(DECODE[coding](r.body).equals(body(size))).toBe(true);
      });
    }
  }
});

describe('writes followed by end() in the same tick', () => {
  for (const coding of ['gzip', 'deflate']) {
    // The length is unknown when the headers go out, so even a small body
    // is compressed, as the `compression` package does.
    for (const size of [10, 1024, 64 * KiB]) {
      it(`res.write + res.end, ${coding}, ${size} bytes: one member, write callback called`, async () => {
        const path = `/write-end/${size}?${coding}`;
        const r = await get(path, coding);
        expect(r.headers['content-encoding']).toBe(coding);
        expect(r.body.equals(ONE_SHOT[coding](body(size)))).toBe(true);
        expect(writeCallbacks).toContain(path);
      });
    }
  }

  it('many small writes then end()', async () => {
    const size = 256 * KiB;
    const r = await get(`/writes-then-end/${size}`, 'gzip');
    expect(r.body.equals(ONE_SHOT.gzip(body(size)))).toBe(true);
  });

  it('a write answered later is streamed, and decodes', async () => {
    const size = 64 * KiB;
    const r = await get(`/write-later-end/${size}`, 'gzip');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(r.body).equals(body(size))).toBe(true);
  });
});

describe('plain node:http', () => {
  it('writeHead(status, headers) then end(body) is one member too', async () => {
    const size = 64 * KiB;
    const mw = compression({ level: LEVEL });
    const server = createServer((req, res) =>
      mw(req, res, () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(body(size));
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await raw(`http://127.0.0.1:${port}/`, { 'Accept-Encoding': 'deflate' });
      expect(r.headers['content-encoding']).toBe('deflate');
      expect(r.body.equals(ONE_SHOT.deflate(body(size)))).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('under load', () => {
  it('concurrent responses of mixed sizes and codings each get their own body', async () => {
    const cases = Array.from({ length: 48 }, (_, i) => ({
      size: [1024, 3000, 64 * KiB, 300 * KiB][i % 4],
      coding: i % 3 === 0 ? 'deflate' : 'gzip',
      route: ['end', 'send-string', 'write-end'][i % 3],
    }));
    const results = await Promise.all(cases.map((c) => get(`/${c.route}/${c.size}`, c.coding)));
    results.forEach((r, i) => {
      expect(r.headers['content-encoding']).toBe(cases[i].coding);
      expect(DECODE[cases[i].coding](r.body).equals(body(cases[i].size))).toBe(true);
    });
  });

  it('a response destroyed before its held body is written still calls back its write and end, with the error node gives', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/write-end-destroy/${16 * KiB}`, {
        headers: { 'Accept-Encoding': 'gzip' },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
    });
    for (let i = 0; i < 100 && abandoned.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(abandoned).toEqual([
      ['write', 'ERR_STREAM_DESTROYED'],
      ['end', 'ERR_STREAM_DESTROYED'],
    ]);
  });

  it('a client that leaves while its body is being compressed does not disturb the server', async () => {
    const size = 4 * 1024 * KiB;
    body(size);
    await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<void>((resolve) => {
            const req = request(`${server.url}/end/${size}`, { headers: { 'Accept-Encoding': 'gzip' } });
            req.on('error', () => resolve());
            req.on('close', () => resolve());
            req.end(() => setTimeout(() => req.destroy(), 1));
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    const r = await get(`/end/${64 * KiB}`, 'gzip');
    expect(zlib.gunzipSync(r.body).equals(body(64 * KiB))).toBe(true);
  });
});
