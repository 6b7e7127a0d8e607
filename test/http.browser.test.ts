// uaccel/http in front of a real browser: headless Chromium loads a large
// compressed HTML page and a compressed server-sent-events stream from an
// express server on loopback, and what it renders must be exactly what the
// server generated. Each runs twice: with Accept-Encoding overridden to gzip
// (so the body goes through uaccel's device; Chromium's own header offers br,
// which the middleware prefers) and with Chromium's own header, whatever that
// negotiates.
import type { Request, Response as ExpressResponse } from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { compression } from '../src/http/compression';
import { info } from '../src/index';
import { Browser, findChromium, type Page } from './helpers/chromium';
import { serve, type Served } from './helpers/http-server';

const chromium = findChromium();
const SKIP_REASON = 'no Chromium found (install the Debian package `chromium` or set CHROMIUM_PATH)';
if (!chromium) console.warn(`test/http.browser.test.ts skipped: ${SKIP_REASON}`);

const ROWS = 4000;
const EVENTS = 12;

function cell(row: number, col: number): string {
  return `r${row}c${col}:${((row * 7919 + col * 104729) % 1000003).toString(36)}`;
}

function rowText(row: number): string {
  return [0, 1, 2, 3].map((col) => cell(row, col)).join('|');
}

const TABLE_PAGE = Buffer.from(
  '<!doctype html><html><head><meta charset="utf-8"><title>table</title></head><body><table><tbody>\n' +
    Array.from(
      { length: ROWS },
      (_, row) => `<tr>${[0, 1, 2, 3].map((col) => `<td>${cell(row, col)}</td>`).join('')}</tr>\n`,
    ).join('') +
    '</tbody></table></body></html>\n',
);

/** Event i's data; long enough that the stream is worth compressing. */
function eventData(i: number): string {
  return `event ${i} of ${EVENTS} ${cell(i, 9)} ${'-'.repeat(48)}`;
}

