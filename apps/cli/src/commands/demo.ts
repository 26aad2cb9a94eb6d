// osp demo: OSP in front of an embedded S3 server (@osp/local-s3), with a bucket, an object and a
// client key, and the exact aws-cli lines to try it. Runs until Ctrl-C, showing each request.
import { createHash } from "node:crypto";
import { createLocalS3, type LocalS3 } from "@osp/local-s3";
import { startServer, type ServerHandle } from "@osp/node-server";
import { signRequest, type Credentials } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { expectPositionals, parseCommandArgs } from "../args.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "../exit-codes.ts";
import { httpRequest } from "../http.ts";
import type { CliIo } from "../io.ts";
import { generateKeyPair } from "../keys.ts";
import { colourEnabled, createStyle, type Style } from "../style.ts";
import type { Command } from "./command.ts";

/** The port the demo tries first. */
export const DEMO_PORT = 6190;
/** The bucket the demo creates. */
export const DEMO_BUCKET = "demo-bucket";
/** The profile name in the printed ~/.aws lines. */
export const DEMO_PROFILE = "osp-demo";
const REGION = "us-east-1";
const HOST = "127.0.0.1";

const README = `# Welcome to the OSP demo

You are reading this object through OSP. It verified your request's AWS Signature V4 with
your client key, allowed it, re-signed it with the backend's own key and streamed the
answer back from an embedded S3 server that keeps its data in memory.

Try uploading something:  aws s3 cp ./somefile s3://demo-bucket/
`;

const HELP = `Usage: osp demo [options]

Starts OSP on ${HOST} in front of an embedded S3 server (in this process, data in memory),
creates the bucket "${DEMO_BUCKET}" holding README.md and a client key, then prints the aws-cli
profile lines and a command to try. Each request OSP proxies is shown as one line
(time, method, bucket/key, S3 operation, status, duration). Ctrl-C stops it.

Options:
  --port N            OSP's port; default ${DEMO_PORT}, or any free port if that one is busy
  --access-key ID     use this client access key id instead of a generated one (with --secret-key)
  --secret-key S      use this client secret
  --bucket NAME       the demo bucket's name; default ${DEMO_BUCKET}
  --data DIR          keep the backend's data in DIR instead of memory
  --no-requests       do not show the requests
  -h, --help          show this help

Exit codes: 0 stopped with Ctrl-C, 1 could not start, 2 usage error.`;

const sha256Hex = (data: string | Uint8Array): string =>
  createHash("sha256").update(data).digest("hex");

