// uaccel/register: from here on, every require('zlib'), require('node:zlib')
// and import of 'node:zlib' in this process, dependencies included, is
// served by uaccel. Load it first: `node -r uaccel/register app.js`,
// `node --import uaccel/register app.mjs`, or as an application's first import.
//
// Node hands every caller one shared exports object for a builtin, so
// replacing that object's members reaches code that required zlib before us
// too (unless it copied a member out), and syncBuiltinESMExports() carries the
// change to ESM named imports. uaccel captured node's own members when it
// loaded, so it keeps using them for constants, brotli and its fallback.
import { syncBuiltinESMExports } from 'module';
import * as nodeZlib from 'zlib';

import * as uaccel from './index';

const target = nodeZlib as unknown as Record<string, unknown>;
const ours = uaccel as unknown as Record<string, unknown>;

for (const name of Object.keys(target)) {
  const shape = Object.getOwnPropertyDescriptor(target, name);
  const value = ours[name];
  if (shape === undefined || value === undefined || value === shape.value) continue;
  // `constants` and `codes` are frozen in place; uaccel exports those very objects.
  if (!shape.configurable && !shape.writable) continue;
  Object.defineProperty(target, name, { ...shape, value });
}

// uaccel's own additions, hidden from Object.keys so node's export list is unchanged.
for (const name of ['info', 'configure'] as const) {
  Object.defineProperty(target, name, {
    value: uaccel[name],
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

syncBuiltinESMExports();