// Each event is sent only once the page has acknowledged the previous one,
// so a flush that does not push a decodable event out to the browser stalls
// the stream instead of passing unnoticed when the whole body arrives at end.
const SSE_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>events</title></head>
<body><ol id="events"></ol><script>
const list = document.getElementById('events');
const source = new EventSource('/events');
source.onmessage = (e) => {
  const li = document.createElement('li');
  li.textContent = e.data;
  list.append(li);
  fetch('/ack?n=' + list.children.length);
};
source.addEventListener('done', () => {
  source.close();
  document.body.dataset.state = 'done';
});
// EventSource would reconnect and start the stream over; one error ends the test.
source.onerror = () => {
  source.close();
  document.body.dataset.state = 'error';
};
</script></body></html>
`;

/** A request as the server saw it, recorded when its response finished. */
interface Exchange {
  path: string;
  acceptEncoding?: string;
  contentEncoding?: string;
}

let server: Served;
let browser: Browser | undefined;
const served: Exchange[] = [];

/** The exchange for path; the browser may see the end of a response before the server's 'finish'. */
function exchange(path: string): Promise<Exchange> {
  return vi.waitFor(
    () => {
      const e = served.find((s) => s.path === path);
      if (!e) throw new Error(`no finished response for ${path}`);
      return e;
    },
    { timeout: 5000 },
  );
}

/** The open event stream, advanced by /ack. */
let stream: { res: ExpressResponse; sent: number } | undefined;

function sendEvent(res: ExpressResponse, n: number): void {
  res.write(`id: ${n}\ndata: ${eventData(n)}\n\n`);
  (res as unknown as { flush(): void }).flush();
}

beforeAll(async () => {
  if (!chromium) return;
  server = await serve((app) => {
    app.use((req: Request, res: ExpressResponse, next) => {
      const entry: Exchange = { path: req.path, acceptEncoding: req.headers['accept-encoding'] };
      res.on('finish', () => {
        const ce = res.getHeader('Content-Encoding');
        if (ce !== undefined) entry.contentEncoding = String(ce);
        served.push(entry);
      });
      next();
    });
    app.use(compression());
    app.get('/table.html', (_req, res) => res.type('html').send(TABLE_PAGE));
    app.get('/events.html', (_req, res) => res.type('html').send(SSE_PAGE));
    app.get('/favicon.ico', (_req, res) => res.status(204).end());
    app.get('/events', (_req, res) => {
      res.type('text/event-stream').set('Cache-Control', 'no-cache');
      stream = { res, sent: 1 };
      sendEvent(res, 1);
    });
    app.get('/ack', (req, res) => {
      res.type('text/plain').send('ok');
      const s = stream;
      if (!s || Number(req.query.n) !== s.sent) return;
      if (s.sent < EVENTS) {
        s.sent++;
        sendEvent(s.res, s.sent);
      } else {
        s.res.end('event: done\ndata: end\n\n');
        stream = undefined;
      }
    });
  });
  browser = await Browser.launch(chromium);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const MODES = [
  { name: 'Accept-Encoding: gzip', acceptEncoding: 'gzip' },
  { name: "Chromium's own Accept-Encoding", acceptEncoding: undefined },
] as const;

describe.skipIf(!chromium)(
  `headless Chromium through uaccel/http${chromium ? '' : ` (skipped: ${SKIP_REASON})`}`,
  () => {
    for (const mode of MODES) {
      describe(mode.name, () => {
        let page: Page;

        beforeAll(async () => {
          page = await browser!.newPage();
          if (mode.acceptEncoding) {
            await page.send('Network.setExtraHTTPHeaders', {
              headers: { 'Accept-Encoding': mode.acceptEncoding },
            });
          }
        });
        afterAll(() => page?.close());

        /** The coding the server must have chosen for what this page sent. */
        function expectedCoding(accept: string | undefined): string {
          expect(accept).toMatch(/\bgzip\b/);
          if (mode.acceptEncoding) expect(accept).not.toMatch(/\bbr\b/);
          return /\bbr\b/.test(accept!) ? 'br' : 'gzip';
        }

        function expectCompressedByUaccel(coding: string, before: number, atLeast: number): void {
          if (coding !== 'gzip') return;
          const now = info();
          expect(now.device, `uaccel has no device: ${now.reason}`).not.toBe('none');
          expect(now.counters.bytesIn - before).toBeGreaterThanOrEqual(atLeast);
        }

        it('renders a large compressed HTML page', async () => {
          served.length = 0;
          const before = info().counters.bytesIn;
          await page.goto(`${server.url}/table.html`);

          const rendered = await page.evaluate<{ rows: number; first: string; last: string }>(`(() => {
          const rows = document.querySelectorAll('tbody > tr');
          const text = (tr) => [...tr.cells].map((td) => td.textContent).join('|');
          return { rows: rows.length, first: text(rows[0]), last: text(rows[rows.length - 1]) };
        })()`);
          expect(rendered).toEqual({ rows: ROWS, first: rowText(0), last: rowText(ROWS - 1) });

          const onServer = await exchange('/table.html');
          const coding = expectedCoding(onServer.acceptEncoding);
          expect(onServer.contentEncoding).toBe(coding);
          expectCompressedByUaccel(coding, before, TABLE_PAGE.length);

          const inBrowser = page.responses.find((r) => r.url.endsWith('/table.html'));
          expect(inBrowser?.headers['content-encoding']).toBe(coding);
          expect(inBrowser?.encodedLength).toBeGreaterThan(0);
          expect(inBrowser!.encodedLength!).toBeLessThan(TABLE_PAGE.length / 3);
        });

        it('receives every server-sent event through a compressed, flushed stream', async () => {
          served.length = 0;
          const before = info().counters.bytesIn;
          await page.goto(`${server.url}/events.html`);

          const result = await page.evaluate<{ state: string; events: string[] }>(`new Promise((resolve) => {
          const report = () => ({
            state: document.body.dataset.state ?? 'timed out',
            events: [...document.querySelectorAll('#events > li')].map((li) => li.textContent),
          });
          const deadline = Date.now() + 10000;
          const poll = () => {
            if (document.body.dataset.state || Date.now() > deadline) resolve(report());
            else setTimeout(poll, 20);
          };
          poll();
        })`);
          expect(result).toEqual({
            state: 'done',
            events: Array.from({ length: EVENTS }, (_, i) => eventData(i + 1)),
          });

          const onServer = await exchange('/events');
          const coding = expectedCoding(onServer.acceptEncoding);
          expect(onServer.contentEncoding).toBe(coding);
          const eventBytes = Array.from({ length: EVENTS }, (_, i) => eventData(i + 1).length).reduce(
            (a, b) => a + b,
          );
          expectCompressedByUaccel(coding, before, eventBytes);

          const inBrowser = page.responses.find((r) => r.type === 'EventSource');
          expect(inBrowser?.headers['content-encoding']).toBe(coding);
        });
      });
    }
  },
);
