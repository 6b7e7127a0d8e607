// The default maxOutputLength is buffer.kMaxLength as it was when uaccel
// loaded, as node:zlib reads it once at load; the chunk buffer's own size
// limit stays Buffer's real one. Child process: the value is fixed at load.
import { describe, expect, it } from 'vitest';

import { describeExit, distEntry, lastJson, runScript } from './helpers/child';

describe('buffer.kMaxLength at load time', () => {
  it('bounds one-shot output like node:zlib', async () => {
    const script = `
      const buffer = require('buffer');
      const saved = buffer.kMaxLength;
      buffer.kMaxLength = 64;
      const zlib = require(${JSON.stringify(distEntry)});
      buffer.kMaxLength = saved;
      // 128 bytes of 'a', gzipped.
      const encoded = Buffer.from('H4sIAAAAAAAAA0tMHFgAAIw2K/GAAAAA', 'base64');
      let sync;
      try { zlib.gunzipSync(encoded); sync = 'no error'; } catch (e) { sync = e.name + ' ' + e.code; }
      zlib.gunzip(encoded, (err) => {
        console.log(JSON.stringify({ sync, async: err ? err.name + ' ' + err.code : 'no error' }));
      });`;
    const r = await runScript(script);
    expect(r.status, describeExit(r)).toBe(0);
    expect(lastJson(r)).toEqual({
      sync: 'RangeError ERR_BUFFER_TOO_LARGE',
      async: 'RangeError ERR_BUFFER_TOO_LARGE',
    });
  });
});
