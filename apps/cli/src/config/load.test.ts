import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigProblems, loadConfig, locateConfig } from "./load.ts";

const dir = mkdtempSync(join(tmpdir(), "osp-load-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return name;
};
const load = (configPath: string, env: Record<string, string | undefined> = {}) =>
  loadConfig({ configPath, cwd: dir, env, log: () => {}, dotenv: false });
const problemsOf = async (
  configPath: string,
  env: Record<string, string | undefined> = {},
): Promise<string[]> => {
  try {
    await load(configPath, env);
  } catch (error) {
    if (error instanceof ConfigProblems) return error.lines();
    throw error;
  }
  return [];
};

const BUCKET = {
  host: "127.0.0.1",
  port: 9000,
  tls: false,
  addressingStyle: "path",
  accessKey: "a",
  secretKey: "s",
};

describe("loadConfig", () => {
  it("loads JSON with ${ENV} and turns clientKeys.env into a secret lookup", async () => {
    const file = write(
      "env.json",
      JSON.stringify({
        httpPort: "${PORT}",
        cosMap: { b: { ...BUCKET, secretKey: "${SK}" } },
        clientKeys: { env: true },
      }),
    );
    const env = {
      PORT: "7000",
      SK: "backend-secret",
      C1_ACCESS_KEY: "AKC1",
      C1_SECRET_KEY: "client-secret",
    };
    const loaded = await load(file, env);
    expect(loaded.format).toBe("json");
    expect(loaded.resolved.settings.httpPort).toBe(7000);
    const bucket = loaded.resolved.proxyConfig.buckets.get("b")!;
    expect(bucket.credentials).toMatchObject({ kind: "hmac", accessKeyId: "a" });
    expect(await loaded.resolved.proxyConfig.hmacFetcher!("AKC1")).toBe("client-secret");
  });

  it("loads YAML with snake_case fields, static client keys and OSP_* overrides", async () => {
    const file = write(
      "proxy.yaml",
      "http_port: 6190\nthreads: 1\ncos_map:\n  b:\n    host: s3.example.com\n    api_key: ${KEY:-k-default}\nclientKeys:\n  static:\n    - {accessKey: AK1, secretKey: S1}\n",
    );
    const loaded = await load(file, { OSP_HTTP_PORT: "0", OSP_LOG_LEVEL: "warn" });
    expect(loaded.overrides).toEqual(["OSP_HTTP_PORT", "OSP_LOG_LEVEL"]);
    expect(loaded.resolved.settings).toMatchObject({ httpPort: 0, logLevel: "warn" });
    expect(loaded.resolved.proxyConfig.hmacKeystore.lookup("AK1")).toBe("S1");
    expect(loaded.resolved.proxyConfig.buckets.get("b")!.credentials.kind).toBe("api-key");
  });

  it("passes the backend timeouts of a file to the server, and refuses unusable ones", async () => {
    const file = write(
      "timeouts.yaml",
      "http_port: 0\nbackendHeadersTimeoutMs: 5000\nbackend_body_timeout_ms: 0\ncos_map:\n  b:\n    host: s3.example.com\n    api_key: k\nclientKeys:\n  static:\n    - {accessKey: AK1, secretKey: S1}\n",
    );
    const loaded = await load(file);
    expect(loaded.resolved.settings.backendTimeouts).toEqual({
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 0,
    });
    const bad = write(
      "bad-timeouts.json",
      JSON.stringify({
        httpPort: 0,
        backendKeepAliveTimeoutMs: 0,
        cosMap: { b: BUCKET },
        clientKeys: { static: [{ accessKey: "AK1", secretKey: "S1" }] },
      }),
    );
    const problems = await problemsOf(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("backendKeepAliveTimeoutMs");
  });

  it("loads a module exporting a function, with callbacks", async () => {
    const file = write(
      "osp.config.mjs",
      `export default async () => ({
        httpPort: 0,
        cosMap: { b: { host: "s3.example.com" } },
        hmacFetcher: (key) => (key === "AK" ? "secret" : undefined),
        bucketCredsFetcher: () => JSON.stringify({ access_key: "x", secret_key: "y" }),
        validator: { webhook: { url: "http://127.0.0.1:9/decide" } },
      });`,
    );
    const loaded = await load(file);
    expect(loaded.format).toBe("module");
    const config = loaded.resolved.proxyConfig;
    expect(await config.hmacFetcher!("AK")).toBe("secret");
    expect(await config.bucketCredsFetcher!("t", "b")).toContain("access_key");
    expect(typeof config.validator).toBe("function");
  });

  it("wires bucketCredentials and warns when its variables are unset", async () => {
    const file = write(
      "creds.json",
      JSON.stringify({
        httpPort: 0,
        cosMap: { b: { host: "h.example" } },
        bucketCredentials: { apiKeyEnv: "COS_API_KEY" },
      }),
    );
    const unset = await load(file);
    expect(unset.warnings).toContain(
      "bucketCredentials.apiKeyEnv: COS_API_KEY is not set; buckets without credentials will fail",
    );
    const set = await load(file, { COS_API_KEY: "api-key-1" });
    expect(await set.resolved.proxyConfig.bucketCredsFetcher!("t", "b")).toBe("api-key-1");
  });

  it("reports every problem of every stage, one line each, prefixed with the file", async () => {
    const file = write(
      "bad.json",
      JSON.stringify({ cosMap: { b: { host: "${NOPE}", tls: "maybe" } }, hmacFetcher: "lookup" }),
    );
    expect(await problemsOf(file, { OSP_THREADS: "x" })).toEqual([
      'bad.json: cosMap["b"].host: environment variable NOPE is not set',
      'bad.json: OSP_THREADS: must be an integer from 1 to 1024 (got "x")',
      "bad.json: hmacFetcher: a callback cannot be written in a JSON file; use clientKeys.env, or an osp.config.mjs",
      'bad.json: cosMap["b"].tls: must be true or false (got "maybe")',
    ]);
  });

  it("passes on what the server finds (ports, buckets without credentials)", async () => {
    const file = write("semantic.json", JSON.stringify({ cosMap: { b: { host: "h.example" } } }));
    const problems = await problemsOf(file);
    expect(problems).toContain(
      "semantic.json: httpPort/httpsPort: at least one of them is required",
    );
    expect(
      problems.some((line) => line.startsWith('semantic.json: cosMap["b"]: has no credentials')),
    ).toBe(true);
  });

  it("refuses combining a provider with the callback it replaces", async () => {
    const file = write(
      "both.mjs",
      `export default { httpPort: 0, cosMap: { b: { host: "h.example" } }, clientKeys: { env: true }, hmacFetcher: () => "s", bucketCredentials: { env: true }, bucketCredsFetcher: () => "k" };`,
    );
    expect(await problemsOf(file)).toEqual([
      "both.mjs: clientKeys.env: cannot be combined with an hmacFetcher function",
      "both.mjs: bucketCredentials: cannot be combined with a bucketCredsFetcher function",
    ]);
  });

  it("rejects unreadable files with one clear line", async () => {
    expect(await problemsOf(write("broken.json", "{ nope"))).toEqual([
      expect.stringMatching(/^broken\.json: not valid JSON: /),
    ]);
    expect(await problemsOf(write("list.yaml", "- a\n- b\n"))).toEqual([
      "list.yaml: the file must hold an object of settings (got a list)",
    ]);
    expect(
      await problemsOf(
        write("throws.mjs", "export default () => { throw new Error('no config for you'); };"),
      ),
    ).toEqual(["throws.mjs: the exported config function threw: no config for you"]);
    expect(await problemsOf(write("osp.config.toml", "x = 1"))).toEqual([
      "osp.config.toml: unknown file type: use .mjs, .js, .json, .yaml or .yml",
    ]);
    expect(await problemsOf("missing.json")).toEqual(["missing.json: file not found"]);
  });
});

describe("locateConfig", () => {
  it("discovers osp.config.* in order, and says what to do when there is none", () => {
    const empty = mkdtempSync(join(tmpdir(), "osp-locate-"));
    try {
      expect(() => locateConfig(undefined, empty)).toThrow(ConfigProblems);
      writeFileSync(join(empty, "osp.config.yaml"), "{}");
      expect(locateConfig(undefined, empty)).toBe(join(empty, "osp.config.yaml"));
      writeFileSync(join(empty, "osp.config.json"), "{}");
      expect(locateConfig(undefined, empty)).toBe(join(empty, "osp.config.json"));
      writeFileSync(join(empty, "osp.config.mjs"), "export default {}");
      expect(locateConfig(undefined, empty)).toBe(join(empty, "osp.config.mjs"));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
