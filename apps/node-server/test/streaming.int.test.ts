// Streaming failure paths against a backend whose behaviour the test controls: a client that
// leaves mid-download, a backend that dies mid-body, a backend that is not there.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerHandle } from "../src/index.ts";
import {
  BACKEND,
  CLIENT,
  eventually,
  LogCapture,
  ospConfig,
  signedSend,
  startControlledBackend,
  startOsp,
} from "./support/harness.ts";
import { signRequest } from "./support/sigv4-client.ts";

interface BackendExchange {
  path: string;
  closedEarly?: boolean;
  finished?: boolean;
}

/** Starts a signed GET through OSP and resolves with the response as soon as its head arrives. */
const startDownload = (
  base: string,
  path: string,
): Promise<{ res: IncomingMessage; destroy(): void }> =>
  new Promise((resolve, reject) => {
    const url = new URL(base);
    const headers = signRequest({ method: "GET", host: url.host, path, credentials: CLIENT });
    const req = httpRequest(`${base}${path}`, { headers, agent: false }, (res) =>
      resolve({ res, destroy: () => req.destroy() }),
    );
    req.on("error", reject);
    req.end();
  });

/** Reads a response to its end or its failure. */
const readOut = (res: IncomingMessage): Promise<{ bytes: number; failed: boolean }> =>
  new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    const settle = (failed: boolean) => {
      if (settled) return;
      settled = true;
      resolve({ bytes, failed });
    };
    res.on("data", (chunk: Buffer) => (bytes += chunk.byteLength));
    res.on("end", () => settle(!res.complete));
    res.on("error", () => settle(true));
    res.on("aborted", () => settle(true));
    res.on("close", () => settle(!res.complete));
  });

describe("streaming failures", () => {
  const exchanges: BackendExchange[] = [];
  let backend: Awaited<ReturnType<typeof startControlledBackend>>;
  let osp: ServerHandle;
  const logs = new LogCapture();

  const slowBody = (
    res: ServerResponse,
    exchange: BackendExchange,
    totalBytes: number,
    chunkBytes: number,
    everyMs: number,
  ) => {
    res.writeHead(200, {
      "content-length": String(totalBytes),
      "content-type": "application/octet-stream",
    });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= totalBytes) {
        clearInterval(timer);
        res.end();
        return;
      }
      const size = Math.min(chunkBytes, totalBytes - sent);
      sent += size;
      res.write(Buffer.alloc(size, 1));
    }, everyMs);
    res.on("close", () => {
      clearInterval(timer);
      exchange.closedEarly = !res.writableFinished;
      exchange.finished = true;
    });
  };

  beforeAll(async () => {
    backend = await startControlledBackend((req, res) => {
      const exchange: BackendExchange = { path: req.url ?? "" };
      exchanges.push(exchange);
      req.resume();
      if (req.url?.startsWith("/test-bucket/slow")) {
        slowBody(res, exchange, 64 * 1024 * 1024, 64 * 1024, 20);
      } else if (req.url?.startsWith("/test-bucket/no-answer")) {
        // Never answers: only the caller going away ends this exchange.
        res.on("close", () => {
          exchange.closedEarly = !res.writableFinished;
          exchange.finished = true;
        });
      } else if (req.url?.startsWith("/test-bucket/broken-length")) {
        res.writeHead(200, { "content-length": String(1024 * 1024) });
        res.write(Buffer.alloc(100 * 1024, 2), () => setTimeout(() => res.socket?.destroy(), 20));
      } else if (req.url?.startsWith("/test-bucket/broken-chunked")) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.write(Buffer.alloc(100 * 1024, 3), () => setTimeout(() => res.socket?.destroy(), 20));
      } else {
        res.writeHead(404, { "content-type": "application/xml" });
        res.end("<Error><Code>NoSuchKey</Code><Message>no</Message></Error>");
      }
    });
    osp = await startOsp(ospConfig(backend.port, { logDestination: logs }));
  });

  afterAll(async () => {
    await osp?.close();
    await backend?.close();
  });

  it("aborts the backend exchange when the client leaves mid-download", async () => {
    const download = await startDownload(osp.http!.url, "/test-bucket/slow-abort");
    expect(download.res.statusCode).toBe(200);
    await new Promise<void>((resolve) => download.res.once("data", () => resolve()));
    download.destroy();
    const exchange = exchanges.find((candidate) =>
      candidate.path.startsWith("/test-bucket/slow-abort"),
    )!;
    await eventually(() => exchange.finished === true, 5_000, "the backend response to close");
    expect(exchange.closedEarly).toBe(true);
  });

  it("aborts the backend exchange when the client leaves before the answer's head", async () => {
    const path = "/test-bucket/no-answer";
    const url = new URL(osp.http!.url);
    const headers = signRequest({ method: "GET", host: url.host, path, credentials: CLIENT });
    const req = httpRequest(`${osp.http!.url}${path}`, { headers, agent: false });
    req.on("error", () => undefined);
    req.end();
    await eventually(
      () => exchanges.some((candidate) => candidate.path.startsWith(path)),
      5_000,
      "the request to reach the backend",
    );
    req.destroy();
    const exchange = exchanges.find((candidate) => candidate.path.startsWith(path))!;
    await eventually(() => exchange.finished === true, 5_000, "the backend request to close");
    expect(exchange.closedEarly).toBe(true);
    await eventually(
      () =>
        logs
          .records()
          .some(
            (record) =>
              record.log === "access" &&
              record.path === path &&
              record.status === 499 &&
              record.aborted === true,
          ),
      5_000,
      "the access line with 499",
    );
  });

  it("cuts the client connection when the backend dies mid-body (Content-Length)", async () => {
    const download = await startDownload(osp.http!.url, "/test-bucket/broken-length");
    expect(download.res.statusCode).toBe(200);
    expect(download.res.headers["content-length"]).toBe(String(1024 * 1024));
    const outcome = await readOut(download.res);
    expect(outcome.failed).toBe(true);
    expect(outcome.bytes).toBeLessThan(1024 * 1024);
  });

  it("never ends a chunked response cleanly when the backend dies mid-body", async () => {
    const download = await startDownload(osp.http!.url, "/test-bucket/broken-chunked");
    expect(download.res.statusCode).toBe(200);
    const outcome = await readOut(download.res);
    expect(outcome.failed).toBe(true);
    expect(outcome.bytes).toBeGreaterThan(0);
  });

  it("passes backend errors through unchanged", async () => {
    const response = await signedSend(osp.http!.url, { path: "/test-bucket/missing" });
    expect(response.status).toBe(404);
    expect(response.body.toString()).toBe(
      "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>",
    );
  });
});

