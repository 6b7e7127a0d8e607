// The export surface, compared with node:zlib at run time: every name node
// exports is ours too, with the same typeof and the same property shape
// (enumerable, writable, configurable), including the hidden legacy Z_*
// constants, a frozen `codes` and the shared `constants`. Checked on the
// compiled package, the object a CommonJS consumer receives.
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { distEntry } from './helpers/child';

const require = createRequire(import.meta.url);
const nodeZlib = require('node:zlib') as Record<string, unknown>;
const uaccel = require(distEntry) as Record<string, unknown>;

/** Deliberate additions of ours. */
const EXTRAS = ['info', 'configure'];

const theirShapes = Object.getOwnPropertyDescriptors(nodeZlib);
const ourShapes = Object.getOwnPropertyDescriptors(uaccel);

describe('export surface against node:zlib', () => {
  it('Object.keys is node:zlib’s plus the deliberate extras', () => {
    const extra = Object.keys(uaccel).filter((k) => !(k in nodeZlib));
    expect(extra.sort()).toEqual([...EXTRAS].sort());
    expect(Object.keys(nodeZlib).filter((k) => !Object.keys(uaccel).includes(k))).toEqual([]);
  });

  it.each(Object.keys(theirShapes))('%s has node’s typeof and property shape', (name) => {
    const theirs = theirShapes[name];
    const ours = ourShapes[name];
    expect(ours, `missing export ${name}`).toBeDefined();
    expect(typeof ours.value).toBe(typeof theirs.value);
    expect({ enumerable: ours.enumerable, writable: ours.writable, configurable: ours.configurable }).toEqual(
      {
        enumerable: theirs.enumerable,
        writable: theirs.writable,
        configurable: theirs.configurable,
      },
    );
    if (typeof theirs.value === 'number') expect(ours.value).toBe(theirs.value);
  });

  it('legacy Z_* constants are hidden, read-only and equal to constants', () => {
    const legacy = Object.keys(theirShapes).filter((k) => !theirShapes[k].enumerable);
    expect(legacy.length).toBeGreaterThan(30);
    for (const name of legacy) {
      expect(Object.keys(uaccel)).not.toContain(name);
      expect(uaccel[name]).toBe((zlib.constants as Record<string, number>)[name]);
      expect(() => {
        'use strict';
        (uaccel as Record<string, unknown>)[name] = 0;
      }).toThrow(TypeError);
    }
  });

  it('codes is frozen and constants is node’s own object', () => {
    expect(Object.isFrozen(uaccel.codes)).toBe(true);
    expect(uaccel.codes).toEqual(nodeZlib.codes);
    expect(uaccel.constants).toBe(zlib.constants);
  });

  it('functions keep node’s arity', () => {
    for (const [name, theirs] of Object.entries(nodeZlib)) {
      if (typeof theirs !== 'function' || name.startsWith('Brotli') || name.startsWith('brotli')) continue;
      expect([name, (uaccel[name] as Function).length]).toEqual([name, (theirs as Function).length]);
    }
  });
});
