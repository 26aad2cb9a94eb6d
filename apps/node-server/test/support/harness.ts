// Shared set-up of the loopback tests: a local S3 backend, OSP in front of it, clients.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { createLocalS3, type LocalS3 } from "@osp/local-s3";
import { startServer, type ServerConfigInput, type ServerHandle } from "../../src/index.ts";
import { signRequest, type TestCredentials } from "./sigv4-client.ts";

export const CLIENT: TestCredentials = {
  accessKeyId: "OSPCLIENTKEY0001",
  secretAccessKey: "client-secret-do-not-log-0123456789",
};
export const BACKEND: TestCredentials = {
  accessKeyId: "BACKENDKEY000001",
  secretAccessKey: "backend-secret-never-logged-98765",
};
export const BUCKET = "test-bucket";

/** Captures OSP's JSON log lines. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly write = (line: string): void => {
    this.lines.push(line);
  };
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  text(): string {
    return this.lines.join("");
  }
}

export const startBackend = (): Promise<LocalS3> =>
  createLocalS3({ credentials: [BACKEND], buckets: [BUCKET], storage: "memory" });

/** OSP in front of an HTTP backend at `port` (path style, static HMAC pair). */
export const ospConfig = (
  backendPort: number,
  extra: Partial<ServerConfigInput> = {},
): ServerConfigInput => ({
  httpPort: 0,
  bindAddress: "127.0.0.1",
  dotenv: false,
  handleSignals: false,
  logLevel: "info",
  cosMap: {
    [BUCKET]: {
      host: "127.0.0.1",
      port: backendPort,
      tls: false,
      addressingStyle: "path",
      region: "us-east-1",
      accessKey: BACKEND.accessKeyId,
      secretKey: BACKEND.secretAccessKey,
    },
  },
  hmacKeystore: [{ accessKey: CLIENT.accessKeyId, secretKey: CLIENT.secretAccessKey }],
  ...extra,
});

export const startOsp = (config: ServerConfigInput): Promise<ServerHandle> => startServer(config);

export const s3Client = (endpoint: string, extra: Record<string, unknown> = {}): S3Client =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: CLIENT,
    maxAttempts: 1,
    ...extra,
  });

export interface RawResponse {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** Sends one request over a fresh connection and reads the whole answer. */
export const send = (
  url: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer | string } = {},
): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });

/** A signed raw request to OSP (UNSIGNED-PAYLOAD). `path` and `query` as on the wire. */
export const signedSend = (
  base: string,
  options: {
    method?: string;
    path: string;
    query?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    credentials?: TestCredentials;
  },
): Promise<RawResponse> => {
  const url = new URL(base);
  const method = options.method ?? "GET";
  const headers = signRequest({
    method,
    host: url.host,
    path: options.path,
    ...(options.query != null && { query: options.query }),
    ...(options.headers != null && { headers: options.headers }),
    credentials: options.credentials ?? CLIENT,
  });
  const target = `${base}${options.path}${options.query ? `?${options.query}` : ""}`;
  return send(target, { method, headers, ...(options.body != null && { body: options.body }) });
};

/** A plain HTTP server standing in for a backend whose behaviour a test controls. */
export const startControlledBackend = async (
  handler: Parameters<typeof createServer>[1] & {},
): Promise<{ server: Server; port: number; close(): Promise<void> }> => {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export const eventually = async (
  check: () => boolean,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
