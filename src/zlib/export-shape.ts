// Gives uaccel's exports object node:zlib's property shapes. Code can observe
// more than names and values: `create*` are read-only, `constants` and `codes`
// cannot be redefined, and the legacy top-level `Z_*` constants exist but are
// hidden from Object.keys. Node's own descriptors are the table, so the shapes
// follow whichever Node version runs us.
import * as nodeZlib from 'zlib';

export function matchNodeZlibShape(target: object): void {
  const theirs = Object.getOwnPropertyDescriptors(nodeZlib);
  for (const [name, shape] of Object.entries(theirs)) {
    const mine = Object.getOwnPropertyDescriptor(target, name);
    if (mine === undefined) {
      // Only the legacy constants are node's alone; they are plain numbers.
      if (typeof shape.value === 'number') Object.defineProperty(target, name, shape);
      continue;
    }
    const value = mine.get ? mine.get.call(target) : mine.value;
    Object.defineProperty(target, name, {
      value,
      enumerable: shape.enumerable,
      writable: shape.writable ?? false,
      configurable: shape.configurable,
    });
  }
}