/** Quotes a shell word only when it needs it. */
export const shellWord = (text: string): string =>
  /^[A-Za-z0-9_+/=.,:@%-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;

/** Stores an object in local-s3 with a signed PUT (the demo's own backend key). */
const putObject = async (
  backend: LocalS3,
  credentials: Credentials,
  bucket: string,
  key: string,
  body: string,
): Promise<void> => {
  const host = new URL(backend.url).host;
  const path = `/${bucket}/${key}`;
  const signed = signRequest(
    {
      method: "PUT",
      path,
      query: "",
      headers: [
        ["host", host],
        ["content-type", "text/markdown; charset=utf-8"],
        ["x-amz-content-sha256", sha256Hex(body)],
      ],
    },
    { credentials, region: REGION, now: Date.now(), crypto: nodeCryptoProvider },
  );
  const response = await httpRequest(`${backend.url}${path}`, {
    method: "PUT",
    headers: signed.headers,
    body,
    timeoutMs: 10_000,
  });
  if (response.status !== 200)
    throw new Error(`could not store ${key} in the backend: HTTP ${response.status}`);
};

const decodePath = (path: string): string => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

/** One access log line of the server → one human line, or undefined for lines not shown. */
export const formatLogLine = (line: string, style: Style): string | undefined => {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const time = new Date(typeof entry.time === "string" ? entry.time : Date.now())
    .toTimeString()
    .slice(0, 8);
  if (entry.log === "access") {
    const status = typeof entry.status === "number" ? entry.status : 0;
    const path = typeof entry.path === "string" ? entry.path : "/";
    const target = path === "/" ? "/" : decodePath(path).replace(/^\//, "");
    const statusText =
      status >= 500
        ? style.red(String(status))
        : status >= 400
          ? style.yellow(String(status))
          : style.green(String(status));
    const ms = typeof entry.durationMs === "number" ? `${entry.durationMs.toFixed(1)} ms` : "";
    const error = typeof entry.errorCode === "string" ? ` ${style.yellow(entry.errorCode)}` : "";
    return `${style.dim(time)}  ${String(entry.method ?? "").padEnd(6)} ${target.padEnd(32)} ${String(entry.operation ?? "").padEnd(24)} ${statusText} ${ms.padStart(9)}${error}`;
  }
  if (entry.level === "warn" || entry.level === "error" || entry.level === "fatal") {
    return `${style.dim(time)}  ${style.yellow(String(entry.level))}: ${String(entry.msg ?? "")}`;
  }
  return undefined;
};

const isAddressInUse = (error: unknown): boolean => {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  return cause?.code === "EADDRINUSE" || String((error as Error)?.message).includes("EADDRINUSE");
};

/** The text printed once everything runs. */
export const renderBanner = (options: {
  endpoint: string;
  backendUrl: string;
  bucket: string;
  client: Credentials;
  persisted?: string;
  requests: boolean;
  portNote?: string;
  style: Style;
}): string => {
  const { endpoint, bucket, client, style } = options;
  const id = shellWord(client.accessKeyId);
  const secret = shellWord(client.secretAccessKey);
  const listArgs = `s3 ls s3://${bucket}/ --recursive --summarize --human-readable`;
  const lines = [
    style.bold("OSP demo is running."),
    ...(options.portNote != null ? [style.yellow(options.portNote)] : []),
    "",
    `  proxy     ${endpoint}   (OSP: verifies the client's signature, re-signs for the backend)`,
    `  backend   ${options.backendUrl}   (embedded S3, data ${options.persisted != null ? `in ${options.persisted}` : "in memory"})`,
    `  bucket    ${bucket}   (holds README.md)`,
    `  client    access key ${client.accessKeyId}`,
    "",
    style.bold("Try it:"),
    "",
    `  AWS_ACCESS_KEY_ID=${id} AWS_SECRET_ACCESS_KEY=${secret} AWS_REGION=${REGION} aws --endpoint-url ${endpoint} ${listArgs}`,
    "",
    `Or add a profile. In ~/.aws/config:`,
    "",
    `[profile ${DEMO_PROFILE}]`,
    `region = ${REGION}`,
    `endpoint_url = ${endpoint}`,
    "s3 =",
    "    addressing_style = path",
    "",
    "and in ~/.aws/credentials:",
    "",
    `[${DEMO_PROFILE}]`,
    `aws_access_key_id = ${client.accessKeyId}`,
    `aws_secret_access_key = ${client.secretAccessKey}`,
    "",
    "then (endpoint_url in a profile needs aws-cli 2.13+ or 1.29+; older ones take --endpoint-url):",
    "",
    `  aws --profile ${DEMO_PROFILE} ${listArgs}`,
    `  aws --profile ${DEMO_PROFILE} s3 cp s3://${bucket}/README.md -`,
    `  osp presign s3://${bucket}/README.md --endpoint ${endpoint} --access-key ${id} --secret-key ${secret}`,
    "",
    options.requests ? style.bold("Requests (Ctrl-C to stop):") : "Ctrl-C to stop.",
  ];
  return `${lines.join("\n")}\n`;
};

const waitForSignal = (io: CliIo): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // A second Ctrl-C while draining: stop waiting.
      process.once("SIGINT", () => {
        io.stderr.write("osp demo: interrupted\n");
        process.exit(130);
      });
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });

const validKeyPart = (value: string): boolean =>
  /^[\x21-\x7e]+$/.test(value) && !value.includes("/");

