// osp check: is the configuration valid, and can OSP reach every bucket with its credentials?
// One signed HEAD bucket per bucket (bearer token for API keys), shown as a table.
import { rootCertificates } from "node:tls";
import { parseFetchedCredentials, upstreamTarget, type BucketConfig } from "@osp/core";
import { createIbmIamTokenProvider } from "@osp/ibm-iam";
import { EMPTY_SHA256, signRequest } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { expectPositionals, parseCommandArgs } from "../args.ts";
import { ConfigProblems, loadConfig, type LoadedConfig } from "../config/load.ts";
import { durationOption } from "../duration.ts";
import { EXIT_FAILURE, EXIT_OK } from "../exit-codes.ts";
import { HttpError, httpRequest } from "../http.ts";
import { colourEnabled, createStyle, type Style } from "../style.ts";
import { createProgress, renderTable } from "../table.ts";
import type { Command } from "./command.ts";
import { jsonLog, reportConfigProblems } from "./serve.ts";

const HELP = `Usage: osp check [--config FILE] [options]

Validates the configuration (as osp serve would), then for every bucket resolves the backend
credentials (static, or through the configured provider or bucketCredsFetcher; an API key is
exchanged for an IAM bearer token) and sends a signed HEAD bucket request to the backend.
Prints a table: bucket, backend, credentials, result, time.

Options:
  -c, --config FILE   the configuration file (default: discovered as osp serve does)
  --bucket NAME       check only this bucket (repeatable)
  --token ID          the client access key passed to bucketCredsFetcher; default "osp-check"
  --timeout T         per bucket; default 10s
  -h, --help          show this help

Exit codes: 0 every bucket answered 200, 1 at least one failed, 2 invalid configuration.`;

/** One row of the table. */
export interface BucketCheck {
  readonly bucket: string;
  readonly backend: string;
  readonly credentials: string;
  readonly ok: boolean;
  readonly result: string;
  readonly durationMs: number;
}

const STATUS_HINTS: Readonly<Record<number, string>> = {
  301: "wrong endpoint or region",
  307: "redirected: wrong endpoint or region",
  400: "bad request (region?)",
  401: "credentials refused",
  403: "credentials refused or no access to the bucket",
  404: "no such bucket at the backend",
};

const describeHttpError = (error: unknown): string => {
  if (error instanceof HttpError)
    return error.code === "ETIMEDOUT"
      ? `timeout (${error.message})`
      : `${error.code}: ${error.message}`;
  return (error as Error)?.message ?? String(error);
};

const checkBucket = (
  bucket: BucketConfig,
  loaded: LoadedConfig,
  options: {
    token: string;
    timeoutMs: number;
    bearer: ReturnType<typeof createIbmIamTokenProvider>;
  },
): Promise<BucketCheck> => {
  const started = performance.now();
  // Whatever goes wrong with one bucket is that bucket's result, never a crash of the table.
  return checkBucketUnguarded(bucket, loaded, options).catch((error: unknown) => ({
    bucket: bucket.name,
    backend: `${bucket.host}:${bucket.port}`,
    credentials: "?",
    ok: false,
    result: `error: ${(error as Error)?.message ?? String(error)}`,
    durationMs: performance.now() - started,
  }));
};

