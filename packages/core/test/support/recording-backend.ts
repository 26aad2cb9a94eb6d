// A recording S3-ish backend on 127.0.0.1 for the integration tests. It verifies every request
// the proxy sends with the independent verifier (smithy for headers, the test codec for aws-chunked
// bodies), stores objects by key, performs copies, and lets a test take over any request (early
// answers, 401s for stale tokens, …). Whole bodies are buffered: test data is small.

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeChunks, signingKey, type DecodedChunks } from "./aws-chunked.ts";
import { verifyCapturedRequest } from "./independent-verifier.ts";

/** One request as the backend saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly query: string;
  readonly rawHeaders: string[];
  /** Lower-case name → values. */
  readonly headers: Map<string, string[]>;
  /** Raw body bytes received (possibly aws-chunked). */
  body: Buffer;
  /** Payload after aws-chunked decoding (the body itself otherwise). */
  payload: Buffer;
  /** The body ended early (client aborted). */
  aborted: boolean;
  /** `ok`, or why verification failed. */
  verification: string;
  chunks?: DecodedChunks;
}

export interface BackendOptions {
  /** Backend access key → secret, for HMAC verification. */
  readonly keys?: Record<string, string>;
  /** Base domain of virtual-host addressing (`bucket.<domain>`). Default `s3.test`. */
  readonly virtualHostDomain?: string;
  /** Bearer tokens accepted. */
  readonly tokens?: ReadonlySet<string> | (() => ReadonlySet<string>);
}

/** Lets a test answer a request itself; return true when it did. */
export type Interceptor = (
  request: IncomingMessage,
  response: ServerResponse,
  record: RecordedRequest,
) => boolean | Promise<boolean>;

const header = (record: RecordedRequest, name: string): string | undefined =>
  record.headers.get(name)?.[0];