/** `osp demo`. */
export const demoCommand: Command = {
  name: "demo",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs("demo", args, {
      port: { type: "string", default: String(DEMO_PORT) },
      "access-key": { type: "string" },
      "secret-key": { type: "string" },
      bucket: { type: "string", default: DEMO_BUCKET },
      data: { type: "string" },
      requests: { type: "boolean", default: true },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    expectPositionals("demo", positionals, 0);
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65_535) {
      throw new UsageError(
        `--port must be an integer from 0 to 65535 (got "${values.port}")`,
        "demo",
      );
    }
    const port = Number(values.port);
    if ((values["access-key"] == null) !== (values["secret-key"] == null)) {
      throw new UsageError("--access-key and --secret-key go together", "demo");
    }
    const accessKey = values["access-key"];
    const secretKey = values["secret-key"];
    if (accessKey != null && !validKeyPart(accessKey))
      throw new UsageError("--access-key must be printable ASCII without spaces or /", "demo");
    if (secretKey != null && !/^[\x21-\x7e]+$/.test(secretKey))
      throw new UsageError("--secret-key must be printable ASCII without spaces", "demo");
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(values.bucket)) {
      throw new UsageError(
        `--bucket must be a valid S3 bucket name (got "${values.bucket}")`,
        "demo",
      );
    }
    const bucket = values.bucket;
    const client: Credentials =
      accessKey != null && secretKey != null
        ? { accessKeyId: accessKey, secretAccessKey: secretKey }
        : generateKeyPair();
    // The backend's own key: OSP holds it, clients never see it.
    const backendKey = generateKeyPair();
    const style = createStyle(colourEnabled(io.stdout, io.env));

    // Start-up notices (e.g. "no validator configured") are expected here and not shown.
    let started = false;
    let backend: LocalS3 | undefined;
    let proxy: ServerHandle | undefined;
    const stopAll = async (): Promise<void> => {
      await proxy?.close().catch(() => undefined);
      await backend?.close().catch(() => undefined);
    };
    try {
      backend = await createLocalS3({
        credentials: [backendKey],
        storage: values.data != null ? { directory: values.data } : "memory",
        host: HOST,
        port: 0,
        region: REGION,
        buckets: [bucket],
      });
      await putObject(backend, backendKey, bucket, "README.md", README);

      const serverConfig = (httpPort: number) => ({
        httpPort,
        bindAddress: HOST,
        cosMap: {
          [bucket]: {
            host: HOST,
            port: backend!.port,
            tls: false,
            addressingStyle: "path" as const,
            region: REGION,
            accessKey: backendKey.accessKeyId,
            secretKey: backendKey.secretAccessKey,
          },
        },
        hmacKeystore: [{ accessKey: client.accessKeyId, secretKey: client.secretAccessKey }],
        virtualHostDomains: ["localhost"],
        logLevel: "info" as const,
        logDestination: {
          write: (chunk: string) => {
            if (!values.requests || !started) return;
            for (const line of chunk.split("\n")) {
              const text = line.trim() === "" ? undefined : formatLogLine(line, style);
              if (text != null) io.stdout.write(`${text}\n`);
            }
          },
        },
        dotenv: false,
        handleSignals: false,
        shutdownTimeoutMs: 5000,
      });
      let portNote: string | undefined;
      try {
        proxy = await startServer(serverConfig(port));
      } catch (error) {
        if (!isAddressInUse(error) || port === 0) throw error;
        proxy = await startServer(serverConfig(0));
        portNote = `Port ${port} is busy: OSP listens on port ${proxy.http!.port} instead.`;
      }
      io.stdout.write(
        renderBanner({
          endpoint: proxy.http!.url,
          backendUrl: backend.url,
          bucket,
          client,
          ...(values.data != null ? { persisted: values.data } : {}),
          requests: values.requests,
          ...(portNote != null ? { portNote } : {}),
          style,
        }),
      );
      started = true;
    } catch (error) {
      await stopAll();
      io.stderr.write(`osp demo: cannot start: ${(error as Error)?.message ?? String(error)}\n`);
      return EXIT_FAILURE;
    }

    await waitForSignal(io);
    io.stdout.write("\nStopping: finishing requests in flight…\n");
    await stopAll();
    io.stdout.write("Stopped.\n");
    return EXIT_OK;
  },
};
