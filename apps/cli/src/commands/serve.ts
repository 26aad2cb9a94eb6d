// osp serve: OSP from a configuration file.
import cluster from "node:cluster";
import { startServer } from "@osp/node-server";
import { expectPositionals, parseCommandArgs } from "../args.ts";
import { CONFIG_FILE_NAMES, ConfigProblems, loadConfig } from "../config/load.ts";
import type { ProviderLog } from "../config/providers.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../exit-codes.ts";
import type { CliIo, TextOutput } from "../io.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: osp serve [--config FILE]

Starts OSP from a configuration file. Without --config the first of these in the working
directory is used: ${CONFIG_FILE_NAMES.join(", ")}.

  .mjs / .js     a module whose default export is the configuration object (or a function,
                 possibly async, returning it). It may give callbacks: hmacFetcher(accessKey),
                 validator(token, bucket, request), bucketCredsFetcher(token, bucket).
                 TypeScript must be compiled first (Node 20 cannot import .ts):
                   npx esbuild osp.config.ts --outfile=osp.config.mjs --format=esm
  .json / .yaml  data only; built-in providers stand in for the callbacks:
                   clientKeys: {static: [{accessKey, secretKey}]} or {env: true}
                     (env: the variable <NAME>_ACCESS_KEY holding the key names <NAME>_SECRET_KEY)
                   validator: {webhook: {url, timeoutMs}}  (POST {token, bucket, request},
                     answer {"allow": true|false}; errors deny)
                   bucketCredentials: {env: {accessKeyVar, secretKeyVar}} or {apiKeyEnv: COS_API_KEY}
                 String values may use \${ENV_VAR} and \${ENV_VAR:-default}.
                 Editors validate against @osp/cli/config-schema.json ("$schema").

A .env file in the working directory is loaded first (never overriding set variables).
These environment variables override the file:
  OSP_HTTP_PORT, OSP_HTTPS_PORT, OSP_BIND_ADDRESS, OSP_THREADS, OSP_LOG_LEVEL,
  OSP_ENABLE_REQUEST_COUNTING

Logs are JSON lines on standard output; the listening addresses go to standard error.
SIGINT/SIGTERM drain in-flight requests, then exit (a second signal exits at once).

Options:
  -c, --config FILE   the configuration file
  -h, --help          show this help

Exit codes: 0 stopped by a signal, 1 could not start (e.g. port in use),
            2 invalid configuration (one line per problem, naming the field).`;

/** Writes provider warnings as JSON lines next to the server's own logs. */
export const jsonLog =
  (stream: TextOutput, name: string): ProviderLog =>
  (message, fields) => {
    stream.write(
      `${JSON.stringify({ level: "warn", time: new Date().toISOString(), pid: process.pid, log: name, ...fields, msg: message })}\n`,
    );
  };

/** Prints configuration problems, one line each; returns exit code 2. */
export const reportConfigProblems = (error: ConfigProblems, io: CliIo): number => {
  for (const line of error.lines()) io.stderr.write(`${line}\n`);
  return EXIT_USAGE;
};

/** `osp serve`. */
export const serveCommand: Command = {
  name: "serve",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs("serve", args, {
      config: { type: "string", short: "c" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    expectPositionals("serve", positionals, 0);
    const primary = !cluster.isWorker;
    let loaded;
    try {
      loaded = await loadConfig({
        ...(values.config != null ? { configPath: values.config } : {}),
        cwd: io.cwd,
        env: io.env,
        log: jsonLog(io.stdout, "validator"),
      });
    } catch (error) {
      if (error instanceof ConfigProblems) return reportConfigProblems(error, io);
      throw error;
    }
    if (primary) {
      for (const warning of loaded.warnings.filter(
        (item) => !loaded.resolved.warnings.includes(item),
      )) {
        io.stderr.write(`osp serve: warning: ${warning}\n`);
      }
    }
    let handle;
    try {
      handle = await startServer(loaded.input);
    } catch (error) {
      const problems = (error as { problems?: unknown }).problems;
      if (Array.isArray(problems))
        return reportConfigProblems(
          new ConfigProblems(loaded.displayPath, problems.map(String)),
          io,
        );
      io.stderr.write(`osp serve: ${(error as Error)?.message ?? String(error)}\n`);
      return EXIT_FAILURE;
    }
    if (primary) {
      const overrides =
        loaded.overrides.length > 0 ? ` (overridden by ${loaded.overrides.join(", ")})` : "";
      io.stderr.write(`osp serve: configuration ${loaded.displayPath}${overrides}\n`);
      for (const [name, address] of Object.entries({
        http: handle.http,
        https: handle.https,
        admin: handle.admin,
      })) {
        if (address != null) io.stderr.write(`osp serve: ${name} listening on ${address.url}\n`);
      }
    }
    // The server runs until SIGINT/SIGTERM, whose handler drains it and exits the process.
    return new Promise<number>(() => {});
  },
};
