// Subclassing the stream classes every way node's function constructors
// allow: `class extends`, and the older util.inherits / Object.setPrototypeOf
// with `Base.call(this, opts)` initialising an object that already exists.
// Output is checked against node:zlib in both memory modes.
import * as zlib from 'node:zlib';
import { inherits } from 'node:util';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';
import { MODES, collect, useMode } from './helpers/streams';

const CLASSES = ['Deflate', 'Gzip', 'DeflateRaw'] as const;
const INFLATERS = { Deflate: zlib.inflateSync, Gzip: zlib.gunzipSync, DeflateRaw: zlib.inflateRawSync };
const INPUT = Buffer.from('inherited '.repeat(3000));

type Ctor = (typeof uaccel)[(typeof CLASSES)[number]];

function oldStyle(Base: Ctor, link: 'inherits' | 'setPrototypeOf') {
  function Sub(this: { extra?: boolean }, opts?: zlib.ZlibOptions) {
    (Base as unknown as (this: unknown, o?: zlib.ZlibOptions) => void).call(this, opts);
    this.extra = true;
  }
  if (link === 'inherits') {
    inherits(Sub, Base as unknown as new () => unknown);
  } else {
    Object.setPrototypeOf(Sub.prototype, Base.prototype);
    Object.setPrototypeOf(Sub, Base);
  }
  return Sub as unknown as new (opts?: zlib.ZlibOptions) => uaccel.Gzip & { extra: boolean };
}

for (const mode of MODES) {
  describe(`subclassing (${mode.name})`, () => {
    useMode(mode.sva);

    for (const name of CLASSES) {
      for (const link of ['inherits', 'setPrototypeOf'] as const) {
        it(`${name} via ${link} and ${name}.call(this)`, async () => {
          const Sub = oldStyle(uaccel[name], link);
          const s = new Sub({ level: 1 });
          expect(s).toBeInstanceOf(uaccel[name]);
          expect(s.extra).toBe(true);
          expect(s._closed).toBe(false);
          const out = collect(s);
          Readable.from([INPUT.subarray(0, 1000), INPUT.subarray(1000)]).pipe(s);
          expect(INFLATERS[name](await out)).toEqual(INPUT);
          expect(s.bytesWritten).toBe(INPUT.length);
        });
      }

      it(`${name} via class extends`, async () => {
        class Sub extends (uaccel[name] as unknown as new (o?: zlib.ZlibOptions) => uaccel.Gzip) {
          extra = true;
        }
        const s = new Sub();
        expect(s).toBeInstanceOf(uaccel[name]);
        expect(s.extra).toBe(true);
        const out = collect(s);
        s.end(INPUT);
        expect(INFLATERS[name](await out)).toEqual(INPUT);
      });
    }

    it('construction after an in-place one is unaffected', async () => {
      new (oldStyle(uaccel.Gzip, 'inherits'))().destroy();
      const s = uaccel.Gzip();
      expect(Object.getPrototypeOf(s)).toBe(uaccel.Gzip.prototype);
      const out = collect(s);
      s.end(INPUT);
      expect(zlib.gunzipSync(await out)).toEqual(INPUT);
    });
  });
}
