// Field paths in messages, written the way the core writes them: cosMap["bucket"].port,
// hmacKeystore[0].secretKey.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Maps whose keys are names chosen by the user: always shown quoted.
const MAPS = new Set(["cosMap", "cos_map", "headers"]);

/** `["cosMap", "b", "port"]` → `cosMap["b"].port`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = "";
  let previous: PropertyKey | undefined;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const name = String(segment);
      if (IDENTIFIER.test(name) && !(typeof previous === "string" && MAPS.has(previous))) {
        out += out === "" ? name : `.${name}`;
      } else out += `[${JSON.stringify(name)}]`;
    }
    previous = segment;
  }
  return out === "" ? "(top level)" : out;
};

// Field names whose values are never repeated in a message.
const SECRET_FIELD = /secret|api_?key|password|token|authorization|tls_?key|private/i;

/** True when the last named segment of `path` may hold a secret (`apiKeyEnv` names one: no). */
export const isSecretPath = (path: ReadonlyArray<PropertyKey>): boolean => {
  const last = [...path]
    .reverse()
    .find((segment): segment is string => typeof segment === "string");
  return last != null && SECRET_FIELD.test(last) && !/(Env|Var)$/.test(last);
};

/** A short description of a value for a message: strings quoted (cut), others by type. */
export const describeValue = (value: unknown): string => {
  if (value == null) return value === undefined ? "nothing" : "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "function") return "a function";
  return `an ${typeof value}`;
};
