// uaccel/http against a real express server and real clients: negotiation,
// the cases that must not be compressed, headers, flush, backpressure and
// client aborts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compression } from '../src/http/compression';
import * as uaccel from '../src/index';
import { KiB, text } from './helpers/corpus';
import { hasTool, scratch } from './helpers/cli';
import { raw, serve, type Served } from './helpers/http-server';

const BODY = text(64 * KiB, 51);
const DECODE: Record<string, (b: Buffer) => Buffer> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
};

let server: Served;
const events: string[] = [];

beforeAll(async () => {
  server = await serve((app) => {
    app.use(compression());
    app.get('/text', (_req, res) => res.type('text/plain').send(BODY));
    app.get('/small', (_req, res) => res.type('text/plain').send('tiny'));
    app.get('/png', (_req, res) => res.type('image/png').send(BODY));
    app.get('/etag', (_req, res) => res.type('text/plain').set('ETag', '"v1"').send(BODY));
    app.get('/no-transform', (_req, res) =>
      res.type('text/plain').set('Cache-Control', 'no-transform').send(BODY),
    );
    app.get('/encoded', (_req, res) => res.type('text/plain').set('Content-Encoding', 'x-custom').send(BODY));
    app.get('/empty', (_req, res) => res.status(204).end());
    app.get('/not-modified', (_req, res) => res.status(304).type('text/plain').end());
    app.get('/stream', (_req, res) => {
      res.type('text/plain');
      let sent = 0;
      let sawBackpressure = false;
      const piece = text(16 * KiB, 52);
      const pump = () => {
        while (sent < 4 * 1024 * KiB) {
          sent += piece.length;
          if (!res.write(piece)) {
            sawBackpressure = true;
            res.once('drain', pump);
            return;
          }
        }
        events.push(`stream backpressure=${sawBackpressure}`);
        res.end();
      };
      pump();
    });
    app.get('/flush', (req, res) => {
      res.type('text/event-stream');
      res.write('data: first\n\n');
      (res as unknown as { flush(): void }).flush();
      // The rest is sent only once the client proves it received the first event.
      req.socket.once('data', () => {});
      setTimeout(() => res.end('data: last\n\n'), 300);
    });
    app.get('/forever', (_req, res) => {
      res.type('text/plain');
      const piece = text(16 * KiB, 53);
      let writes = 0;
      // A 'drain' listener runs with the emitter as `this`: the compressor.
      let compressor: { destroyed: boolean } | undefined;
      const pump = function (this: unknown) {
        if (this !== undefined && this !== res) compressor = this as { destroyed: boolean };
        while (!res.destroyed) {
          writes++;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
      };
      res.on('close', () =>
        setImmediate(() =>
          events.push(`forever closed after ${writes} writes, compressor destroyed=${compressor?.destroyed}`),
        ),
      );
      pump.call(undefined);
    });
  });
});
afterAll(() => server.close());

describe('Accept-Encoding negotiation', () => {
  const CASES: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['gzip', 'gzip'],
    ['deflate', 'deflate'],
    ['br', 'br'],
    ['gzip, deflate', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['gzip;q=0.5, deflate', 'deflate'],
    ['br;q=0.1, gzip;q=0.9', 'gzip'],
    ['GZIP', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['identity', undefined],
    ['gzip;q=0', undefined],
    ['compress, x-unknown', undefined],
  ];
  for (const [accept, expected] of CASES) {
    it(`${accept === undefined ? '(no header)' : JSON.stringify(accept)} -> ${expected ?? 'identity'}`, async () => {
      const r = await raw(`${server.url}/text`, accept === undefined ? {} : { 'Accept-Encoding': accept });
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBe(expected);
      expect(r.headers.vary).toMatch(/Accept-Encoding/);
      const body = expected ? DECODE[expected](r.body) : r.body;
      expect(body.equals(BODY)).toBe(true);
      if (expected) {
        expect(r.headers['content-length']).toBeUndefined();
        expect(r.body.length).toBeLessThan(BODY.length / 2);
      }
    });
  }

  it("a whole body is compressed as uaccel's one-shot gzip does it at the same level", async () => {
    const r = await raw(`${server.url}/text`, { 'Accept-Encoding': 'gzip' });
    expect(r.body.equals(uaccel.gzipSync(BODY))).toBe(true);
  });
});

describe('responses left alone', () => {
  const CASES: [string, string, Record<string, string>][] = [
    ['below the threshold', '/small', {}],
    ['a type the filter rejects', '/png', {}],
    ['Cache-Control: no-transform', '/no-transform', {}],
    ['already encoded', '/encoded', {}],
  ];
  for (const [name, path] of CASES) {
    it(name, async () => {
      const r = await raw(`${server.url}${path}`, { 'Accept-Encoding': 'gzip' });
      expect(r.headers['content-encoding'] ?? 'identity').not.toBe('gzip');
      expect(r.headers['content-length']).toBe(String(r.body.length));
    });
  }

  it('HEAD: no body, no encoding, but Vary', async () => {
    const r = await raw(`${server.url}/text`, { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toMatch(/Accept-Encoding/);
    expect(r.body.length).toBe(0);
  });

  for (const [status, path] of [
    [204, '/empty'],
    [304, '/not-modified'],
  ] as const) {
    it(`${status}: no encoding`, async () => {
      const r = await raw(`${server.url}${path}`, { 'Accept-Encoding': 'gzip' });
      expect(r.status).toBe(status);
      expect(r.headers['content-encoding']).toBeUndefined();
    });
  }
});

describe('headers of a compressed response', () => {
  it('a strong ETag becomes weak', async () => {
    expect((await raw(`${server.url}/etag`, { 'Accept-Encoding': 'gzip' })).headers.etag).toBe('W/"v1"');
    expect((await raw(`${server.url}/etag`)).headers.etag).toBe('"v1"');
  });
});

describe('real clients', () => {
  it('fetch (undici) decodes what it negotiated', async () => {
    const res = await fetch(`${server.url}/text`);
    expect(res.headers.get('content-encoding')).toMatch(/^(gzip|deflate|br)$/);
    expect(Buffer.from(await res.arrayBuffer()).equals(BODY)).toBe(true);
  });

  const noCurl = hasTool('curl') ? false : 'curl is not installed';
  it.skipIf(noCurl)(`curl --compressed${noCurl ? ` (skipped: ${noCurl})` : ''}`, async () => {
    const { dir, cleanup } = scratch();
    try {
      const bodyFile = join(dir, 'body');
      // Async: the server answering is in this very process.
      const out = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const args = [
          '-sS',
          '--compressed',
          '-o',
          bodyFile,
          '-w',
          '%header{content-encoding}',
          `${server.url}/text`,
        ];
        const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.on('close', (status) => resolve({ status, stdout }));
      });
      expect(out.status).toBe(0);
      expect(out.stdout).toMatch(/^(gzip|deflate|br)$/);
      expect(readFileSync(bodyFile).equals(BODY)).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe('streaming', () => {
  it('res.flush() sends what was written so far as decodable bytes', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}/flush`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
        expect(res.headers['content-encoding']).toBe('gzip');
        const gunzip = zlib.createGunzip();
        res.pipe(gunzip);
        gunzip.once('data', (c: Buffer) => {
          resolve(c.toString());
          req.destroy();
        });
      });
      req.on('error', (err) =>
        (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err),
      );
      req.end();
    });
    expect(first).toBe('data: first\n\n');
  });

  it('a large streamed body respects backpressure and arrives intact', async () => {
    const r = await raw(`${server.url}/stream`, { 'Accept-Encoding': 'gzip' });
    const body = zlib.gunzipSync(r.body);
    expect(body.length).toBe(4 * 1024 * KiB);
    expect(events).toContain('stream backpressure=true');
  });

  it('a client that goes away ends the response and its compressor', async () => {
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
    await new Promise((r) => setTimeout(r, 300));
    expect(events.find((e) => e.startsWith('forever closed'))).toMatch(/compressor destroyed=true/);
    // The server still serves afterwards.
    expect((await raw(`${server.url}/text`, { 'Accept-Encoding': 'gzip' })).status).toBe(200);
  });
});

describe('options', () => {
  it('threshold accepts byte strings; level and filter are honoured', async () => {
    const s = await serve((app) => {
      app.use(compression({ threshold: '100kb', level: 1 }));
      app.get('/', (_req, res) => res.type('text/plain').send(BODY));
    });
    const t = await serve((app) => {
      app.use(compression({ threshold: 0, level: 1, filter: (req) => req.headers['x-compress'] === 'yes' }));
      app.get('/', (_req, res) => res.type('application/octet-stream').send(BODY));
    });
    try {
      expect((await raw(s.url, { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
      const r = await raw(t.url, { 'Accept-Encoding': 'gzip', 'X-Compress': 'yes' });
      expect(r.body.equals(uaccel.gzipSync(BODY, { level: 1 }))).toBe(true);
      expect(r.body.equals(uaccel.gzipSync(BODY, { level: 6 }))).toBe(false);
      expect((await raw(t.url, { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
    } finally {
      await s.close();
      await t.close();
    }
  });

  it('memLevel, strategy, windowBits and chunkSize reach the compressor', async () => {
    const zopts = {
      level: 9,
      memLevel: 5,
      strategy: zlib.constants.Z_FILTERED,
      windowBits: 12,
      chunkSize: 4096,
    };
    const s = await serve((app) => {
      app.use(compression(zopts));
      app.get('/', (_req, res) => res.type('text/plain').send(BODY));
    });
    try {
      const r = await raw(s.url, { 'Accept-Encoding': 'gzip' });
      expect(r.body.equals(zlib.gzipSync(BODY, zopts))).toBe(true);
      const d = await raw(s.url, { 'Accept-Encoding': 'deflate' });
      expect(d.body.equals(zlib.deflateSync(BODY, zopts))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it("blockSize: 0 gives node:zlib's bytes", async () => {
    const s = await serve((app) => {
      app.use(compression({ level: 3, blockSize: 0 }));
      app.get('/', (_req, res) => res.type('text/plain').send(BODY));
    });
    try {
      const r = await raw(s.url, { 'Accept-Encoding': 'gzip' });
      expect(r.body.equals(zlib.gzipSync(BODY, { level: 3 }))).toBe(true);
      const d = await raw(s.url, { 'Accept-Encoding': 'deflate' });
      expect(d.body.equals(zlib.deflateSync(BODY, { level: 3 }))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('bad options throw node-shaped errors at construction', () => {
    expect(() => compression({ filter: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => compression({ threshold: 'lots' })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => compression({ level: 42 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => compression({ blockSize: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => compression({ blockSize: '0' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});
