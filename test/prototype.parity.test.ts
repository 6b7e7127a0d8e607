// What user code can see on a stream's prototype chain matches node:zlib:
// the same members at the same level (ZlibBase, Zlib, the class itself),
// methods as methods, accessors as accessors, with node's enumerability.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

import * as uaccel from '../src/index';

const CLASSES = ['Deflate', 'Inflate', 'Gzip', 'Gunzip', 'DeflateRaw', 'InflateRaw', 'Unzip'] as const;

interface Member {
  kind: 'method' | 'accessor' | 'value';
  enumerable: boolean;
}

/** The prototypes between an instance and Transform.prototype, nearest first. */
function zlibLevels(instance: object): Array<Record<string, Member>> {
  const levels: Array<Record<string, Member>> = [];
  for (
    let p = Object.getPrototypeOf(instance);
    p && p.constructor.name !== 'Transform';
    p = Object.getPrototypeOf(p)
  ) {
    const members: Record<string, Member> = {};
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      const kind = d.get || d.set ? 'accessor' : typeof d.value === 'function' ? 'method' : 'value';
      members[name] = { kind, enumerable: d.enumerable === true };
    }
    levels.push(members);
  }
  return levels;
}

describe('prototype parity with node:zlib', () => {
  it.each(CLASSES)('%s: every member node defines, at the same level and of the same kind', (name) => {
    const theirs = zlibLevels(new zlib[name]());
    const ours = zlibLevels(new uaccel[name]());
    expect(ours.length).toBe(theirs.length);
    theirs.forEach((level, i) => {
      for (const [member, shape] of Object.entries(level)) {
        expect([i, member, ours[i][member]]).toEqual([i, member, shape]);
      }
    });
  });

  it('for...in over a stream lists what node lists', () => {
    const keys = (s: object) => {
      const out: string[] = [];
      for (const k in s) out.push(k);
      return out;
    };
    const theirs = keys(zlib.createGzip());
    const ours = new Set(keys(uaccel.createGzip()));
    const missing = theirs.filter((k) => !ours.has(k) && k !== '_writeState');
    expect(missing).toEqual([]);
  });

  it('constructors chain as node’s do', () => {
    for (const name of CLASSES) {
      const Cls = uaccel[name];
      expect(Cls.name).toBe(name);
      expect(Cls.length).toBe(zlib[name].length);
      expect(Object.getPrototypeOf(Cls.prototype).constructor.name).toBe('Zlib');
      expect(new Cls()).toBeInstanceOf(Cls);
    }
  });
});
