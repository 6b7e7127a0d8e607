// node builds its zlib prototypes by assignment, so their methods, and the
// `_closed` and `bytesRead` accessors, are enumerable: for...in over a stream
// lists them, and so do mixins that copy a stream's members. Class members
// are not, so the members node lists are made enumerable here (and only
// those: uaccel's own helpers stay hidden).
import * as nodeZlib from 'zlib';

function forInNames(proto: object): Set<string> {
  const names = new Set<string>();
  for (const name in proto) names.add(name);
  return names;
}

/** Our Zlib and ZlibBase prototypes, given node's shapes for the same levels. */
export function matchNodePrototypes(zlibProto: object, zlibBaseProto: object): void {
  const theirZlib = Object.getPrototypeOf(nodeZlib.Gzip.prototype) as object;
  const theirBase = Object.getPrototypeOf(theirZlib) as object;
  const levels: Array<[object, object]> = [
    [zlibProto, theirZlib],
    [zlibBaseProto, theirBase],
  ];
  for (const [ours, theirs] of levels) {
    const listed = forInNames(theirs);
    for (const [name, shape] of Object.entries(Object.getOwnPropertyDescriptors(ours))) {
      if (listed.has(name) && !shape.enumerable)
        Object.defineProperty(ours, name, { ...shape, enumerable: true });
    }
  }
}
