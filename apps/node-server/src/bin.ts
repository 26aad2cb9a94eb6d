#!/usr/bin/env node
// osp-server [config-module]: loads a JS/MJS module whose default export is the configuration
// (or a function returning it, possibly async) and starts OSP. Prints the bound URLs.
import cluster from "node:cluster";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
// The package entry, not the modules: a config module that imports "@osp/node-server" (say, for
// enableRequestCounting) must share the module state of the server this binary starts.
import { loadDotenv, startServer, type ServerConfigInput } from "@osp/node-server";

const USAGE = `Usage: osp-server [config-module]

Starts the OSP S3 proxy. config-module is a JavaScript module (.mjs/.js) whose default export
is the configuration object, or a function (possibly async) returning it. Default:
./osp.config.mjs, then ./osp.config.js.

A .env file in the working directory is loaded first; it never overrides variables already set.
SIGTERM/SIGINT drain in-flight requests, then exit.

Options:
  -h, --help     show this help
  -v, --version  print the version`;

const DEFAULT_MODULES = ["osp.config.mjs", "osp.config.js"];

const version = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
};

const loadConfig = async (path: string): Promise<ServerConfigInput> => {
  const module = (await import(pathToFileURL(resolve(path)).href)) as {
    default?: unknown;
    config?: unknown;
  };
  let config = module.default ?? module.config;
  if (typeof config === "function") config = await (config as () => unknown)();
  if (typeof config !== "object" || config == null) {
    throw new Error(
      `${path}: the default export must be the configuration object or a function returning it`,
    );
  }
  return config as ServerConfigInput;
};

const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.includes("-v") || args.includes("--version")) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (args.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const path = args[0] ?? DEFAULT_MODULES.find((candidate) => existsSync(candidate));
  if (path == null) {
    process.stderr.write(
      `osp-server: no config module given and none of ${DEFAULT_MODULES.join(", ")} found\n\n${USAGE}\n`,
    );
    process.exitCode = 2;
    return;
  }
  // Before the config module runs: it may read variables that .env provides.
  loadDotenv(".env");
  const config = await loadConfig(path);
  const handle = await startServer(config);
  // In a worker the primary prints the addresses (OSP_CLUSTER_WORKER: see cluster.ts).
  if (cluster.isWorker && process.env.OSP_CLUSTER_WORKER === "1") return;
  for (const [name, address] of Object.entries({
    http: handle.http,
    https: handle.https,
    admin: handle.admin,
  })) {
    if (address != null) process.stdout.write(`osp-server ${name} ${address.url}\n`);
  }
};

main().catch((error: unknown) => {
  const problems = (error as { problems?: unknown }).problems;
  if (Array.isArray(problems)) {
    process.stderr.write(
      `osp-server: invalid configuration:\n${problems.map((problem) => `  - ${String(problem)}`).join("\n")}\n`,
    );
  } else {
    process.stderr.write(`osp-server: ${(error as Error)?.message ?? String(error)}\n`);
  }
  process.exit(1);
});
