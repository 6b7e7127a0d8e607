// Command-line options of `uaccel gzip|gunzip`, spelled as gzip and pigz spell
// them so that scripts written for those tools keep working.

export interface GzipOptions {
  decompress: boolean;
  stdout: boolean;
  keep: boolean;
  force: boolean;
  test: boolean;
  recursive: boolean;
  /** -n: leave the name and time stamp out of the header when compressing. */
  noName: boolean;
  /** -N: when decompressing, give the output the time stamp stored in the header. */
  restoreTime: boolean;
  quiet: boolean;
  verbose: boolean;
  level: number;
  /** -p N: device worker threads; absent keeps uaccel's default. */
  workers?: number;
  help: boolean;
  files: string[];
}

interface Flag {
  short?: string;
  long: string[];
  set: Partial<GzipOptions>;
}

const FLAGS: readonly Flag[] = [
  { short: 'c', long: ['stdout', 'to-stdout'], set: { stdout: true } },
  { short: 'd', long: ['decompress', 'uncompress'], set: { decompress: true } },
  { short: 'f', long: ['force'], set: { force: true } },
  { short: 'k', long: ['keep'], set: { keep: true } },
  { short: 'n', long: ['no-name'], set: { noName: true, restoreTime: false } },
  { short: 'N', long: ['name'], set: { noName: false, restoreTime: true } },
  { short: 'q', long: ['quiet'], set: { quiet: true, verbose: false } },
  { short: 'r', long: ['recursive'], set: { recursive: true } },
  { short: 't', long: ['test'], set: { test: true } },
  { short: 'v', long: ['verbose'], set: { verbose: true, quiet: false } },
  { short: 'h', long: ['help'], set: { help: true } },
  { long: ['fast'], set: { level: 1 } },
  { long: ['best'], set: { level: 9 } },
];

/** A mistake on the command line: gzip prints it with a pointer to -h and exits 1. */
export class UsageError extends Error {}

function parseWorkers(value: string | undefined): number {
  const n = value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 1024)) throw new UsageError(`invalid number of processes: ${value ?? '(missing)'}`);
  return n;
}

export function parseGzipArgs(args: readonly string[], defaults: Partial<GzipOptions> = {}): GzipOptions {
  const opts: GzipOptions = {
    decompress: false,
    stdout: false,
    keep: false,
    force: false,
    test: false,
    recursive: false,
    noName: false,
    restoreTime: false,
    quiet: false,
    verbose: false,
    level: 6,
    help: false,
    files: [],
    ...defaults,
  };
  const apply = (flag: Flag): void => void Object.assign(opts, flag.set);
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
      if (name === 'processes') {
        opts.workers = parseWorkers(inline ?? args[++i]);
        continue;
      }
      const flag = FLAGS.find((f) => f.long.includes(name));
      if (!flag || inline !== undefined) throw new UsageError(`unrecognized option '${arg}'`);
      apply(flag);
      continue;
    }
    if (arg.length < 2 || arg[0] !== '-') {
      opts.files.push(arg);
      continue;
    }
    // Short options cluster as in gzip: -kc9, -p4, -p 4.
    for (let j = 1; j < arg.length; j++) {
      const ch = arg[j];
      if (ch >= '1' && ch <= '9') {
        opts.level = Number(ch);
      } else if (ch === 'p') {
        const rest = arg.slice(j + 1);
        opts.workers = parseWorkers(rest !== '' ? rest : args[++i]);
        break;
      } else {
        const flag = FLAGS.find((f) => f.short === ch);
        if (!flag) throw new UsageError(`invalid option -- '${ch}'`);
        apply(flag);
      }
    }
  }
  opts.files.push(...args.slice(i));
  if (opts.test) opts.decompress = true;
  return opts;
}
