// `uaccel info`: what would serve this process's zlib calls.
import { info } from '../index';

/** Shown while the optional ISA-L codec is not loaded. */
export const ISAL_HINT =
  'hint: for the optional ISA-L codec install libisal2 (Debian/Ubuntu: apt-get install libisal2)';

export function infoCommand(): number {
  const i = info();
  const rows: [string, string][] = [
    ['device', i.device + (i.reason ? ` (${i.reason})` : '')],
    // Without a device there is no ring, hence no memory mode to speak of.
    ['memory mode', i.device === 'none' ? '-' : i.sva ? 'SVA (zero copy)' : 'pinned buffers'],
    ['codecs', i.codecs.join(', ')],
    ['workers', String(i.workers)],
    ['queue depth', String(i.queueDepth)],
  ];
  if (i.isal !== undefined) rows.push(['isa-l', i.isal]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) process.stdout.write(`${key.padEnd(width)}  ${value}\n`);
  if (!i.codecs.some((c) => /isa-?l/i.test(c))) process.stdout.write(`${ISAL_HINT}\n`);
  return 0;
}
