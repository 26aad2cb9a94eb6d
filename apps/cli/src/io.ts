// The process seen through one small interface, so that commands run the same in the binary and
// in unit tests (where the streams are buffers and the environment is a plain object).
import { homedir } from "node:os";

/** A text sink: `process.stdout`, `process.stderr` or a test double. */
export interface TextOutput {
  write(text: string): unknown;
  /** True when a terminal is attached (colours and progress lines only then). */
  readonly isTTY?: boolean;
}

/** What a command may use of the process. */
export interface CliIo {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /** Standard input as bytes (`osp verify -`). */
  readonly stdin: AsyncIterable<Uint8Array | string>;
  /** Environment variables; the live `process.env` in the binary. */
  readonly env: Record<string, string | undefined>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** Where `~/.aws` lives. */
  readonly homeDir: string;
  /** Clock, epoch milliseconds. */
  readonly now: () => number;
}

/** The real process. */
export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  homeDir: homedir(),
  now: Date.now,
});

/** Reads a whole stream into one byte array. */
export const readAll = async (stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }
  return Buffer.concat(chunks);
};
