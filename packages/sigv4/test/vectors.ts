// Loads ../shared/sigv4-vectors for the signing and verification tests. A missing folder is an
// error, never a skip: CI must not go green without the conformance data.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RawRequest } from "../src/types.ts";

const findRepoRoot = (start: string): string => {
  let dir = start;
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
  return dir;
};

/** `$OSP_SIGV4_VECTORS`, else `<repo>/../shared/sigv4-vectors`; throws when it is missing. */
export const vectorsDir = (): string => {
  const fromEnv = process.env.OSP_SIGV4_VECTORS;
  const dir =
    fromEnv !== undefined && fromEnv !== ""
      ? resolve(fromEnv)
      : resolve(findRepoRoot(dirname(fileURLToPath(import.meta.url))), "../shared/sigv4-vectors");
  if (!existsSync(join(dir, "aws-c-auth-v4")) || !existsSync(join(dir, "s3-docs-examples.json"))) {
    throw new Error(
      `SigV4 conformance vectors not found at ${dir}. Set OSP_SIGV4_VECTORS to the sigv4-vectors folder (see ../shared/sigv4-vectors/README.md); the vector tests fail rather than skip without them.`,
    );
  }
  return dir;
};

export const sha256Hex = (text: string): string =>
  createHash("sha256").update(text, "utf8").digest("hex");

export interface ParsedHttp extends RawRequest {
  readonly headers: Array<[string, string]>;
  readonly body: string;
}

/**
 * Parses a stored request: the request line is split at its first and last space (targets may
 * hold spaces), obs-fold continuation lines are kept on the previous value after a LF (the
 * canonicaliser folds them), the body follows the first empty line.
 */
export const parseHttp = (text: string): ParsedHttp => {
  const lines = text.split("\n");
  const requestLine = lines[0]!;
  const method = requestLine.slice(0, requestLine.indexOf(" "));
  const target = requestLine.slice(requestLine.indexOf(" ") + 1, requestLine.lastIndexOf(" "));
  const question = target.indexOf("?");
  const headers: Array<[string, string]> = [];
  let index = 1;
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === "") break;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      const last = headers.at(-1)!;
      last[1] = `${last[1]}\n${line}`;
      continue;
    }
    const colon = line.indexOf(":");
    headers.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return {
    method,
    path: question < 0 ? target : target.slice(0, question),
    query: question < 0 ? "" : target.slice(question + 1),
    headers,
    body: lines.slice(index + 1).join("\n"),
  };
};

export const readText = (...parts: string[]): string =>
  readFileSync(join(vectorsDir(), ...parts), "utf8");

export interface AwsCAuthContext {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  expiration_in_seconds: number;
  normalize: boolean;
  region: string;
  service: string;
  sign_body: boolean;
  timestamp: string;
  omit_session_token?: boolean;
}

export interface AwsCAuthCase {
  name: string;
  context: AwsCAuthContext;
  request: ParsedHttp;
  file: (name: string) => string;
}

export const awsCAuthCases = (): AwsCAuthCase[] => {
  const root = join(vectorsDir(), "aws-c-auth-v4");
  return readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((name) => {
      const file = (fileName: string) => readFileSync(join(root, name, fileName), "utf8");
      return {
        name,
        context: JSON.parse(file("context.json")) as AwsCAuthContext,
        request: parseHttp(file("request.txt")),
        file,
      };
    });
};

export interface LegacyCase {
  name: string;
  request: ParsedHttp;
  file: (extension: "creq" | "sts" | "authz" | "sreq") => string;
}

export const legacyCases = (): LegacyCase[] => {
  const root = join(vectorsDir(), "aws-sig-v4-test-suite");
  const found: LegacyCase[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".req")) {
        const base = path.slice(0, -".req".length);
        found.push({
          name: entry.slice(0, -".req".length),
          request: parseHttp(readFileSync(path, "utf8")),
          file: (extension) => readFileSync(`${base}.${extension}`, "utf8"),
        });
      }
    }
  };
  walk(root);
  return found;
};

export interface DocsRequest {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: string | null;
}

export interface DocsExample {
  id: string;
  request: DocsRequest;
  canonical_request: string;
  string_to_sign: string;
  signature: string;
  signed_headers: string;
  authorization?: string;
  expires_in_seconds?: number;
  payload_hash?: string;
  url?: string;
  seed_signature?: string;
}

export interface DocsExamples {
  common: {
    credentials: { access_key_id: string; secret_access_key: string };
    region: string;
    service: string;
    timestamp: string;
    amz_date: string;
    signing_key_hex: string;
  };
  header_single_chunk: DocsExample[];
  presigned_url: DocsExample[];
  chunked_upload: DocsExample;
  chunked_upload_with_trailer: DocsExample;
}

export const docsExamples = (): DocsExamples =>
  JSON.parse(readText("s3-docs-examples.json")) as DocsExamples;

/** The raw request of an S3 docs example. */
export const docsRequest = (example: DocsExample): RawRequest => {
  const target = example.request.target;
  const question = target.indexOf("?");
  return {
    method: example.request.method,
    path: question < 0 ? target : target.slice(0, question),
    query: question < 0 ? "" : target.slice(question + 1),
    headers: example.request.headers.map(([name, value]) => [name, value] as [string, string]),
  };
};

/** Header multiset in comparable form: lower-case names, values as given, sorted. */
export const headerSet = (headers: RawRequest["headers"]): string[] =>
  headers.map(([name, value]) => `${name.toLowerCase()}:${value}`).sort();

/** Query multiset: raw `name=value` pieces, sorted. */
export const querySet = (query: string): string[] =>
  query
    .split("&")
    .filter((piece) => piece !== "")
    .sort();
