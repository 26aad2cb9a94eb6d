// zod issues → one line per problem naming the field path, with a "did you mean" for typos.
import type { z } from "zod";
import { describeValue, formatPath, isSecretPath } from "./path.ts";

type AnySchema = z.ZodType;

interface SchemaInternals {
  _zod: { def: Record<string, unknown> & { type: string } };
}

const unwrap = (schema: unknown): SchemaInternals | undefined => {
  let current = schema as SchemaInternals | undefined;
  for (let depth = 0; current != null && depth < 16; depth += 1) {
    const def = current._zod?.def;
    if (def == null) return undefined;
    if (def.type === "optional" || def.type === "nullable" || def.type === "default")
      current = def.innerType as SchemaInternals;
    else if (def.type === "pipe") current = def.in as SchemaInternals;
    else return current;
  }
  return current;
};

/** The field names an object schema accepts at `path`, or `[]`. */
export const knownKeysAt = (schema: AnySchema, path: ReadonlyArray<PropertyKey>): string[] => {
  let candidates: SchemaInternals[] = [unwrap(schema)].filter((item) => item != null);
  for (const segment of path) {
    const next: SchemaInternals[] = [];
    for (const candidate of candidates) {
      const def = candidate._zod.def;
      if (def.type === "object") {
        const child = (def.shape as Record<string, unknown>)[String(segment)];
        if (child != null) next.push(unwrap(child)!);
      } else if (def.type === "record") next.push(unwrap(def.valueType)!);
      else if (def.type === "array") next.push(unwrap(def.element)!);
      else if (def.type === "union") {
        for (const option of def.options as unknown[]) {
          const inner = unwrap(option);
          if (inner?._zod.def.type === "object") {
            const child = (inner._zod.def.shape as Record<string, unknown>)[String(segment)];
            if (child != null) next.push(unwrap(child)!);
          }
        }
      }
    }
    candidates = next.filter((item) => item != null);
  }
  const keys = new Set<string>();
  for (const candidate of candidates) {
    const def = candidate._zod.def;
    const objects =
      def.type === "object"
        ? [candidate]
        : def.type === "union"
          ? (def.options as unknown[])
              .map(unwrap)
              .filter((option) => option?._zod.def.type === "object")
          : [];
    for (const object of objects)
      for (const key of Object.keys(object!._zod.def.shape as object)) keys.add(key);
  }
  return [...keys];
};

const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
};

/** The known key closest to `key` (case-insensitive, at most a third of its letters off). */
export const suggestKey = (key: string, known: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
};

const SHOW_INPUT = new Set([
  "invalid_type",
  "invalid_union",
  "invalid_value",
  "too_big",
  "too_small",
  "invalid_format",
]);

/** One message line per problem (an unknown-keys issue gives one line per key). */
export const formatIssues = (issues: readonly z.core.$ZodIssue[], schema: AnySchema): string[] => {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const suggestion = suggestKey(key, known);
        lines.push(
          `${formatPath([...path, key])}: unknown field${suggestion != null ? ` (did you mean "${suggestion}"?)` : ""}`,
        );
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      // A map key (a bucket name) failed: the nested issue says why.
      lines.push(`${formatPath(path)}: ${issue.issues[0]?.message ?? issue.message}`);
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    if (issue.code === "invalid_type" && input === undefined) {
      lines.push(`${formatPath(path)}: is required`);
      continue;
    }
    const shown =
      SHOW_INPUT.has(issue.code) && "input" in issue
        ? isSecretPath(path) && typeof input === "string"
          ? " (got a string)"
          : ` (got ${describeValue(input)})`
        : "";
    lines.push(`${formatPath(path)}: ${issue.message}${shown}`);
  }
  return lines;
};
