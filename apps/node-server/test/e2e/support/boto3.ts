import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cleanClientEnv } from "./aws-cli.ts";

/** Debian's interpreter, which has python3-boto3; a pyenv python3 earlier on PATH does not. */
export const SYSTEM_PYTHON_PATH = "/usr/bin/python3";

const DRIVER_PATH = fileURLToPath(new URL("./boto3_driver.py", import.meta.url));

/** How the boto3 client is built: endpoint, credentials, and the TLS check. */
export interface Boto3ClientSpec {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** true (system CAs), false (no check), or a CA bundle path. */
  verify?: boolean | string;
}

/** An S3 error as boto3 reported it. */
export class Boto3ServiceError extends Error {
  override readonly name = "Boto3ServiceError";
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`boto3: ${status} ${code}: ${message}`);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: { code: string; status: number; message: string | null };
  crash?: string;
}

/** One long-lived boto3_driver.py process: one boto3 client, one operation at a time per call. */
export interface Boto3Session {
  call<T = Record<string, unknown>>(
    op: string,
    args?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts boto3_driver.py with Debian's python3. A call that exceeds its timeout kills the process
 * (every later call then fails): a hung client must fail the test, not stall the lane.
 */
export function openBoto3Session(client: Boto3ClientSpec): Boto3Session {
  const child: ChildProcessWithoutNullStreams = spawn(SYSTEM_PYTHON_PATH, [DRIVER_PATH], {
    env: cleanClientEnv(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stderr = "";
  let exited = false;
  const failAll = (error: Error) => {
    for (const [id, waiter] of pending) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
      pending.delete(id);
    }
  };
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4_000);
  });
  child.on("exit", (code, signal) => {
    exited = true;
    failAll(new Error(`boto3 driver exited (${signal ?? code}): ${stderr}`));
  });
  child.on("error", (error) => failAll(error));
  child.stdin.on("error", () => {
    // Reported through "exit".
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const reply = JSON.parse(line) as Reply;
    const waiter = pending.get(reply.id);
    if (waiter == null) return;
    pending.delete(reply.id);
    clearTimeout(waiter.timer);
    if (reply.error != null) {
      waiter.reject(
        new Boto3ServiceError(reply.error.code, reply.error.status, reply.error.message ?? ""),
      );
    } else if (reply.crash != null) {
      waiter.reject(new Error(`boto3: ${reply.crash}`));
    } else {
      waiter.resolve(reply.result);
    }
  });
  child.stdin.write(`${JSON.stringify(client)}\n`);

  return {
    call<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`boto3 driver is not running: ${stderr}`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`boto3 ${op} timed out after ${timeoutMs} ms`));
          child.kill("SIGKILL");
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
        child.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
      });
    },
    async close() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await done;
      clearTimeout(timer);
    },
  };
}
