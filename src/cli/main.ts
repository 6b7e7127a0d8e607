#!/usr/bin/env node
// The `uaccel` command: gzip/gunzip on uaccel's device, info, bench.
import { readFileSync } from 'fs';
import { join } from 'path';

import { benchCommand } from './bench-command';
import { handleStdoutErrors } from './stdout-errors';
import { gzipCommand } from './gzip-command';
import { infoCommand } from './info-command';

const USAGE = `Usage: uaccel <command> [options]

Commands:
  gzip [OPTION]... [FILE]...     compress like gzip/pigz (-1..-9 -c -k -d -f -t -r -p N)
  gunzip [OPTION]... [FILE]...   decompress (same as gzip -d)
  info                           device, memory mode, codecs, workers, queue depth
  bench [--quick]                node:zlib vs uaccel, side by side
  help                           this text
  version                        the package version

'uaccel gzip --help' lists gzip's options.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const COMMANDS: Readonly<Record<string, (args: string[]) => number | Promise<number>>> = {
  gzip: (args) => gzipCommand(args, 'gzip'),
  gunzip: (args) => gzipCommand(args, 'gunzip'),
  info: () => infoCommand(),
  bench: (args) => benchCommand(args),
  help: () => (process.stdout.write(USAGE), 0),
  '--help': () => (process.stdout.write(USAGE), 0),
  '-h': () => (process.stdout.write(USAGE), 0),
  version: () => (process.stdout.write(`uaccel ${version()}\n`), 0),
  '--version': () => (process.stdout.write(`uaccel ${version()}\n`), 0),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name !== undefined ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(name === undefined ? USAGE : `uaccel: unknown command '${name}'\n\n${USAGE}`);
    return 1;
  }
  return command(args);
}

handleStdoutErrors();
main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    process.stderr.write(`uaccel: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
