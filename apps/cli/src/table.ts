// Plain-text tables (osp check) and a progress line that only a terminal sees.
import type { TextOutput } from "./io.ts";
import { visibleLength } from "./style.ts";

/** Renders rows under a header, columns padded to the widest cell; the last column unpadded. */
export const renderTable = (
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string => {
  const widths = header.map((title, column) =>
    Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ""))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : cell + " ".repeat(widths[column]! - visibleLength(cell)),
      )
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
};

/** A one-line progress indicator rewritten in place on a terminal; silent elsewhere. */
export interface Progress {
  update(text: string): void;
  done(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A {@link Progress} on `stream` (normally stderr), active only when it is a terminal. */
export const createProgress = (stream: TextOutput): Progress => {
  if (stream.isTTY !== true) return { update: () => {}, done: () => {} };
  let frame = 0;
  let shown = false;
  return {
    update(text) {
      frame = (frame + 1) % FRAMES.length;
      stream.write(`\r\u001b[2K${FRAMES[frame]} ${text}`);
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\u001b[2K");
      shown = false;
    },
  };
};