const xmlError = (response: ServerResponse, status: number, code: string, message: string) => {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>BACKEND</RequestId></Error>`;
  response.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    server: "RecordingBackend",
    "x-amz-request-id": "BACKEND",
  });
  response.end(body);
};

export interface RecordingBackend {
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Stored objects: upstream path (e.g. `/bucket/key` raw) → payload. */
  readonly objects: Map<string, Buffer>;
  intercept(interceptor: Interceptor | undefined): void;
  /** Resolves when `count` requests have completed. */
  waitForRequests(count: number): Promise<void>;
  /** Requests completed so far. */
  readonly completed: number;
  close(): Promise<void>;
}

/** Object identity: bucket from a virtual host or the first segment, plus the decoded key. */
const objectName = (hostHeader: string | undefined, rawPath: string, ownHost: string): string => {
  const host = (hostHeader ?? "").replace(/:\d+$/, "");
  if (host !== ownHost && host.endsWith(`.${ownHost}`))
    return `${host.slice(0, -ownHost.length - 1)}${decodeURIComponent(rawPath)}`;
  return decodeURIComponent(rawPath).slice(1);
};

export const startRecordingBackend = async (
  options: BackendOptions = {},
): Promise<RecordingBackend> => {
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Buffer>();
  let interceptor: Interceptor | undefined;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let completed = 0;
  const done = () => {
    completed += 1;
    for (const waiter of waiters.filter((entry) => completed >= entry.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  const tokens = () =>
    typeof options.tokens === "function" ? options.tokens() : (options.tokens ?? new Set<string>());

  const verify = async (record: RecordedRequest): Promise<string> => {
    const authorization = header(record, "authorization") ?? "";
    if (authorization.startsWith("Bearer "))
      return tokens().has(authorization.slice(7)) ? "ok" : "bearer token rejected";
    try {
      const verified = await verifyCapturedRequest(
        record,
        (accessKeyId) => options.keys?.[accessKeyId],
      );
      const length = header(record, "content-length");
      if (length != null && Number(length) !== record.body.length)
        return "body length differs from Content-Length";
      if (verified.payloadHash.startsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) {
        const chain = {
          key: signingKey(options.keys![verified.accessKeyId]!, verified.date, verified.region),
          amzDate: verified.amzDate,
          scope: `${verified.date}/${verified.region}/s3/aws4_request`,
          seed: verified.signature,
        };
        record.chunks = decodeChunks(record.body, chain);
        record.payload = record.chunks.data;
        if (Number(header(record, "x-amz-decoded-content-length")) !== record.payload.length)
          return "x-amz-decoded-content-length mismatch";
      } else if (verified.payloadHash === "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
        record.chunks = decodeChunks(record.body);
        record.payload = record.chunks.data;
      } else if (/^[0-9a-f]{64}$/.test(verified.payloadHash)) {
        if (createHash("sha256").update(record.body).digest("hex") !== verified.payloadHash)
          return "XAmzContentSHA256Mismatch";
      }
      return "ok";
    } catch (error) {
      return (error as Error).message;
    }
  };

  const server: Server = createServer((request, response) => {
    const url = request.url ?? "/";
    const queryStart = url.indexOf("?");
    const headers = new Map<string, string[]>();
    for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
      const name = request.rawHeaders[index]!.toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), request.rawHeaders[index + 1]!]);
    }
    const record: RecordedRequest = {
      method: request.method ?? "GET",
      url,
      path: queryStart === -1 ? url : url.slice(0, queryStart),
      query: queryStart === -1 ? "" : url.slice(queryStart + 1),
      rawHeaders: request.rawHeaders,
      headers,
      body: Buffer.alloc(0),
      payload: Buffer.alloc(0),
      aborted: false,
      verification: "pending",
    };
    requests.push(record);
    let counted = false;
    const complete = () => {
      if (counted) return;
      counted = true;
      done();
    };
    void (async () => {
      const current = interceptor;
      if (current != null) {
        // Attached first: an intercepted answer may close the response right away.
        response.on("close", complete);
        if (await current(request, response, record)) return;
        response.off("close", complete);
      }
      const parts: Buffer[] = [];
      request.on("data", (part: Buffer) => parts.push(part));
      request.on("aborted", () => (record.aborted = true));
      request.on("error", () => (record.aborted = true));
      await new Promise<void>((resolve) => request.on("close", resolve));
      record.body = Buffer.concat(parts);
      record.payload = record.body;
      if (record.aborted || !request.complete) {
        record.aborted = true;
        record.verification = "aborted";
        complete();
        return;
      }
      record.verification = await verify(record);
      response.on("close", complete);
      if (record.verification !== "ok") {
        xmlError(response, 403, "SignatureDoesNotMatch", record.verification);
        return;
      }
      const name = objectName(
        header(record, "host"),
        record.path,
        options.virtualHostDomain ?? "s3.test",
      );
      const common = {
        server: "RecordingBackend",
        "x-amz-request-id": "BACKEND",
        "x-amz-id-2": "backend-host-id",
      };
      if (record.method === "PUT") {
        const copySource = header(record, "x-amz-copy-source");
        if (copySource != null) {
          const source = decodeURIComponent(copySource.replace(/^\//, "").split("?")[0]!);
          const data = objects.get(source);
          if (data == null) return xmlError(response, 404, "NoSuchKey", "copy source missing");
          objects.set(name, data);
          const xml = '<CopyObjectResult><ETag>"copied"</ETag></CopyObjectResult>';
          response.writeHead(200, {
            ...common,
            "content-type": "application/xml",
            "content-length": xml.length,
          });
          return response.end(xml);
        }
        objects.set(name, record.payload);
        response.writeHead(200, {
          ...common,
          etag: `"${createHash("md5").update(record.payload).digest("hex")}"`,
          "content-length": 0,
        });
        return response.end();
      }
      if (record.method === "GET" && (!name.includes("/") || name.endsWith("/"))) {
        const bucket = name.split("/")[0]!;
        const keys = [...objects.keys()]
          .filter((key) => key.startsWith(`${bucket}/`))
          .map((key) => key.slice(bucket.length + 1));
        const xml = `<ListBucketResult><Name>${bucket}</Name>${keys.map((key) => `<Contents><Key>${key}</Key></Contents>`).join("")}</ListBucketResult>`;
        response.writeHead(200, {
          ...common,
          "content-type": "application/xml",
          "content-length": Buffer.byteLength(xml),
        });
        return response.end(xml);
      }
      if (record.method === "GET" || record.method === "HEAD") {
        const data = objects.get(name);
        if (data == null)
          return xmlError(response, 404, "NoSuchKey", "The specified key does not exist.");
        response.writeHead(200, {
          ...common,
          "content-type": "application/octet-stream",
          "content-length": data.length,
          connection: "keep-alive",
          "keep-alive": "timeout=5",
        });
        return response.end(record.method === "HEAD" ? undefined : data);
      }
      if (record.method === "DELETE") {
        objects.delete(name);
        response.writeHead(204, common);
        return response.end();
      }
      response.writeHead(200, { ...common, "content-length": 0 });
      response.end();
    })();
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    requests,
    objects,
    intercept: (next) => void (interceptor = next),
    get completed() {
      return completed;
    },
    waitForRequests: (count) =>
      completed >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
