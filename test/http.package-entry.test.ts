// require('uaccel/http') and import 'uaccel/http' give the middleware factory
// itself, shaped as require('compression') is.
import { describe, expect, it } from 'vitest';

import { runScriptSync } from './helpers/child';

describe('uaccel/http entry point', () => {
  it('CommonJS: the factory, with .filter and .compression', () => {
    const r = runScriptSync(`
      const compression = require('uaccel/http');
      const mw = compression({ threshold: '2kb' });
      console.log(JSON.stringify([typeof compression, typeof compression.filter, compression.compression === compression, mw.length]));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['function', 'function', true, 3]);
  });

  it('ESM: the default export is the factory', () => {
    const r = runScriptSync(`
      import('uaccel/http').then((m) => console.log(typeof m.default, typeof m.default.filter));
    `);
    expect(r.stdout.trim()).toBe('function function');
  });
});