const checkBucketUnguarded = async (
  bucket: BucketConfig,
  loaded: LoadedConfig,
  options: {
    token: string;
    timeoutMs: number;
    bearer: ReturnType<typeof createIbmIamTokenProvider>;
  },
): Promise<BucketCheck> => {
  const started = performance.now();
  const target = upstreamTarget(bucket, "", []);
  const backend = `${target.origin}${target.path === "/" ? "" : target.path}`;
  const elapsed = (): number => performance.now() - started;
  const config = loaded.resolved.proxyConfig;
  let credentials:
    | { kind: "hmac"; accessKeyId: string; secretAccessKey: string }
    | { kind: "bearer"; apiKey: string };
  let credentialsText: string;
  try {
    if (bucket.credentials.kind === "hmac") {
      credentials = {
        kind: "hmac",
        accessKeyId: bucket.credentials.accessKeyId,
        secretAccessKey: bucket.credentials.secretAccessKey,
      };
      credentialsText = `static HMAC ${bucket.credentials.accessKeyId}`;
    } else if (bucket.credentials.kind === "api-key") {
      credentials = { kind: "bearer", apiKey: bucket.credentials.apiKey };
      credentialsText = "static API key → IAM";
    } else {
      const fetcher = config.bucketCredsFetcher;
      if (fetcher == null) throw new Error("no credentials and no bucketCredsFetcher");
      const fetched = parseFetchedCredentials(await fetcher(options.token, bucket.name));
      if (fetched.kind === "hmac") {
        // The secret is a non-enumerable property (kept out of logs): copied by name.
        credentials = {
          kind: "hmac",
          accessKeyId: fetched.credentials.accessKeyId,
          secretAccessKey: fetched.credentials.secretAccessKey,
        };
        credentialsText = `fetched HMAC ${fetched.credentials.accessKeyId}`;
      } else {
        credentials = fetched;
        credentialsText = "fetched API key → IAM";
      }
    }
  } catch (error) {
    return {
      bucket: bucket.name,
      backend,
      credentials: "error",
      ok: false,
      result: `credentials: ${(error as Error)?.message ?? String(error)}`,
      durationMs: elapsed(),
    };
  }

  let headers: ReadonlyArray<readonly [string, string]>;
  if (credentials.kind === "hmac") {
    headers = signRequest(
      {
        method: "HEAD",
        path: target.path,
        query: "",
        headers: [
          ["host", target.host],
          ["x-amz-content-sha256", EMPTY_SHA256],
        ],
      },
      {
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
        },
        region: bucket.region,
        now: Date.now(),
        crypto: nodeCryptoProvider,
      },
    ).headers;
  } else {
    try {
      const token = await options.bearer.getToken(credentials.apiKey, {
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      headers = [
        ["host", target.host],
        ["authorization", `Bearer ${token}`],
      ];
    } catch (error) {
      return {
        bucket: bucket.name,
        backend,
        credentials: credentialsText,
        ok: false,
        result: `IAM token: ${(error as Error)?.message ?? String(error)}`,
        durationMs: elapsed(),
      };
    }
  }
  const settings = loaded.resolved.settings;
  try {
    const response = await httpRequest(`${target.origin}${target.path}`, {
      method: "HEAD",
      headers,
      timeoutMs: options.timeoutMs,
      rejectUnauthorized: config.verifyTls,
      ...(settings.backendCa != null ? { ca: [...rootCertificates, settings.backendCa] } : {}),
    });
    const region = response.headers["x-amz-bucket-region"];
    if (response.status === 200) {
      return {
        bucket: bucket.name,
        backend,
        credentials: credentialsText,
        ok: true,
        result: "ok (200)",
        durationMs: elapsed(),
      };
    }
    const hint = STATUS_HINTS[response.status] ?? "unexpected answer";
    const regionNote =
      typeof region === "string" && region !== bucket.region ? `; the bucket is in ${region}` : "";
    return {
      bucket: bucket.name,
      backend,
      credentials: credentialsText,
      ok: false,
      result: `HTTP ${response.status}: ${hint}${regionNote}`,
      durationMs: elapsed(),
    };
  } catch (error) {
    return {
      bucket: bucket.name,
      backend,
      credentials: credentialsText,
      ok: false,
      result: describeHttpError(error),
      durationMs: elapsed(),
    };
  }
};

const CONCURRENCY = 4;

/** Runs `task` over `items`, at most `limit` at a time, keeping the order of results. */
export const mapLimited = async <T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = Array.from({ length: items.length });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

/** The results as a table. */
export const renderChecks = (checks: readonly BucketCheck[], style: Style): string =>
  renderTable(
    ["bucket", "backend", "credentials", "result", "ms"],
    checks.map((check) => [
      check.bucket,
      check.backend,
      check.credentials,
      check.ok ? style.green(check.result) : style.red(check.result),
      String(Math.round(check.durationMs)),
    ]),
  );

/** `osp check`. */
export const checkCommand: Command = {
  name: "check",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs("check", args, {
      config: { type: "string", short: "c" },
      bucket: { type: "string", multiple: true },
      token: { type: "string", default: "osp-check" },
      timeout: { type: "string", default: "10s" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    expectPositionals("check", positionals, 0);
    const timeoutMs = durationOption("check", "timeout", values.timeout);
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig({
        ...(values.config != null ? { configPath: values.config } : {}),
        cwd: io.cwd,
        env: io.env,
        log: jsonLog(io.stderr, "validator"),
      });
    } catch (error) {
      if (error instanceof ConfigProblems) return reportConfigProblems(error, io);
      throw error;
    }
    const style = createStyle(colourEnabled(io.stdout, io.env));
    for (const warning of loaded.warnings) io.stderr.write(`osp check: warning: ${warning}\n`);
    io.stdout.write(`${style.green("✔")} configuration ${loaded.displayPath} is valid\n`);

    const all = [...loaded.resolved.proxyConfig.buckets.values()];
    const wanted = values.bucket;
    const unknown = (wanted ?? []).filter((name) => !all.some((bucket) => bucket.name === name));
    if (unknown.length > 0) {
      io.stderr.write(`osp check: not in cosMap: ${unknown.join(", ")}\n`);
      return EXIT_FAILURE;
    }
    const buckets = wanted != null ? all.filter((bucket) => wanted.includes(bucket.name)) : all;
    const bearer = createIbmIamTokenProvider({
      ...(loaded.resolved.settings.iamTokenUrl != null
        ? { tokenUrl: loaded.resolved.settings.iamTokenUrl }
        : {}),
      timeoutMs,
    });
    const progress = createProgress(io.stderr);
    let finished = 0;
    progress.update(`checking ${buckets.length} bucket${buckets.length === 1 ? "" : "s"}…`);
    const checks = await mapLimited(buckets, CONCURRENCY, async (bucket) => {
      const result = await checkBucket(bucket, loaded, { token: values.token, timeoutMs, bearer });
      finished += 1;
      progress.update(`checked ${finished}/${buckets.length} (last: ${bucket.name})`);
      return result;
    });
    progress.done();
    io.stdout.write(`${renderChecks(checks, style)}\n`);
    const failed = checks.filter((check) => !check.ok).length;
    io.stdout.write(
      failed === 0
        ? `${style.green("✔")} ${checks.length} bucket${checks.length === 1 ? "" : "s"} reachable\n`
        : `${style.red("✘")} ${failed} of ${checks.length} bucket${checks.length === 1 ? "" : "s"} failed\n`,
    );
    return failed === 0 ? EXIT_OK : EXIT_FAILURE;
  },
};
