// A small `.env` reader: KEY=VALUE lines, `export` prefix, comments, single quotes (literal),
// double quotes (escapes, may span lines). Like the predecessor's `dotenv()`, it never overrides
// a variable that is already set, so the real environment always wins.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  '"': '"',
  "\\": "\\",
  $: "$",
};

/**
 * Parses `.env` text into variables. Lines that are not `KEY=VALUE` are skipped; their 1-based
 * line numbers are returned in `invalidLines` (never their content, which may hold a secret).
 * @public
 */
export const parseDotenv = (
  text: string,
): { variables: Record<string, string>; invalidLines: number[] } => {
  const variables: Record<string, string> = {};
  const invalidLines: number[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const lineNumber = index + 1;
    const line = lines[index]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const assignment = line.replace(/^export\s+/, "");
    const equals = assignment.indexOf("=");
    if (equals <= 0) {
      invalidLines.push(lineNumber);
      continue;
    }
    const key = assignment.slice(0, equals).trim();
    if (!KEY.test(key)) {
      invalidLines.push(lineNumber);
      continue;
    }
    let rest = assignment.slice(equals + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === "`") {
      // A quoted value may continue on the next lines until its closing quote.
      let body = rest.slice(1);
      let close = findClosingQuote(body, quote);
      while (close < 0 && index + 1 < lines.length) {
        index += 1;
        body += `\n${lines[index]!}`;
        close = findClosingQuote(body, quote);
      }
      if (close < 0) {
        invalidLines.push(lineNumber);
        continue;
      }
      const raw = body.slice(0, close);
      variables[key] =
        quote === '"'
          ? raw.replace(/\\(.)/g, (_, c: string) => DOUBLE_QUOTE_ESCAPES[c] ?? `\\${c}`)
          : raw;
      continue;
    }
    // Unquoted: an inline comment starts at " #".
    const comment = rest.search(/\s#/);
    if (comment >= 0) rest = rest.slice(0, comment);
    variables[key] = rest.trim();
  }
  return { variables, invalidLines };
};

const findClosingQuote = (text: string, quote: string): number => {
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === "\\" && quote === '"') {
      i += 1;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
};

/** What {@link loadDotenv} did. @public */
export interface DotenvResult {
  /** Absolute path of the file read. */
  path: string;
  /** False when the file does not exist. */
  found: boolean;
  /** Names set from the file (never their values). */
  applied: string[];
  /** Names present in the file but left alone because the environment already had them. */
  kept: string[];
  invalidLines: number[];
}

/**
 * Loads a `.env` file into `env` (default `process.env`) without overriding variables already
 * set. A missing file is not an error.
 * @public
 */
export const loadDotenv = (
  path = ".env",
  env: Record<string, string | undefined> = process.env,
): DotenvResult => {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { path: absolute, found: false, applied: [], kept: [], invalidLines: [] };
    }
    throw new Error(
      `cannot read ${absolute}: ${(error as NodeJS.ErrnoException).code ?? "unknown error"}`,
    );
  }
  const { variables, invalidLines } = parseDotenv(text);
  const applied: string[] = [];
  const kept: string[] = [];
  for (const [key, value] of Object.entries(variables)) {
    if (env[key] !== undefined) {
      kept.push(key);
      continue;
    }
    env[key] = value;
    applied.push(key);
  }
  return { path: absolute, found: true, applied, kept, invalidLines };
};
