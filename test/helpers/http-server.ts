// A real express server on 127.0.0.1 with the compression middleware, and a
// raw HTTP client that shows the bytes and headers as they crossed the wire.
import express from 'express';
import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { send, type Reply } from './http-clients';

export interface Served {
  url: string;
  close: () => Promise<void>;
}

export async function serve(configure: (app: Express) => void): Promise<Served> {
  const app = express();
  configure(app);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type RawResponse = Reply;

/** One request without any decoding: body is exactly what the server sent. */
export function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return send(url, Buffer.alloc(0), headers, { method });
}
