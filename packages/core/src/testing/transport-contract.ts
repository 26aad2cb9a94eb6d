// The behaviour every Transport must have, as a reusable vitest suite. It runs against a loopback
// node:http backend it starts itself, so any implementation (undici, fetch, a test double that
// really opens sockets) can prove it streams, aborts, fails loudly and never forwards what it must not.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OspError } from "../errors.ts";
import type { Body, Transport, UpstreamRequest, UpstreamResponse } from "../ports.ts";

/** What a transport under test supports; every capability defaults to true. @public */
export interface TransportContractCapabilities {
  /** Sends a body of unknown length with `Transfer-Encoding: chunked`. */
  chunkedRequestBody?: boolean;
  /** Delivers a backend answer sent before the request body was read (an early S3 error). */
  earlyResponse?: boolean;
}

/** Bounds every wait so a hanging transport fails the test instead of the run. */
const withTimeout = <T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
};

/** Byte `i` of every test object is `i % 251`, so any offset can be checked without a copy. */
const PATTERN_PERIOD = 251;
const PATTERN_BLOCK = Buffer.from(
  Array.from({ length: PATTERN_PERIOD * 261 }, (_, index) => index % PATTERN_PERIOD),
);

const patternSlice = (offset: number, length: number): Buffer => {
  const start = offset % PATTERN_PERIOD;
  if (start + length <= PATTERN_BLOCK.length) return PATTERN_BLOCK.subarray(start, start + length);
  const out = Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index += 1) out[index] = (offset + index) % PATTERN_PERIOD;
  return out;
};

async function* patternBody(
  totalBytes: number,
  chunkBytes = 16 * 1024,
): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < totalBytes; offset += chunkBytes) {
    yield Uint8Array.from(patternSlice(offset, Math.min(chunkBytes, totalBytes - offset)));
  }
}

const sha256Hex = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

const readAll = async (body: Body | null): Promise<Buffer> => {
  if (body == null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
};

/** What the echo route saw. */
interface EchoReport {
  method: string;
  url: string;
  rawHeaders: string[];
  bodyBytes: number;
  bodySha256: string;
}

/** One in-flight server-side request the tests can observe. */
interface Observed {
  /** Resolves when the server-side request or response closed before completing. */
  readonly aborted: Promise<void>;
  /** Resolves once the route handler has started. */
  readonly started: Promise<void>;
  /** Bytes the server managed to write into the socket. */
  writtenBytes: number;
  /** Resolves when the test releases the route (trickle). */
  readonly gate: Promise<void>;
  /** Lets a route continue (trickle). */
  readonly release: () => void;
}

interface Backend {
  readonly origin: string;
  readonly connections: () => number;
  observe(id: string): Observed;
  close(): Promise<void>;
}

type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  observed: Observed,
  url: URL,
) => void | Promise<void>;

const xml403 =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/** Resolves on the next `drain` or `close`, removing both listeners either way. */
const drainOrClose = (res: ServerResponse): Promise<void> =>
  new Promise<void>((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });

const writeWithBackpressure = async (
  res: ServerResponse,
  observed: Observed,
  totalBytes: number,
): Promise<void> => {
  const chunkBytes = 64 * 1024;
  for (let offset = 0; offset < totalBytes && !res.destroyed; offset += chunkBytes) {
    const chunk = patternSlice(offset, Math.min(chunkBytes, totalBytes - offset));
    const more = res.write(chunk);
    observed.writtenBytes += chunk.length;
    if (!more) await drainOrClose(res);
  }
  if (!res.destroyed) res.end();
};

