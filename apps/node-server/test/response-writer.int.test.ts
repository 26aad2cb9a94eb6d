// writeProxyResponse against a real node:http connection, with bodies the test controls: pieces
// at hand (readSync), pieces that come later (next), a socket that pushes back, and bodies that
// fail or are abandoned. A complete answer goes out without a promise; a failure after the head
// cuts the connection instead of ending a truncated body cleanly.
import { createHash, randomBytes } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { ProxyResponse, SyncReadableIterator } from "@osp/core";
import { afterEach, describe, expect, it } from "vitest";
import { writeProxyResponse } from "../src/response-writer.ts";

const OPTIONS = { requestId: "0123456789ABCDEF", serverName: "OSP", closeConnection: false };

/** A body iterator the test drives: `pieces` at hand (readSync), then `later` ones via next(). */
class TestBody implements AsyncIterableIterator<Uint8Array>, SyncReadableIterator {
  returned = 0;
  nextCalls = 0;
  readonly #atHand: Uint8Array[];
  readonly #later: Array<Uint8Array | Error>;
  readonly #failAtHand: Error | undefined;

  constructor(atHand: Uint8Array[], later: Array<Uint8Array | Error> = [], failAtHand?: Error) {
    this.#atHand = [...atHand];
    this.#later = [...later];
    this.#failAtHand = failAtHand;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  readSync(): IteratorResult<Uint8Array> | undefined {
    const piece = this.#atHand.shift();
    if (piece !== undefined) return { done: false, value: piece };
    if (this.#failAtHand !== undefined) throw this.#failAtHand;
    return this.#later.length === 0 ? { done: true, value: undefined } : undefined;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    this.nextCalls += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const piece = this.#later.shift();
    if (piece === undefined) return { done: true, value: undefined };
    if (piece instanceof Error) throw piece;
    return { done: false, value: piece };
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.returned += 1;
    return { done: true, value: undefined };
  }
}

interface Served {
  server: Server;
  url: string;
  written: Promise<{ result: void | Promise<void>; res: ServerResponse }>;
}

/** A server whose one answer is `response`, written by writeProxyResponse. */
const serve = async (response: () => ProxyResponse): Promise<Served> => {
  let settle!: (value: { result: void | Promise<void>; res: ServerResponse }) => void;
  const written = new Promise<{ result: void | Promise<void>; res: ServerResponse }>(
    (resolve) => (settle = resolve),
  );
  const server = createServer((req, res) => {
    settle({ result: writeProxyResponse(req, res, response(), OPTIONS), res });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, written };
};

interface Received {
  res: IncomingMessage;
  body: Buffer;
  /** The connection ended cleanly with the whole body. */
  complete: boolean;
}

const receive = (url: string, method = "GET", delayReadMs = 0): Promise<Received> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const settle = (complete: boolean) => {
        if (settled) return;
        settled = true;
        resolve({ res, body: Buffer.concat(chunks), complete });
      };
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => settle(res.complete));
      res.on("error", () => settle(false));
      res.on("close", () => settle(res.complete));
      if (delayReadMs > 0) {
        res.pause();
        setTimeout(() => res.resume(), delayReadMs);
      }
    });
    req.on("error", reject);
    req.end();
  });

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const pieces = (count: number, size: number): Uint8Array[] =>
  Array.from({ length: count }, () => new Uint8Array(randomBytes(size)));

describe("writeProxyResponse", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  const start = async (response: () => ProxyResponse) => {
    const served = await serve(response);
    servers.push(served.server);
    return served;
  };

  it("writes a body that is at hand without a promise, byte for byte", async () => {
    const body = pieces(2, 4096);
    const served = await start(() => ({
      status: 200,
      headers: [["Content-Length", "8192"]],
      body: new TestBody(body),
    }));
    const received = await receive(served.url);
    const { result } = await served.written;
    expect(result).toBeUndefined();
    expect(received.complete).toBe(true);
    expect(sha256(received.body)).toBe(sha256(Buffer.concat(body)));
    expect(received.res.headers["x-amz-request-id"]).toBe(OPTIONS.requestId);
  });

  it("waits for pieces that come later, and for a socket that pushes back", async () => {
    const atHand = pieces(64, 64 * 1024); // 4 MiB: more than the socket takes at once
    const later = pieces(3, 10_000);
    const all = Buffer.concat([...atHand, ...later]);
    const body = new TestBody(atHand, later);
    const served = await start(() => ({
      status: 200,
      headers: [["Content-Length", String(all.byteLength)]],
      body,
    }));
    const received = await receive(served.url, "GET", 100);
    const { result } = await served.written;
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBeUndefined();
    expect(received.complete).toBe(true);
    expect(sha256(received.body)).toBe(sha256(all));
    expect(body.nextCalls).toBeGreaterThan(0);
  });

  it("cuts the connection when the body fails after the head, at hand or later", async () => {
    // Failing on the pieces at hand: the head has been written but not yet flushed, so the
    // client sees the connection cut before any head; failing later, after a 200 head.
    for (const [body, headSent] of [
      [new TestBody(pieces(1, 1000), [], new Error("backend died")), false],
      [new TestBody(pieces(1, 1000), [new Uint8Array(10), new Error("backend died")]), true],
    ] as const) {
      const served = await start(() => ({
        status: 200,
        headers: [["Content-Length", "100000"]],
        body,
      }));
      const received = await receive(served.url).catch((error: Error) => error);
      const { result } = await served.written;
      // A returned promise never rejects: the failure is the cut connection.
      await expect(Promise.resolve(result)).resolves.toBeUndefined();
      if (!headSent) {
        expect(received).toMatchObject({ code: "ECONNRESET" });
        continue;
      }
      expect(received).not.toBeInstanceOf(Error);
      const { res, complete, body: bytes } = received as Received;
      expect(res.statusCode).toBe(200);
      expect(complete).toBe(false);
      expect(bytes.byteLength).toBeLessThan(100000);
    }
  });

  it("releases the body when the client is gone before it was written", async () => {
    const body = new TestBody([], [new Uint8Array(1000), new Uint8Array(1000)]);
    const served = await start(() => ({
      status: 200,
      headers: [["Content-Length", "2000"]],
      body,
    }));
    const req = httpRequest(served.url, { agent: false }, (res) => res.destroy());
    req.on("error", () => undefined);
    req.end();
    const { result, res } = await served.written;
    res.destroy(); // the client's socket is going away: the next write must not go out
    await expect(Promise.resolve(result)).resolves.toBeUndefined();
    expect(body.returned).toBe(1);
  });

  it("sends no body for HEAD and releases the one it was given", async () => {
    const body = new TestBody(pieces(1, 100));
    const served = await start(() => ({
      status: 200,
      headers: [["Content-Length", "100"]],
      body,
    }));
    const received = await receive(served.url, "HEAD");
    const { result } = await served.written;
    await Promise.resolve(result);
    expect(received.complete).toBe(true);
    expect(received.body.byteLength).toBe(0);
    expect(received.res.headers["content-length"]).toBe("100");
    expect(body.returned).toBe(1);
  });
});
