// A headless Chromium driven over the DevTools protocol on
// --remote-debugging-pipe: Chromium reads NUL-terminated JSON commands on its
// fd 3 and writes replies and events on fd 4, so no WebSocket client (which
// Node 20 lacks without a flag) and no npm dependency is needed. Chromium
// also exits by itself when that pipe closes, so a test process that dies
// without running afterAll does not leave a browser behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * The Chromium executable: $CHROMIUM_PATH when set (and then only that),
 * else Debian's. Debian's launcher script (/usr/bin/chromium) sources
 * /etc/chromium.d, which adds extensions and prints shell warnings, so the
 * binary behind it is used directly when present.
 */
export function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const r = spawnSync(path, ['--version'], { stdio: 'pipe', timeout: 20_000 });
    if (r.status === 0) return path;
  }
  return undefined;
}

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

interface Pending {
  method: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: CdpEvent) => void>();
  private exited = false;
  private readonly exit: Promise<void>;
  /** Chromium's stderr, for failure messages. */
  stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const input = child.stdio[3] as Writable;
    const output = child.stdio[4] as Readable;
    // Chromium closing its end first (a crash) must fail the test, not the process.
    input.on('error', () => {});
    let buffered = '';
    output.setEncoding('utf8');
    output.on('data', (text: string) => {
      buffered += text;
      let nul: number;
      while ((nul = buffered.indexOf('\0')) >= 0) {
        const message = JSON.parse(buffered.slice(0, nul)) as {
          id?: number;
          result?: Record<string, unknown>;
          error?: { message: string };
        } & Partial<CdpEvent>;
        buffered = buffered.slice(nul + 1);
        this.dispatch(message);
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      // Bounded: only the tail is useful in a failure message.
      this.stderr = (this.stderr + text).slice(-8192);
    });
    this.exit = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        for (const p of this.pending.values()) {
          p.reject(new Error(`chromium exited during ${p.method}; stderr:\n${this.stderr}`));
        }
        this.pending.clear();
        resolve();
      }),
    );
  }

  static async launch(executable: string): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'uaccel-chromium-'));
    const child = spawn(
      executable,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-default-apps',
        '--disable-extensions',
        '--disable-sync',
        '--no-first-run',
        '--no-default-browser-check',
        '--mute-audio',
        `--user-data-dir=${profile}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      // Its own process group, so close() can reach the renderer and
      // utility processes too if the browser process does not exit cleanly.
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true },
    );
    const browser = new Browser(child, profile);
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      // The first reply proves the pipe is up.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`chromium did not answer within 20 s; stderr:\n${browser.stderr}`)),
          20_000,
        );
      });
      await Promise.race([browser.send('Browser.getVersion'), timeout]).finally(() => clearTimeout(timer));
    } catch (err) {
      // The caller never gets a Browser to close: do it here.
      await browser.close();
      throw err;
    }
    return browser;
  }

  private dispatch(message: {
    id?: number;
    result?: Record<string, unknown>;
    error?: { message: string };
    method?: string;
    params?: Record<string, unknown>;
    sessionId?: string;
  }): void {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.error) p.reject(new Error(`${p.method}: ${message.error.message}`));
      else p.resolve(message.result ?? {});
      return;
    }
    if (message.method === undefined) return;
    const event: CdpEvent = {
      method: message.method,
      params: message.params ?? {},
      sessionId: message.sessionId,
    };
    for (const listener of this.listeners) listener(event);
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium has exited; stderr:\n${this.stderr}`));
    const id = this.nextId++;
    const input = this.child.stdio[3] as Writable;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      input.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });
  }

  /** Calls listener for every protocol event until the returned function is called. */
  onEvent(listener: (e: CdpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new tab, attached in flat mode: its commands carry the returned session id. */
  async newPage(): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as {
      targetId: string;
    };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const page = new Page(this, targetId, sessionId);
    await page.send('Page.enable');
    await page.send('Network.enable');
    // Every load must reach the server: a revalidated or cached response
    // would show the first load's headers and skip the middleware.
    await page.send('Network.setCacheDisabled', { cacheDisabled: true });
    return page;
  }

  /**
   * Browser.close, then SIGKILL to the whole process group if Chromium has
   * not gone within a few seconds; the profile directory is removed either way.
   */
  async close(): Promise<void> {
    if (this.child.pid === undefined) {
      // Never started (spawn failed): there is no process to wait for.
      rmSync(this.profile, { recursive: true, force: true });
      return;
    }
    if (!this.exited) {
      this.send('Browser.close').catch(() => {});
      const timer = new Promise((resolve) => setTimeout(resolve, 5000).unref());
      await Promise.race([this.exit, timer]);
    }
    // The group outlives its leader when a helper process hangs on.
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
    if (!this.exited) await this.exit;
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export interface Response {
  url: string;
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Network.ResourceType: Document, EventSource, Fetch, ... */
  type: string;
  /** Bytes received on the wire (headers included), once loading finished. */
  encodedLength?: number;
}

export class Page {
  /** Every response this page received, as Chromium's network stack saw it. */
  readonly responses: Response[] = [];
  private readonly stopListening: () => void;

  constructor(
    private readonly browser: Browser,
    private readonly targetId: string,
    readonly sessionId: string,
  ) {
    const byRequest = new Map<string, Response>();
    this.stopListening = browser.onEvent((e) => {
      if (e.sessionId !== sessionId) return;
      if (e.method === 'Network.responseReceived') {
        const { requestId, response, type } = e.params as {
          requestId: string;
          type: string;
          response: { url: string; status: number; headers: Record<string, string> };
        };
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(response.headers)) headers[k.toLowerCase()] = v;
        const r: Response = { url: response.url, status: response.status, headers, type };
        byRequest.set(requestId, r);
        this.responses.push(r);
      } else if (e.method === 'Network.loadingFinished') {
        const { requestId, encodedDataLength } = e.params as { requestId: string; encodedDataLength: number };
        const r = byRequest.get(requestId);
        if (r) r.encodedLength = encodedDataLength;
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Navigates and resolves once the page's load event has fired. */
  async goto(url: string, timeoutMs = 15_000): Promise<void> {
    let stop = (): void => {};
    let timer: NodeJS.Timeout | undefined;
    const loaded = new Promise<void>((resolve, reject) => {
      stop = this.browser.onEvent((e) => {
        if (e.sessionId === this.sessionId && e.method === 'Page.loadEventFired') resolve();
      });
      // A crashed renderer never fires load: fail with the reason, not the test's timeout.
      timer = setTimeout(() => reject(new Error(`${url} did not load within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const nav = (await this.send('Page.navigate', { url })) as { errorText?: string };
      if (nav.errorText) throw new Error(`navigating to ${url}: ${nav.errorText}`);
      await loaded;
    } finally {
      clearTimeout(timer);
      stop();
    }
  }

  /** Evaluates expression in the page (awaiting a returned promise) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', {
      expression,
      awaitPromise: true,
      returnByValue: true,
    })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`in page: ${d.exception?.description ?? d.text}`);
    }
    return r.result.value as T;
  }

  async close(): Promise<void> {
    this.stopListening();
    await this.browser.send('Target.closeTarget', { targetId: this.targetId }).catch(() => {});
  }
}
