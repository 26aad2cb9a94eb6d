import type { CliIo } from "../io.ts";

/** One `osp` sub-command. */
export interface Command {
  readonly name: string;
  /** The full `osp <name> --help` text. */
  readonly help: string;
  /** Runs the command; resolves with the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}
