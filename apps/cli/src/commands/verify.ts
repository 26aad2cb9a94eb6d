// osp verify: checks a signed request with the client's secret and, when it fails, explains the
// failure as S3 would: which check, the canonical request and string to sign it expected, the
// signed headers, the clock skew.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { MAX_CLOCK_SKEW_MS } from "@osp/sigv4";
import { expectPositionals, parseCommandArgs } from "../args.ts";
import { durationOption, formatDuration } from "../duration.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "../exit-codes.ts";
import { describeSkew, explainRequest, type VerifyReport } from "../explain.ts";
import { readAll } from "../io.ts";
import {
  RequestSyntaxError,
  parseRawRequest,
  requestFromUrl,
  type WireRequest,
} from "../raw-http.ts";
import { colourEnabled, createStyle, type Style } from "../style.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: osp verify [FILE | -] --secret SECRET [options]
       osp verify --url URL --secret SECRET [--method GET]

Verifies an AWS SigV4-signed S3 request with the client's secret. FILE (or standard input, "-")
holds the raw HTTP/1.1 request: the request line, the header lines, a blank line and optionally
the body (e.g. from curl -v, a proxy log or tcpdump). --url takes a presigned URL instead.

When the request is not valid, it says which check failed and prints what S3 prints with
SignatureDoesNotMatch: the canonical request and the string to sign it expected, the signed
headers, and the clock skew, so you can compare them with what your client signed.

Options:
  --secret S          the client's secret access key (default: AWS_SECRET_ACCESS_KEY)
  --url URL           verify a presigned URL (no FILE)
  --method M          the method the presigned URL is used with; default GET
  --now TIME          the time to check against (ISO 8601, e.g. 2025-01-31T12:00:00Z); default now
  --max-skew T        allowed clock difference; default 15m (S3's)
  --verbose           also print the canonical request and string to sign when valid
  -h, --help          show this help

Exit codes: 0 valid, 1 invalid, 2 usage error (unreadable file, not an HTTP request).`;

const mark = (result: "pass" | "fail" | "skip", style: Style): string =>
  result === "pass" ? style.green("✔") : result === "fail" ? style.red("✘") : style.dim("–");

const block = (text: string): string =>
  text
    .split("\n")
    .map((line) => (line === "" ? "" : `    ${line}`))
    .join("\n");

/** The report as text. */
export const renderReport = (
  report: VerifyReport,
  request: WireRequest,
  style: Style,
  verbose: boolean,
): string => {
  const out: string[] = [];
  out.push(
    report.valid
      ? `${style.green("✔ valid")}: the signature matches`
      : `${style.red("✘ invalid")}: ${style.bold(report.error?.code ?? "Invalid")}: ${report.error?.message ?? ""}`,
  );
  out.push("");
  const parsed = report.parsed;
  const rows: Array<[string, string]> = [
    [
      "request",
      `${request.method} ${request.path}${request.query !== "" ? `?${request.query}` : ""}`,
    ],
  ];
  if (parsed != null) {
    rows.push(
      [
        "authentication",
        parsed.kind === "header" ? "Authorization header" : "presigned URL (query parameters)",
      ],
      ["access key", parsed.accessKeyId],
      [
        "credential scope",
        `${parsed.scope.date}/${parsed.scope.region}/${parsed.scope.service}/aws4_request`,
      ],
      ["signed headers", parsed.signedHeaders.join(";")],
      ["payload hash", parsed.payloadHash],
      [
        "request time",
        report.requestTimeMs != null
          ? `${new Date(report.requestTimeMs).toISOString()} (${parsed.amzDate})`
          : parsed.amzDate,
      ],
      [
        "checked at",
        `${new Date(report.nowMs).toISOString()}${report.skewMs != null ? `: ${describeSkew(report.skewMs)} (allowed ±${formatDuration(report.maxSkewMs)})` : ""}`,
      ],
    );
    if (parsed.expiresInSeconds != null)
      rows.push(["expires", `${parsed.expiresInSeconds}s after the request time`]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) out.push(`  ${style.dim(name.padEnd(width))}  ${value}`);
  for (const note of request.notes) out.push(`  ${style.dim("note".padEnd(width))}  ${note}`);
  out.push("", "checks:");
  const checkWidth = Math.max(...report.checks.map((check) => check.name.length));
  for (const check of report.checks) {
    out.push(`  ${mark(check.result, style)} ${check.name.padEnd(checkWidth)}  ${check.detail}`);
  }
  if (
    (!report.valid || verbose) &&
    report.canonicalRequest != null &&
    report.stringToSign != null
  ) {
    out.push(
      "",
      `The canonical request ${report.valid ? "" : "we expected "}(S3: CanonicalRequest):`,
      block(report.canonicalRequest),
      "",
      `The string to sign ${report.valid ? "" : "we expected "}(S3: StringToSign):`,
      block(report.stringToSign),
    );
    if (
      !report.valid &&
      report.checks.some((check) => check.name === "signature" && check.result === "fail")
    ) {
      out.push(
        "",
        "Compare them with what the client signed (aws-cli: --debug; boto3: logging at DEBUG prints",
        '"CanonicalRequest" and "StringToSign"). The usual causes: another secret; a header or the',
        "path changed after signing (a proxy rewriting Host, or re-encoding the path); the query",
        "or the payload hash differ; a signed header missing from what was captured here.",
      );
    }
  }
  return `${out.join("\n")}\n`;
};

const parseNow = (text: string | undefined, fallback: number): number => {
  if (text == null) return fallback;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms))
    throw new UsageError(
      `--now must be an ISO 8601 time like 2025-01-31T12:00:00Z (got "${text}")`,
      "verify",
    );
  return ms;
};

/** `osp verify`. */
export const verifyCommand: Command = {
  name: "verify",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs("verify", args, {
      secret: { type: "string" },
      url: { type: "string" },
      method: { type: "string", default: "GET" },
      now: { type: "string" },
      "max-skew": { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    expectPositionals("verify", positionals, 1);
    const secret = values.secret ?? io.env.AWS_SECRET_ACCESS_KEY;
    if (secret == null || secret === "")
      throw new UsageError("missing --secret (or AWS_SECRET_ACCESS_KEY)", "verify");
    const now = parseNow(values.now, io.now());
    const maxSkewMs =
      values["max-skew"] != null
        ? durationOption("verify", "max-skew", values["max-skew"])
        : MAX_CLOCK_SKEW_MS;

    let request: WireRequest;
    try {
      if (values.url != null) {
        if (positionals.length > 0)
          throw new UsageError("give either FILE or --url, not both", "verify");
        request = requestFromUrl(values.url, values.method);
      } else {
        const source = positionals[0] ?? "-";
        let bytes: Uint8Array;
        if (source === "-") {
          if ((io.stdin as { isTTY?: boolean }).isTTY === true) {
            throw new UsageError(
              "no request: pass FILE, --url URL, or pipe the request into osp verify -",
              "verify",
            );
          }
          bytes = await readAll(io.stdin);
        } else {
          try {
            bytes = readFileSync(resolve(io.cwd, source));
          } catch (error) {
            throw new UsageError(
              `cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
              "verify",
            );
          }
        }
        request = parseRawRequest(bytes);
      }
    } catch (error) {
      if (error instanceof RequestSyntaxError) throw new UsageError(error.message, "verify");
      throw error;
    }
    const report = explainRequest(request, secret, { now, maxSkewMs });
    const style = createStyle(colourEnabled(io.stdout, io.env));
    io.stdout.write(renderReport(report, request, style, values.verbose === true));
    return report.valid ? EXIT_OK : EXIT_FAILURE;
  },
};
