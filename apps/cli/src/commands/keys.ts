// osp keys new: a client key pair for hmacKeystore, clientKeys.static or the environment lookup.
import { expectPositionals, parseCommandArgs } from "../args.ts";
import { EXIT_OK, UsageError } from "../exit-codes.ts";
import { generateKeyPair } from "../keys.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: osp keys new [--json | --env NAME]

Generates a client key pair from the operating system's random source:
an access key id of 20 upper-case letters and digits starting with "OSP" (like AWS's "AKIA…"),
and a 40-character secret (30 random bytes, base64).

Options:
  --json        print {"accessKeyId", "secretAccessKey"}
  --env NAME    print NAME_ACCESS_KEY=… and NAME_SECRET_KEY=… lines, the form the environment
                lookup (clientKeys: {env: true}) reads; e.g. --env CLIENT1
  -h, --help    show this help

Exit codes: 0 ok, 2 usage error.`;

/** `osp keys`. */
export const keysCommand: Command = {
  name: "keys",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs("keys", args, {
      json: { type: "boolean" },
      env: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    if (positionals[0] !== "new") {
      throw new UsageError(
        positionals.length === 0
          ? "missing sub-command: osp keys new"
          : `unknown sub-command "${positionals[0]}"`,
        "keys",
      );
    }
    expectPositionals("keys", positionals, 1);
    if (values.json && values.env != null)
      throw new UsageError("--json and --env exclude each other", "keys");
    if (values.env != null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(values.env)) {
      throw new UsageError(
        `--env must be a variable name prefix like CLIENT1 (got "${values.env}")`,
        "keys",
      );
    }
    const pair = generateKeyPair();
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey })}\n`,
      );
    } else if (values.env != null) {
      const prefix = values.env.replace(/_+$/, "");
      io.stdout.write(
        `${prefix}_ACCESS_KEY=${pair.accessKeyId}\n${prefix}_SECRET_KEY=${pair.secretAccessKey}\n`,
      );
    } else {
      io.stdout.write(
        `access key id:      ${pair.accessKeyId}\nsecret access key:  ${pair.secretAccessKey}\n`,
      );
    }
    return EXIT_OK;
  },
};
