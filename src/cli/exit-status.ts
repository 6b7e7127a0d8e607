// Exit status with gzip's precedence: 0 ok, 1 error, 2 warning; an error is
// never downgraded to a warning by a later file.

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_WARNING = 2;

export class Reporter {
  status = EXIT_OK;

  constructor(
    private readonly program: string,
    private readonly quiet: boolean,
  ) {}

  error(message: string): void {
    process.stderr.write(`${this.program}: ${message}\n`);
    this.status = EXIT_ERROR;
  }

  warning(message: string): void {
    if (!this.quiet) process.stderr.write(`${this.program}: ${message}\n`);
    if (this.status === EXIT_OK) this.status = EXIT_WARNING;
  }

  /** Printed like a warning, but gzip leaves the exit status alone for these. */
  notice(message: string): void {
    if (!this.quiet) process.stderr.write(`${this.program}: ${message}\n`);
  }
}
