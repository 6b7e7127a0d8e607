// Real clients for the HTTP integration tests: a raw request that sends a
// body as given (no encoding applied or removed), and curl run without
// blocking the event loop the server under test shares.
import { spawn } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Server } from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends `body` in `pieces` writes (a chunked upload unless Content-Length is
 * given) and collects the response without decoding it.
 */
export function send(
  url: string,
  body: Buffer,
  headers: Record<string, string> = {},
  { method = 'POST', pieces = 1 } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    const step = Math.ceil(body.length / pieces) || 1;
    for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
    req.end();
  });
}

export interface CurlResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** curl with `args`, asynchronously: the server answering is in this very process. */
export function curl(args: readonly string[], input?: Buffer): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** The loopback URL of a listening server. */
export function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