const ROUTES: Record<string, Route> = {
  async echo(req, res) {
    const hash = createHash("sha256");
    let bodyBytes = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bodyBytes += chunk.length;
    }
    const report: EchoReport = {
      method: req.method ?? "",
      url: req.url ?? "",
      rawHeaders: req.rawHeaders,
      bodyBytes,
      bodySha256: hash.digest("hex"),
    };
    const json = JSON.stringify(report);
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(json),
    });
    res.end(json);
  },
  async object(_req, res, observed, url) {
    const size = Number(url.searchParams.get("size") ?? "0");
    res.writeHead(200, [
      "Content-Type",
      "application/octet-stream",
      "Content-Length",
      String(size),
      "x-amz-meta-a",
      "1",
      "ETag",
      '"pattern"',
      "X-Amz-Meta-A",
      "2",
    ]);
    await writeWithBackpressure(res, observed, size);
  },
  async trickle(_req, res, observed) {
    res.writeHead(200, { "content-length": "8" });
    res.write("abcd");
    observed.writtenBytes += 4;
    await observed.gate;
    res.end("efgh");
  },
  status404(_req, res) {
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code></Error>';
    res.writeHead(404, {
      "content-type": "application/xml",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  },
  head(_req, res) {
    res.writeHead(200, { "content-length": "1234", etag: '"h"' });
    res.end();
  },
  noContent(_req, res) {
    res.writeHead(204);
    res.end();
  },
  hang() {
    // Never answers: the caller must abort.
  },
  async stallBody(_req, res, observed) {
    res.writeHead(200, { "content-length": String(1024 * 1024) });
    res.write(patternSlice(0, 1024));
    observed.writtenBytes += 1024;
  },
  dieMidBody(_req, res) {
    res.writeHead(200, { "content-length": String(1024 * 1024) });
    res.write(patternSlice(0, 64 * 1024), () => res.socket?.destroy());
  },
  dieChunked(_req, res) {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.write(patternSlice(0, 64 * 1024), () => res.socket?.destroy());
  },
  early403(_req, res) {
    // Answers without reading the upload, as S3 does for a request it rejects up front.
    res.writeHead(403, {
      "content-type": "application/xml",
      "content-length": Buffer.byteLength(xml403),
      connection: "close",
    });
    res.end(xml403);
  },
  slowRead() {
    // Reads nothing: the upload stalls in the socket buffers until the caller aborts.
  },
};

const startBackend = async (): Promise<Backend> => {
  const observedById = new Map<string, Observed & { markStarted(): void; markAborted(): void }>();
  const sockets = new Set<Socket>();
  let connectionCount = 0;

  const observe = (id: string) => {
    let entry = observedById.get(id);
    if (entry == null) {
      const started = deferred();
      const aborted = deferred();
      const gate = deferred();
      entry = {
        started: started.promise,
        aborted: aborted.promise,
        writtenBytes: 0,
        gate: gate.promise,
        release: () => gate.resolve(),
        markStarted: () => started.resolve(),
        markAborted: () => aborted.resolve(),
      };
      observedById.set(id, entry);
    }
    return entry;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://backend");
    const routeName = url.pathname.split("/")[1] ?? "";
    const route = ROUTES[routeName];
    const observed = observe(url.searchParams.get("id") ?? `anonymous-${Math.random()}`);
    let completed = false;
    res.on("finish", () => (completed = true));
    req.on("close", () => {
      if (!req.complete) observed.markAborted();
    });
    res.on("close", () => {
      if (!completed) observed.markAborted();
    });
    observed.markStarted();
    if (route == null) {
      res.writeHead(400).end(`unknown route ${routeName}`);
      return;
    }
    Promise.resolve(route(req, res, observed, url)).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", (socket: Socket) => {
    connectionCount += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: () => connectionCount,
    observe,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** A port on which nothing listens (bound, then released). */
const closedPort = async (): Promise<number> => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
};

let nextId = 0;
const uniqueId = (): string => `r${(nextId += 1)}`;

/** Polls until the backend stopped making progress writing, i.e. backpressure reached it. */
const waitUntilStalled = async (observed: Observed, quietMs = 200): Promise<void> => {
  let last = -1;
  let quietSince = Date.now();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (observed.writtenBytes !== last) {
      last = observed.writtenBytes;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return;
    }
  }
  throw new Error("the backend never stalled: the transport buffers without bound");
};

const expectOspError = (error: unknown): OspError => {
  expect(OspError.is(error), `expected an OspError, got ${String(error)}`).toBe(true);
  return error as OspError;
};

const headerValues = (rawHeaders: string[], name: string): string[] => {
  const values: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === name) values.push(rawHeaders[index + 1]!);
  }
  return values;
};

const headerValuesOf = (response: UpstreamResponse, name: string): string[] =>
  response.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);

/**
 * Registers the transport contract: streaming both ways, wire fidelity of method, path, query and
 * headers, hop-by-hop and `Expect` stripping, backend errors passed through, aborts in every phase,
 * loud failures (a truncated body always throws), early backend answers and backpressure.
 * `makeTransport` is called once; the transport is closed after the suite.
 * @public
 */
