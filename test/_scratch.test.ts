import { it } from 'vitest';
import * as uaccel from '../src/index';
import { text } from './helpers/corpus';
import { pipeThrough, ours, theirs } from './helpers/streams';
it('speed', async () => {
  for (const sva of [true, false]) {
    uaccel.configure({ sva });
    const d = text(100 * 1024);
    let t = Date.now();
    await pipeThrough(ours.Gzip, d, 1);
    console.log(sva, 'uaccel 1B writes', Date.now() - t);
    t = Date.now();
    await pipeThrough(theirs.Gzip, d, 1);
    console.log('node 1B writes', Date.now() - t);
    const big = text(8 << 20);
    t = Date.now();
    await pipeThrough(ours.Gzip, big, 64 << 10);
    console.log('uaccel 8M', Date.now() - t);
    t = Date.now();
    await pipeThrough(theirs.Gzip, big, 64 << 10);
    console.log('node 8M', Date.now() - t);
  }
}, 120000);
