// `${ENV_VAR}` in string values of JSON/YAML configs: `${NAME}` (must be set), `${NAME:-default}`
// (default when unset or empty), and `$${` for a literal `${`. Keys are never interpolated.
import { formatPath } from "./path.ts";

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME_WITH_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/** The result of {@link interpolateEnv}: the new value, and one message per unresolved reference. */
export interface Interpolated {
  readonly value: unknown;
  readonly problems: string[];
}

const interpolateString = (
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: ReadonlyArray<PropertyKey>,
  problems: string[],
): string => {
  if (!text.includes("${")) return text;
  const out = text.replace(REFERENCE, (match, inner: string | undefined) => {
    if (match === "$${") return "${";
    const reference = NAME_WITH_DEFAULT.exec(inner ?? "");
    if (reference == null) {
      problems.push(
        `${formatPath(path)}: "\${${inner}}" is not a variable reference (use \${NAME} or \${NAME:-default})`,
      );
      return match;
    }
    const [, name, fallback] = reference;
    const value = env[name!];
    if (value != null && value !== "") return value;
    if (fallback != null) return fallback;
    problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
    return match;
  });
  if (/(^|[^$])\$\{[^}]*$/.test(text))
    problems.push(`${formatPath(path)}: "\${" without a closing "}"`);
  return out;
};

/** Replaces `${…}` references in every string of `value` (objects and arrays walked). */
export const interpolateEnv = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): Interpolated => {
  const problems: string[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === "string") return interpolateString(node, env, path, problems);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node != null && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]),
      );
    }
    return node;
  };
  return { value: walk(value, []), problems };
};
