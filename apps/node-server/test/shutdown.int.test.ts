// Graceful shutdown: stop accepting, readyz 503, in-flight requests finish; past the deadline,
// what is left is cut.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerHandle } from "../src/index.ts";
import {
  CLIENT,
  LogCapture,
  ospConfig,
  send,
  startControlledBackend,
  startOsp,
} from "./support/harness.ts";
import { signRequest } from "./support/sigv4-client.ts";

/** A signed GET whose whole answer is awaited. */
const download = (
  base: string,
  path: string,
): Promise<{ status: number; bytes: number; complete: boolean }> =>
  new Promise((resolve, reject) => {
    const url = new URL(base);
    const headers = signRequest({ method: "GET", host: url.host, path, credentials: CLIENT });
    const req = httpRequest(`${base}${path}`, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.byteLength));
      res.on("close", () =>
        resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }),
      );
    });
    req.on("error", reject);
    req.end();
  });

describe("graceful shutdown", () => {
  let backend: Awaited<ReturnType<typeof startControlledBackend>>;
  let backendRequests = 0;

  beforeAll(async () => {
    // Answers after `delayMs` from the path: /test-bucket/delay-<ms>.
    backend = await startControlledBackend((req, res) => {
      backendRequests += 1;
      req.resume();
      const delayMs = Number(/delay-(\d+)/.exec(req.url ?? "")?.[1] ?? 0);
      const timer = setTimeout(() => {
        res.writeHead(200, { "content-length": "5" });
        res.end("slow!");
      }, delayMs);
      res.on("close", () => clearTimeout(timer));
    });
  });

  afterAll(async () => {
    await backend?.close();
  });

  it("drains an in-flight slow request and reports not ready meanwhile", async () => {
    const osp: ServerHandle = await startOsp(
      ospConfig(backend.port, { adminPort: 0, logLevel: "silent", shutdownTimeoutMs: 10_000 }),
    );
    const before = backendRequests;
    const inFlight = download(osp.http!.url, "/test-bucket/delay-600");
    while (backendRequests === before) await new Promise((resolve) => setTimeout(resolve, 5));
    const startedAt = Date.now();
    const closed = osp.close();
    let closedYet = false;
    void closed.then(() => (closedYet = true));
    const ready = await send(`${osp.admin!.url}/readyz`);
    expect([ready.status, ready.body.toString()]).toEqual([503, "draining\n"]);
    // New connections are refused once draining started.
    await expect(send(`${osp.http!.url}/-/osp/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    expect(closedYet).toBe(false);
    const answer = await inFlight;
    expect(answer).toEqual({ status: 200, bytes: 5, complete: true });
    await closed;
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it("cuts requests still running at the deadline, each with its one access line", async () => {
    const logs = new LogCapture();
    const osp: ServerHandle = await startOsp(
      ospConfig(backend.port, { logDestination: logs, shutdownTimeoutMs: 200 }),
    );
    // Finished before the shutdown, then two cut by it.
    expect(await download(osp.http!.url, "/test-bucket/delay-0")).toEqual({
      status: 200,
      bytes: 5,
      complete: true,
    });
    const before = backendRequests;
    const cut = ["/test-bucket/delay-20000", "/test-bucket/delay-30000"].map((path) =>
      download(osp.http!.url, path).catch((error: Error) => ({ error: error.message })),
    );
    while (backendRequests < before + 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const startedAt = Date.now();
    await osp.close();
    const elapsedMs = Date.now() - startedAt;
    expect(elapsedMs).toBeGreaterThanOrEqual(150);
    expect(elapsedMs).toBeLessThan(4_000);
    for (const outcome of await Promise.all(cut)) {
      expect("error" in outcome || !(outcome as { complete: boolean }).complete).toBe(true);
    }
    // Written by the time close() resolves: none lost, none twice, with distinct request ids.
    const access = logs.records().filter((record) => record.log === "access");
    expect(access.map((record) => record.path).sort()).toEqual([
      "/test-bucket/delay-0",
      "/test-bucket/delay-20000",
      "/test-bucket/delay-30000",
    ]);
    expect(new Set(access.map((record) => record.requestId)).size).toBe(3);
    const cutLines = access.filter((record) => record.path !== "/test-bucket/delay-0");
    expect(cutLines.every((record) => record.aborted === true)).toBe(true);
  });

  it("closes idle keep-alive connections at once", async () => {
    const osp: ServerHandle = await startOsp(
      ospConfig(backend.port, { logLevel: "silent", shutdownTimeoutMs: 10_000 }),
    );
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await new Promise<void>((resolve, reject) => {
        httpRequest(`${osp.http!.url}/-/osp/healthz`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve());
        })
          .on("error", reject)
          .end();
      });
      const startedAt = Date.now();
      await osp.close();
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    } finally {
      agent.destroy();
    }
  });
});
