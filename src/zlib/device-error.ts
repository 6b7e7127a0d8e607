// Errors for descriptors the device itself refused (not codec errors): the
// shape of a libuv/system error, keyed by the negative errno the device
// returned.
import { constants as osConstants } from 'os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) errnoNames.set(value, name);

const reasons: Record<string, string> = {
  EFAULT: 'descriptor address outside the memory the device may access',
  EINVAL: 'malformed descriptor',
  EOPNOTSUPP: 'operation not supported by the device',
  ENOMEM: 'device out of memory',
  ECANCELED: 'descriptor cancelled',
};

export function deviceError(status: number): Error {
  const code = errnoNames.get(-status) ?? 'EIO';
  const err = new Error(`uaccel device error ${code}: ${reasons[code] ?? 'device failure'}`) as Error & {
    errno: number;
    code: string;
  };
  err.errno = status;
  err.code = code;
  return err;
}
