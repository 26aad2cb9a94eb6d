import { spawn } from "node:child_process";

/** What a finished child process printed and how it ended. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the child's standard input, which is then closed. */
  input?: string;
  /** The child is killed (SIGKILL) after this long and the promise rejects. */
  timeoutMs: number;
}

/** Raised when a command exits non-zero or times out; carries the output for the test report. */
export class CommandError extends Error {
  override readonly name = "CommandError";
  constructor(
    message: string,
    readonly result: CommandResult,
  ) {
    super(message);
  }
}

const MAX_OUTPUT_CHARS = 4_000;
const tail = (text: string): string =>
  text.length > MAX_OUTPUT_CHARS ? `…${text.slice(-MAX_OUTPUT_CHARS)}` : text;

/**
 * Runs a program without a shell (arguments are never re-parsed), with a hard timeout.
 * Resolves on exit code 0; rejects with {@link CommandError} otherwise, so a failed client
 * call fails the test with the client's own error text.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: CommandResult = {
        exitCode: code ?? -1,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        durationMs: performance.now() - startedAt,
      };
      if (timedOut) {
        reject(
          new CommandError(
            `${file} timed out after ${options.timeoutMs} ms: ${tail(result.stderr)}`,
            result,
          ),
        );
      } else if (code !== 0) {
        const how = signal != null ? `signal ${signal}` : `exit code ${code}`;
        reject(
          new CommandError(
            `${file} ${args.slice(0, 3).join(" ")} … failed (${how}):\n${tail(result.stderr || result.stdout)}`,
            result,
          ),
        );
      } else {
        resolve(result);
      }
    });
    child.stdin.on("error", () => {
      // The child may exit before reading its input; its exit code tells what happened.
    });
    child.stdin.end(options.input ?? "");
  });
}
