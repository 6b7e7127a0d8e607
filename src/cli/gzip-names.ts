// File names on both sides of gzip: the suffixes gzip recognises and what
// each one becomes when decompressed.
import { basename } from 'path';

export const GZ_SUFFIX = '.gz';

const DECOMPRESSED_SUFFIX: readonly (readonly [string, string])[] = [
  ['.gz', ''],
  ['.tgz', '.tar'],
  ['.taz', '.tar'],
  ['-gz', ''],
  ['.z', ''],
  ['-z', ''],
  ['_z', ''],
];

/** The compressed-file suffix `path` already ends in, if any. */
export function compressedSuffix(path: string): string | undefined {
  const name = basename(path).toLowerCase();
  return DECOMPRESSED_SUFFIX.find(([suffix]) => name.length > suffix.length && name.endsWith(suffix))?.[0];
}

/** The output name for decompressing `path`, or undefined when its suffix is not one gzip knows. */
export function decompressedName(path: string): string | undefined {
  const suffix = compressedSuffix(path);
  if (suffix === undefined) return undefined;
  const replacement = DECOMPRESSED_SUFFIX.find(([s]) => s === suffix)![1];
  return path.slice(0, path.length - suffix.length) + replacement;
}