export const describeTransport = (
  name: string,
  makeTransport: () => Transport | Promise<Transport>,
  capabilities: TransportContractCapabilities = {},
): void => {
  const chunked = capabilities.chunkedRequestBody !== false;
  const earlyResponse = capabilities.earlyResponse !== false;

  describe(`Transport contract: ${name}`, () => {
    let backend: Backend;
    let transport: Transport;

    beforeAll(async () => {
      backend = await startBackend();
      transport = await makeTransport();
    });

    afterAll(async () => {
      await withTimeout(Promise.resolve(transport?.close?.()), "transport.close()").catch(() => {});
      await backend?.close();
    });

    const upstream = (
      overrides: Partial<UpstreamRequest> & { pathAndQuery: string },
    ): UpstreamRequest => ({
      method: "GET",
      origin: backend.origin,
      headers: [],
      body: null,
      verifyTls: true,
      signal: new AbortController().signal,
      ...overrides,
    });

    const echo = async (request: UpstreamRequest): Promise<EchoReport> => {
      const response = await withTimeout(transport.send(request), "the echo response");
      expect(response.status).toBe(200);
      return JSON.parse(
        (await withTimeout(readAll(response.body), "the echo body")).toString("utf8"),
      ) as EchoReport;
    };

    it("returns the status, the headers in wire order with repeats, and the body", async () => {
      const size = 300_000;
      const response = await withTimeout(
        transport.send(upstream({ pathAndQuery: `/object?size=${size}&id=${uniqueId()}` })),
        "the response",
      );
      expect(response.status).toBe(200);
      expect(headerValuesOf(response, "content-length")).toEqual([String(size)]);
      expect(headerValuesOf(response, "x-amz-meta-a")).toEqual(["1", "2"]);
      const names = response.headers.map(([key]) => key.toLowerCase());
      expect(names.indexOf("etag")).toBeLessThan(names.lastIndexOf("x-amz-meta-a"));
      const body = await withTimeout(readAll(response.body), "the body");
      expect(body.length).toBe(size);
      expect(sha256Hex(body)).toBe(sha256Hex(patternSlice(0, size)));
    });

    it("sends the method, the raw path and the raw query byte for byte", async () => {
      const pathAndQuery = "/echo/a%2Fb+c%20d/%E2%82%AC//x?list-type=2&prefix=a%2Fb%2B&empty=&flag";
      const report = await echo(upstream({ method: "DELETE", pathAndQuery }));
      expect(report.method).toBe("DELETE");
      expect(report.url).toBe(pathAndQuery);
    });

    it("forwards end-to-end headers in order with repeats, and never Expect or hop-by-hop headers", async () => {
      const report = await echo(
        upstream({
          pathAndQuery: "/echo",
          headers: [
            [
              "Authorization",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/s3/aws4_request",
            ],
            ["x-amz-meta-x", "1"],
            ["Expect", "100-continue"],
            ["Connection", "X-Hop-Secret"],
            ["X-Hop-Secret", "must-not-leave"],
            ["Keep-Alive", "timeout=99"],
            ["Proxy-Connection", "keep-alive"],
            ["TE", "trailers"],
            ["Upgrade", "websocket"],
            ["Transfer-Encoding", "chunked"],
            ["X-Amz-Meta-X", "2"],
            ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"],
          ],
        }),
      );
      const raw = report.rawHeaders;
      expect(headerValues(raw, "authorization")).toEqual([
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/s3/aws4_request",
      ]);
      expect(headerValues(raw, "x-amz-meta-x")).toEqual(["1", "2"]);
      expect(headerValues(raw, "x-amz-content-sha256")).toEqual(["UNSIGNED-PAYLOAD"]);
      for (const forbidden of [
        "expect",
        "x-hop-secret",
        "keep-alive",
        "proxy-connection",
        "te",
        "upgrade",
        "transfer-encoding",
      ]) {
        expect(headerValues(raw, forbidden), forbidden).toEqual([]);
      }
      for (const value of headerValues(raw, "connection")) {
        expect(["keep-alive", "close"]).toContain(value.toLowerCase());
      }
    });

    it("sends a body of known length with Content-Length", async () => {
      const size = 200_003;
      const report = await echo(
        upstream({
          method: "PUT",
          pathAndQuery: "/echo/known",
          body: patternBody(size),
          bodyLengthBytes: size,
        }),
      );
      expect(headerValues(report.rawHeaders, "content-length")).toEqual([String(size)]);
      expect(headerValues(report.rawHeaders, "transfer-encoding")).toEqual([]);
      expect(report.bodyBytes).toBe(size);
      expect(report.bodySha256).toBe(sha256Hex(patternSlice(0, size)));
    });

    it.runIf(chunked)("sends a body of unknown length chunked", async () => {
      const size = 150_001;
      const report = await echo(
        upstream({ method: "PUT", pathAndQuery: "/echo/chunked", body: patternBody(size) }),
      );
      expect(headerValues(report.rawHeaders, "transfer-encoding")).toEqual(["chunked"]);
      expect(headerValues(report.rawHeaders, "content-length")).toEqual([]);
      expect(report.bodyBytes).toBe(size);
      expect(report.bodySha256).toBe(sha256Hex(patternSlice(0, size)));
    });

    it("sends an empty PUT with Content-Length 0", async () => {
      const report = await echo(
        upstream({ method: "PUT", pathAndQuery: "/echo/empty", body: null, bodyLengthBytes: 0 }),
      );
      expect(headerValues(report.rawHeaders, "content-length")).toEqual(["0"]);
      expect(headerValues(report.rawHeaders, "transfer-encoding")).toEqual([]);
      expect(report.bodyBytes).toBe(0);
    });

    it("passes backend error answers through as responses", async () => {
      const response = await withTimeout(
        transport.send(upstream({ pathAndQuery: "/status404" })),
        "the 404",
      );
      expect(response.status).toBe(404);
      expect(headerValuesOf(response, "content-type")).toEqual(["application/xml"]);
      expect((await readAll(response.body)).toString("utf8")).toContain("<Code>NoSuchKey</Code>");
    });

    it("returns HEAD and 204 answers without body bytes", async () => {
      const head = await withTimeout(
        transport.send(upstream({ method: "HEAD", pathAndQuery: "/head" })),
        "HEAD",
      );
      expect(head.status).toBe(200);
      expect(headerValuesOf(head, "content-length")).toEqual(["1234"]);
      expect((await readAll(head.body)).length).toBe(0);
      const empty = await withTimeout(
        transport.send(upstream({ pathAndQuery: "/noContent" })),
        "204",
      );
      expect(empty.status).toBe(204);
      expect((await readAll(empty.body)).length).toBe(0);
    });

    it("streams the response: the first bytes arrive before the backend finished", async () => {
      const id = uniqueId();
      const observed = backend.observe(id);
      const response = await withTimeout(
        transport.send(upstream({ pathAndQuery: `/trickle?id=${id}` })),
        "trickle",
      );
      const iterator = response.body![Symbol.asyncIterator]();
      const first = await withTimeout(iterator.next(), "the first chunk before the rest was sent");
      expect(Buffer.from(first.value!).toString()).toBe("abcd");
      observed.release();
      const rest: Uint8Array[] = [];
      for (let step = await iterator.next(); step.done !== true; step = await iterator.next())
        rest.push(step.value);
      expect(Buffer.concat(rest).toString()).toBe("efgh");
    });

    it("applies backpressure: a consumer that stops reading stops the backend", async () => {
      const id = uniqueId();
      const observed = backend.observe(id);
      const size = 64 * 1024 * 1024;
      const response = await withTimeout(
        transport.send(upstream({ pathAndQuery: `/object?size=${size}&id=${id}` })),
        "the large response",
      );
      const iterator = response.body![Symbol.asyncIterator]();
      await iterator.next();
      await waitUntilStalled(observed);
      // Kernel socket buffers take a few MiB on loopback; the rest must not be read ahead.
      expect(observed.writtenBytes).toBeLessThan(32 * 1024 * 1024);
      await iterator.return?.();
      await withTimeout(observed.aborted, "the backend to see the cancelled exchange");
    });

    it("rejects with ServiceUnavailable when the backend refuses the connection, without secrets", async () => {
      const secret = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=deadbeefcafe";
      const port = await closedPort();
      const failure = await withTimeout(
        transport
          .send(
            upstream({
              origin: `http://127.0.0.1:${port}`,
              pathAndQuery: "/bucket/key?X-Amz-Signature=deadbeefcafe",
              headers: [["Authorization", secret]],
            }),
          )
          .then(
            () => new Error("resolved"),
            (error: unknown) => error,
          ),
        "the refused connection",
      );
      const error = expectOspError(failure);
      expect(error).toMatchObject({ code: "ServiceUnavailable", status: 503, source: "upstream" });
      expect(error.message).not.toContain("deadbeefcafe");
      expect(error.message).not.toContain("AKIDEXAMPLE");
      expect(error.message).not.toMatch(/\n\s+at /);
    });

    it("rejects at once when the signal is already aborted", async () => {
      const controller = new AbortController();
      controller.abort();
      const failure = await withTimeout(
        transport
          .send(upstream({ pathAndQuery: "/hang", signal: controller.signal }))
          .catch((error: unknown) => error),
        "the rejection",
      );
      expectOspError(failure);
    });

    it("aborts a request waiting for its response when the signal fires", async () => {
      const id = uniqueId();
      const observed = backend.observe(id);
      const controller = new AbortController();
      const sending = transport.send(
        upstream({ pathAndQuery: `/hang?id=${id}`, signal: controller.signal }),
      );
      await withTimeout(observed.started, "the backend to receive the request");
      controller.abort();
      expectOspError(
        await withTimeout(
          sending.catch((error: unknown) => error),
          "the rejection",
        ),
      );
      await withTimeout(observed.aborted, "the backend to see the request go away");
    });

    it("makes the response body throw when the signal fires mid-body", async () => {
      const id = uniqueId();
      const observed = backend.observe(id);
      const controller = new AbortController();
      const response = await withTimeout(
        transport.send(
          upstream({ pathAndQuery: `/stallBody?id=${id}`, signal: controller.signal }),
        ),
        "the response head",
      );
      const iterator = response.body![Symbol.asyncIterator]();
      await withTimeout(iterator.next(), "the first chunk");
      const pending = iterator.next();
      controller.abort();
      expectOspError(
        await withTimeout(
          pending.then(
            () => new Error("ended"),
            (error: unknown) => error,
          ),
          "the body to throw",
        ),
      );
      await withTimeout(observed.aborted, "the backend to see the connection close");
    });

    it("aborts an upload in progress when the signal fires", async () => {
      const id = uniqueId();
      const observed = backend.observe(id);
      const controller = new AbortController();
      const stuck = deferred();
      async function* upload(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(1024);
        await stuck.promise;
      }
      const sending = transport.send(
        upstream({
          method: "PUT",
          pathAndQuery: `/slowRead?id=${id}`,
          body: upload(),
          bodyLengthBytes: 4096,
          signal: controller.signal,
        }),
      );
      await withTimeout(observed.started, "the backend to receive the upload");
      controller.abort();
      expectOspError(
        await withTimeout(
          sending.catch((error: unknown) => error),
          "the rejection",
        ),
      );
      await withTimeout(observed.aborted, "the backend to see the upload cut");
      stuck.resolve();
    });

    it("makes the body throw, never end cleanly, when the backend dies mid-body", async () => {
      for (const route of ["dieMidBody", "dieChunked"]) {
        const response = await withTimeout(
          transport.send(upstream({ pathAndQuery: `/${route}` })),
          route,
        );
        expect(response.status).toBe(200);
        let received = 0;
        const outcome = await withTimeout(
          (async () => {
            for await (const chunk of response.body!) received += chunk.byteLength;
          })().then(
            () => new Error(`${route}: body ended cleanly`),
            (error: unknown) => error,
          ),
          `${route}: the body to fail`,
        );
        expect(expectOspError(outcome).source, route).toBe("upstream");
        expect(received, route).toBeLessThanOrEqual(64 * 1024);
      }
    });

    it.runIf(earlyResponse)(
      "delivers an answer the backend sends before reading the upload",
      async () => {
        const stuck = deferred();
        let pulled = 0;
        async function* upload(): AsyncGenerator<Uint8Array> {
          pulled += 1;
          yield new Uint8Array(64 * 1024);
          await stuck.promise;
          pulled += 1;
          yield new Uint8Array(64 * 1024);
        }
        const response = await withTimeout(
          transport.send(
            upstream({
              method: "PUT",
              pathAndQuery: "/early403",
              body: upload(),
              bodyLengthBytes: 10 * 1024 * 1024,
            }),
          ),
          "the early 403 to reach the caller",
        );
        expect(response.status).toBe(403);
        expect((await withTimeout(readAll(response.body), "the 403 body")).toString("utf8")).toBe(
          xml403,
        );
        stuck.resolve();
        // The transport stays usable.
        const after = await echo(upstream({ pathAndQuery: "/echo/after-early" }));
        expect(after.method).toBe("GET");
        expect(pulled).toBeLessThanOrEqual(2);
      },
    );

    it("releases the exchange when the consumer stops reading early", async () => {
      const id = uniqueId();
      const observed = backend.observe(id);
      const response = await withTimeout(
        transport.send(upstream({ pathAndQuery: `/object?size=${8 * 1024 * 1024}&id=${id}` })),
        "the response",
      );
      for await (const chunk of response.body!) {
        expect(chunk.byteLength).toBeGreaterThan(0);
        break;
      }
      await withTimeout(observed.aborted, "the backend to see the exchange end");
      const after = await echo(upstream({ pathAndQuery: "/echo/after-cancel" }));
      expect(after.url).toBe("/echo/after-cancel");
    });
  });
};
