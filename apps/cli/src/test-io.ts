// A CliIo for unit tests: output captured in strings, environment and clock given.
import type { CliIo, TextOutput } from "./io.ts";

/** A captured output stream. */
export interface CapturedOutput extends TextOutput {
  readonly text: string;
}

/** A {@link TextOutput} that keeps what is written. */
export const capture = (isTTY = false): CapturedOutput => {
  let text = "";
  return {
    isTTY,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
};

/** A test io: no terminal, an empty environment unless given, a fixed clock. */
export const testIo = (
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    homeDir?: string;
    now?: number;
    stdin?: string;
  } = {},
) => {
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = {
    stdout,
    stderr,
    stdin: (async function* () {
      if (options.stdin != null) yield new TextEncoder().encode(options.stdin);
    })(),
    env: options.env ?? {},
    cwd: options.cwd ?? "/nonexistent-osp-cwd",
    homeDir: options.homeDir ?? "/nonexistent-osp-home",
    now: () => options.now ?? Date.UTC(2025, 0, 31, 12, 0, 0),
  };
  return { io, stdout, stderr };
};
