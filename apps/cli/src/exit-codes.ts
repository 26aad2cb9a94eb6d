// Exit codes, as documented in `osp --help` and the README.

/** Success: the command did what was asked (a signature verified, every backend answered). */
export const EXIT_OK = 0;
/** Failure: an invalid signature, a failed backend check, a server that could not start. */
export const EXIT_FAILURE = 1;
/** Usage or configuration error: unknown option, missing argument, invalid config file. */
export const EXIT_USAGE = 2;

/** Wrong command line; reported with the command's usage hint and exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}