describe("backend down", () => {
  let osp: ServerHandle;
  const logs = new LogCapture();

  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    osp = await startOsp(ospConfig(port, { logDestination: logs }));
  });

  afterAll(async () => {
    await osp?.close();
  });

  it("answers 503 ServiceUnavailable as S3 XML, with no secret in answer or logs", async () => {
    const response = await signedSend(osp.http!.url, { path: "/test-bucket/anything" });
    expect(response.status).toBe(503);
    expect(response.headers["content-type"]).toMatch(/xml/);
    const text = response.body.toString();
    expect(text).toContain("<Code>ServiceUnavailable</Code>");
    expect(text).toContain(
      `<RequestId>${String(response.headers["x-amz-request-id"])}</RequestId>`,
    );
    for (const secret of [BACKEND.secretAccessKey, CLIENT.secretAccessKey, "ECONNREFUSED", "at "]) {
      expect(text).not.toContain(secret);
    }
    await expect
      .poll(() =>
        logs
          .records()
          .some((record) => record.log === "upstream" && record.code === "ServiceUnavailable"),
      )
      .toBe(true);
    const metrics = (await signedSend(osp.http!.url, { path: "/-/osp/metrics" })).body.toString();
    expect(metrics).toMatch(/osp_upstream_errors_total\{code="ServiceUnavailable"\} [1-9]/);
    expect(logs.text()).not.toContain(BACKEND.secretAccessKey);
  });
});

describe("backend timeouts from the server config", () => {
  let backend: Awaited<ReturnType<typeof startControlledBackend>>;
  let osp: ServerHandle;

  beforeAll(async () => {
    backend = await startControlledBackend((req, res) => {
      req.resume();
      // /no-answer: never a head. /stall: a head and 1 KiB of 1 MiB, then silence.
      if (req.url?.startsWith("/test-bucket/stall")) {
        res.writeHead(200, { "content-length": String(1024 * 1024) });
        res.write(Buffer.alloc(1024, 4));
      }
    });
    osp = await startOsp(
      ospConfig(backend.port, {
        logLevel: "silent",
        backendHeadersTimeoutMs: 300,
        backendBodyTimeoutMs: 300,
      }),
    );
  });

  afterAll(async () => {
    await osp?.close();
    await backend?.close();
  });

  it("answers 503 SlowDown when the backend sends no head within backendHeadersTimeoutMs", async () => {
    const startedAt = Date.now();
    const response = await signedSend(osp.http!.url, { path: "/test-bucket/no-answer" });
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(response.status).toBe(503);
    expect(response.body.toString()).toContain("<Code>SlowDown</Code>");
  });

  it("cuts the client connection when the body stalls past backendBodyTimeoutMs", async () => {
    const startedAt = Date.now();
    const { res } = await startDownload(osp.http!.url, "/test-bucket/stall");
    expect(res.statusCode).toBe(200);
    const outcome = await readOut(res);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(outcome).toEqual({ bytes: 1024, failed: true });
  });
});
