import { it } from "vitest";
import type { MatrixRecorder } from "./matrix.ts";

/** How a test tells a backend crash from a proxy failure, and brings the backend back. */
export interface BackendWatch {
  readonly name: string;
  answers(): Promise<boolean>;
  restart(): Promise<void>;
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 200);

/**
 * Registers one test that is also one cell of the client × operation matrix.
 * A failure is a failure (✗) — unless the backend stopped answering meanwhile: then the backend
 * is restarted and the case is skipped with a note, as a backend limitation (⚠), not blamed on OSP.
 */
export function cellTest(
  matrix: MatrixRecorder,
  row: string,
  column: string,
  body: () => Promise<void>,
  watch?: () => BackendWatch | undefined,
): void {
  it(`${row} [${column}]`, async (context) => {
    try {
      await body();
      matrix.record(row, column, "pass");
    } catch (error) {
      const backend = watch?.();
      if (backend != null && !(await backend.answers())) {
        await backend.restart();
        const note = `${backend.name} stopped answering during this case (restarted): ${firstLine(error)}`;
        matrix.record(row, column, "backend-limitation", note);
        context.skip(note);
      }
      matrix.record(row, column, "fail");
      throw error;
    }
  });
}
