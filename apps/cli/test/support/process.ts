// The built `osp` as a child process: output captured, waits bounded, always killed at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { CLI_BIN } from "./build.ts";

/** A running `osp`. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), rejects after `timeoutMs`. */
  waitFor(
    pattern: RegExp,
    options?: { stream?: "stdout" | "stderr"; timeoutMs?: number },
  ): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name) once the process ended; bounded. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running. */
  kill(): void;
}

const running = new Set<ChildProcess>();

/** Starts `node dist/main.js ...args`. */
export const startCli = (
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): CliProcess => {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
    for (const listener of listeners) listener();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      // Let the last output arrive.
      setImmediate(() => {
        for (const listener of listeners) listener();
        resolve({ code, signal });
      });
    });
  });
  if (options.input != null) child.stdin!.end(options.input);
  else child.stdin!.end();
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, { stream, timeoutMs = 20_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const text = stream === "stderr" ? err : stream === "stdout" ? out : `${out}\n${err}`;
          const match = pattern.exec(text);
          if (match == null) return false;
          finish();
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`timed out waiting for ${pattern}\n--- stdout:\n${out}\n--- stderr:\n${err}`),
          );
        }, timeoutMs);
        const onExit = () => {
          if (!check()) {
            finish();
            reject(
              new Error(`osp exited before ${pattern}\n--- stdout:\n${out}\n--- stderr:\n${err}`),
            );
          }
        };
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off("exit", onExit);
        };
        const listener = () => void check();
        listeners.add(listener);
        if (child.exitCode != null) setImmediate(onExit);
        else child.once("exit", onExit);
        check();
      });
    },
    exited(timeoutMs = 20_000) {
      return Promise.race([
        exit,
        new Promise<never>((_, reject) =>
          setTimeout(
            () =>
              reject(
                new Error(
                  `osp did not exit within ${timeoutMs} ms\n--- stdout:\n${out}\n--- stderr:\n${err}`,
                ),
              ),
            timeoutMs,
          ).unref(),
        ),
      ]);
    },
    kill() {
      if (child.exitCode == null && child.signalCode == null) child.kill("SIGKILL");
    },
  };
};

/** Runs `osp ...args` to completion (bounded) and returns its exit code and output. */
export const runCliProcess = async (
  args: readonly string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    input?: string;
    timeoutMs?: number;
  } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> => {
  const cli = startCli(args, options);
  try {
    const { code } = await cli.exited(options.timeoutMs ?? 20_000);
    return { code, stdout: cli.stdout(), stderr: cli.stderr() };
  } finally {
    cli.kill();
  }
};

/** Kills every child still running (afterAll safety net). */
export const killAllCli = (): void => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
};
