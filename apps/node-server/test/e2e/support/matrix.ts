import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_RESULTS_DIR } from "./paths.ts";

/** The outcome of one operation for one client × backend. */
export type CellOutcome = "pass" | "fail" | "backend-limitation";

interface CellRecord {
  row: string;
  column: string;
  outcome: CellOutcome;
  note?: string;
}

interface SourceRecord {
  finishedAt: string;
  cells: CellRecord[];
  notes: string[];
}

interface MatrixFile {
  sources: Record<string, SourceRecord>;
}

const JSON_PATH = join(TEST_RESULTS_DIR, "e2e-matrix.json");
const MARKDOWN_PATH = join(TEST_RESULTS_DIR, "e2e-matrix.md");
const SYMBOLS: Record<CellOutcome, string> = { pass: "✓", fail: "✗", "backend-limitation": "⚠" };

/**
 * Collects the client × operation results of one test file. Vitest runs each file in its own
 * worker, so files cannot share memory: {@link flush} merges this file's results into
 * .test-results/e2e-matrix.json (replacing what the same file wrote in an earlier run) and
 * re-renders .test-results/e2e-matrix.md from everything there. E2E files run one at a time.
 */
export class MatrixRecorder {
  private readonly cells: CellRecord[] = [];
  private readonly notes: string[] = [];

  constructor(private readonly source: string) {}

  /** Records one cell; the first failure of a cell wins over a later pass of the same cell. */
  record(row: string, column: string, outcome: CellOutcome, note?: string): void {
    const existing = this.cells.find((cell) => cell.row === row && cell.column === column);
    if (existing == null)
      this.cells.push({ row, column, outcome, ...(note != null ? { note } : {}) });
    else if (existing.outcome === "pass") Object.assign(existing, { outcome, note });
  }

  /** A footnote under the table (backend limitations, skipped cases and why). */
  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Writes the merged JSON and Markdown; returns the Markdown. */
  flush(): string {
    mkdirSync(TEST_RESULTS_DIR, { recursive: true });
    let merged: MatrixFile = { sources: {} };
    try {
      merged = JSON.parse(readFileSync(JSON_PATH, "utf8")) as MatrixFile;
    } catch {
      // First file of the first run, or an unreadable leftover: start over.
    }
    merged.sources[this.source] = {
      finishedAt: new Date().toISOString(),
      cells: this.cells,
      notes: this.notes,
    };
    writeFileSync(JSON_PATH, `${JSON.stringify(merged, null, 2)}\n`);
    const markdown = renderMatrix(merged);
    writeFileSync(MARKDOWN_PATH, markdown);
    return markdown;
  }
}

const CLIENT_ORDER = ["SDK", "aws-cli", "boto3"];

/** Columns grouped by backend (first seen first), then SDK, aws-cli, boto3, then any other client. */
function orderColumns(columns: string[]): string[] {
  const backendOf = (column: string) => column.split(" · ").slice(1).join(" · ");
  const clientRank = (column: string) => {
    const rank = CLIENT_ORDER.indexOf(column.split(" · ")[0]!);
    return rank === -1 ? CLIENT_ORDER.length : rank;
  };
  const backends = [...new Set(columns.map(backendOf))];
  return [...columns].sort(
    (a, b) =>
      backends.indexOf(backendOf(a)) - backends.indexOf(backendOf(b)) ||
      clientRank(a) - clientRank(b),
  );
}

/** Renders one row per operation (first-seen order) and one column per client × backend. */
export function renderMatrix(file: MatrixFile): string {
  const sources = Object.entries(file.sources).sort(([a], [b]) => a.localeCompare(b));
  const rows: string[] = [];
  const columns: string[] = [];
  const outcome = new Map<string, CellRecord>();
  for (const [, source] of sources) {
    for (const cell of source.cells) {
      if (!rows.includes(cell.row)) rows.push(cell.row);
      if (!columns.includes(cell.column)) columns.push(cell.column);
      outcome.set(`${cell.row}\u0000${cell.column}`, cell);
    }
  }
  const escape = (text: string) => text.replace(/\|/g, "\\|");
  columns.splice(0, columns.length, ...orderColumns(columns));
  const lines = [
    "# OSP end-to-end client × operation matrix",
    "",
    "✓ passed · ✗ failed · ⚠ backend limitation (the backend, not OSP; see notes) · — not applicable",
    "",
    `| Operation | ${columns.map(escape).join(" | ")} |`,
    `| --- | ${columns.map(() => ":---:").join(" | ")} |`,
    ...rows.map((row) => {
      const cells = columns.map((column) => {
        const cell = outcome.get(`${row}\u0000${column}`);
        return cell == null ? "—" : SYMBOLS[cell.outcome];
      });
      return `| ${escape(row)} | ${cells.join(" | ")} |`;
    }),
    "",
  ];
  const notes = sources.flatMap(([, source]) => [
    ...source.notes,
    ...source.cells
      .filter((cell) => cell.note != null)
      .map((cell) => `${cell.row} [${cell.column}]: ${cell.note}`),
  ]);
  if (notes.length > 0)
    lines.push("Notes:", "", ...[...new Set(notes)].map((note) => `- ${note}`), "");
  lines.push(
    "Sources: " + sources.map(([name, source]) => `${name} (${source.finishedAt})`).join(", "),
    "",
  );
  return lines.join("\n");
}
