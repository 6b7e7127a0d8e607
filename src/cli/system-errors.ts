// System errors in the words gzip prints for them (strerror's), so messages
// read the same whichever tool produced them.

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EROFS: 'Read-only file system',
  EIO: 'Input/output error',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EFBIG: 'File too large',
  EMFILE: 'Too many open files',
  EEXIST: 'File exists',
};

export function describeSystemError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return (e.code !== undefined ? STRERROR[e.code] : undefined) ?? e.message ?? String(err);
}
