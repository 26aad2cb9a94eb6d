// `osp`: dispatch to a sub-command, global --help/--version, and the mapping of errors to exit codes.
import type { Command } from "./commands/command.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { cliVersion } from "./version.ts";

/** A sub-command as listed: loaded only when run, so `osp keys new` never loads the server. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/** Every sub-command, in the order `osp --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "demo",
    summary: "start OSP in front of an embedded S3 server, with a bucket and a key to try",
    load: async () => (await import("./commands/demo.ts")).demoCommand,
  },
  {
    name: "serve",
    summary: "start OSP from a configuration file (osp.config.{mjs,js,json,yaml})",
    load: async () => (await import("./commands/serve.ts")).serveCommand,
  },
  {
    name: "check",
    summary: "validate the configuration and send a signed HEAD to every backend bucket",
    load: async () => (await import("./commands/check.ts")).checkCommand,
  },
  {
    name: "presign",
    summary: "print a presigned URL for s3://bucket/key, signed with a client key",
    load: async () => (await import("./commands/presign.ts")).presignCommand,
  },
  {
    name: "verify",
    summary: "verify a signed request (raw HTTP or a presigned URL) and explain a mismatch",
    load: async () => (await import("./commands/verify.ts")).verifyCommand,
  },
  {
    name: "keys",
    summary: "generate a client access key id and secret (osp keys new)",
    load: async () => (await import("./commands/keys.ts")).keysCommand,
  },
];

/** The `osp --help` text. */
export const mainHelp = (): string => {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `osp ${cliVersion()}: OSP, the S3-compatible object-storage proxy

Usage: osp <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join("\n")}

  osp <command> --help (or osp help <command>) explains a command.

Options:
  -h, --help      show this help
  -v, --version   print the version

Exit codes:
  0  success
  1  failure: an invalid signature, a backend that failed the check, a server that could not start
  2  usage or configuration error (unknown option, invalid config: one line per problem)

Colours are used only when standard output is a terminal and NO_COLOR is not set.
OSP_DEBUG=1 adds stack traces to unexpected errors.

Start here:  osp demo`;
};

/** Runs `osp` with `argv` (without node and the script); resolves with the exit code. */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const [first, ...rest] = argv;
  try {
    if (first == null || first === "-h" || first === "--help") {
      (first == null ? io.stderr : io.stdout).write(`${mainHelp()}\n`);
      return first == null ? EXIT_USAGE : EXIT_OK;
    }
    if (first === "-v" || first === "--version" || first === "version") {
      io.stdout.write(`${cliVersion()}\n`);
      return EXIT_OK;
    }
    if (first === "help") {
      const topic = rest[0];
      const entry = COMMANDS.find((candidate) => candidate.name === topic);
      if (topic != null && entry == null) throw new UsageError(`unknown command "${topic}"`);
      io.stdout.write(`${entry != null ? (await entry.load()).help : mainHelp()}\n`);
      return EXIT_OK;
    }
    const entry = COMMANDS.find((candidate) => candidate.name === first);
    if (entry == null) {
      throw new UsageError(
        first.startsWith("-") ? `unknown option "${first}"` : `unknown command "${first}"`,
      );
    }
    return await (await entry.load()).run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error.command != null ? `osp ${error.command} --help` : "osp --help";
      io.stderr.write(
        `osp${error.command != null ? ` ${error.command}` : ""}: ${error.message}\n(see ${hint})\n`,
      );
      return EXIT_USAGE;
    }
    // An unexpected failure: the message, and the stack only when asked for.
    const detail = io.env.OSP_DEBUG
      ? ((error as Error)?.stack ?? String(error))
      : ((error as Error)?.message ?? String(error));
    io.stderr.write(
      `osp: ${detail}\n${io.env.OSP_DEBUG ? "" : "(set OSP_DEBUG=1 for the stack trace)\n"}`,
    );
    return EXIT_FAILURE;
  }
};
