// Bodies through the pipeline: aws-chunked uploads verified and re-signed chunk by chunk (checked
// by the independent codec at the backend), translations for backends without trailer support,
// the proxy's own payload checks with held-back tails, early backend answers, aborts and broken
// response streams.

import { createHash, randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ProxyRequest } from "../src/index.ts";
import { checksumBase64 } from "./support/aws-chunked.ts";
import { signedClientRequest, type ClientRequestOptions } from "./support/client.ts";
import { createHarness, readBody, START, type Harness } from "./support/harness.ts";

const upload = (path: string, data: Buffer, extra: Partial<ClientRequestOptions> = {}) =>
  signedClientRequest({
    method: "PUT",
    path,
    body: data,
    signingDate: START,
    pieceBytes: 3333,
    ...extra,
  });

const withTimeout = <T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
};

describe("request and response bodies", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());
  afterEach(() => h.backend.intercept(undefined));

  const last = () => h.backend.requests.at(-1)!;
  const header = (name: string) => last().headers.get(name)?.[0];

  it("D-9: a signed aws-chunked upload is verified and re-signed chunk by chunk (no double framing, ≥ 8 KiB chunks)", async () => {
    const data = randomBytes(200_000);
    const response = await h.send(
      upload("/data/stream.bin", data, { payload: "streaming-signed", chunkBytes: 8192 }),
    );
    expect(response.status, response.text).toBe(200);
    expect(last().verification).toBe("ok");
    expect(header("x-amz-content-sha256")).toBe("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    expect(header("x-amz-decoded-content-length")).toBe(String(data.length));
    expect(header("content-encoding")).toBe("aws-chunked");
    expect(last().chunks!.chunkSizes).toEqual([65_536, 65_536, 65_536, 200_000 - 3 * 65_536, 0]);
    expect(last().payload.equals(data)).toBe(true);
    expect(h.backend.objects.get("data/stream.bin")!.equals(data)).toBe(true);
  });

  it("keeps a signed checksum trailer for backends that accept trailers", async () => {
    const data = randomBytes(70_000);
    const response = await h.send(
      upload("/data/trailer.bin", data, { payload: "streaming-signed-trailer" }),
    );
    expect(response.status, response.text).toBe(200);
    expect(last().verification).toBe("ok");
    expect(header("x-amz-content-sha256")).toBe("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
    expect(header("x-amz-trailer")).toBe("x-amz-checksum-crc32");
    expect(last().chunks!.trailers).toEqual([
      ["x-amz-checksum-crc32", checksumBase64("crc32", data)],
    ]);
  });

  it("passes STREAMING-UNSIGNED-PAYLOAD-TRAILER through to backends that accept it (headers re-signed)", async () => {
    const data = randomBytes(50_000);
    const request = await upload("/data/unsigned-trailer.bin", data, {
      payload: "streaming-unsigned-trailer",
    });
    const response = await h.send(request);
    expect(response.status, response.text).toBe(200);
    expect(last().verification).toBe("ok");
    expect(header("x-amz-content-sha256")).toBe("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    // §10: the checksum headers travel with it.
    expect(header("x-amz-trailer")).toBe("x-amz-checksum-crc32");
    expect(header("x-amz-sdk-checksum-algorithm")).toBe("CRC32");
    expect(header("x-amz-decoded-content-length")).toBe("50000");
    expect(last().body.equals(request.wireBody!)).toBe(true);
    expect(last().payload.equals(data)).toBe(true);
  });

  it("translates STREAMING-UNSIGNED-PAYLOAD-TRAILER into signed chunks with a length for backends without trailer support", async () => {
    const data = randomBytes(100_000);
    const response = await h.send(
      upload("/legacy/sdk-default.bin", data, { payload: "streaming-unsigned-trailer" }),
    );
    expect(response.status, response.text).toBe(200);
    const forwarded = last();
    expect(forwarded.verification).toBe("ok");
    expect(header("x-amz-content-sha256")).toBe("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    expect(header("x-amz-decoded-content-length")).toBe("100000");
    expect(header("content-length")).toBe(String(forwarded.body.length));
    expect(forwarded.headers.has("transfer-encoding")).toBe(false);
    expect(forwarded.headers.has("x-amz-trailer")).toBe(false);
    expect(forwarded.headers.has("x-amz-sdk-checksum-algorithm")).toBe(false);
    expect(forwarded.payload.equals(data)).toBe(true);
  });

  it("translates a signed trailer stream for backends without trailer support", async () => {
    const data = randomBytes(30_000);
    const response = await h.send(
      upload("/legacy/signed-trailer.bin", data, { payload: "streaming-signed-trailer" }),
    );
    expect(response.status, response.text).toBe(200);
    expect(last().verification).toBe("ok");
    expect(header("x-amz-content-sha256")).toBe("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    expect(last().chunks!.trailers).toEqual([]);
    expect(last().payload.equals(data)).toBe(true);
  });

  it("refuses a checksum trailer that does not match (BadDigest) and the backend never gets a complete upload", async () => {
    const data = randomBytes(100_000);
    const request = await upload("/legacy/corrupt.bin", data, {
      payload: "streaming-unsigned-trailer",
    });
    const wire = Buffer.from(request.wireBody!);
    const at = wire.indexOf("x-amz-checksum-crc32:") + "x-amz-checksum-crc32:".length;
    wire[at] = wire[at] === 0x41 ? 0x42 : 0x41;
    const before = h.backend.requests.length;
    const response = await h.send({
      ...request,
      body: (async function* () {
        yield* [wire.subarray(0, 60_000), wire.subarray(60_000)];
      })(),
    });
    expect(response.status).toBe(400);
    expect(response.text).toContain("<Code>BadDigest</Code>");
    await h.backend.waitForRequests(before + 1);
    expect(h.backend.requests.length).toBe(before + 1);
    expect(last().aborted).toBe(true);
    expect(h.backend.objects.has("legacy/corrupt.bin")).toBe(false);
  });

  it("D-9: refuses a tampered signed chunk (SignatureDoesNotMatch); nothing is committed", async () => {
    const data = randomBytes(200_000);
    const request = await upload("/data/tampered.bin", data, {
      payload: "streaming-signed",
      tamper: (frames) => void (frames[7] = Buffer.from(frames[7]!).fill(1)), // data of the third chunk
    });
    const before = h.backend.requests.length;
    const response = await h.send(request);
    expect(response.status).toBe(403);
    expect(response.text).toContain("<Code>SignatureDoesNotMatch</Code>");
    await h.backend.waitForRequests(before + 1);
    expect(last().aborted).toBe(true);
    expect(h.backend.objects.has("data/tampered.bin")).toBe(false);
  });

  it("refuses a truncated aws-chunked upload (IncompleteBody); nothing is committed", async () => {
    const data = randomBytes(100_000);
    const request = await upload("/data/truncated.bin", data, { payload: "streaming-signed" });
    const before = h.backend.requests.length;
    const response = await h.send({
      ...request,
      body: (async function* () {
        yield request.wireBody!.subarray(0, 80_000);
      })(),
    });
    expect(response.status).toBe(400);
    expect(response.text).toContain("<Code>IncompleteBody</Code>");
    await h.backend.waitForRequests(before + 1);
    expect(last().aborted).toBe(true);
    expect(h.backend.objects.has("data/truncated.bin")).toBe(false);
  });

  it("answers 411 MissingContentLength when a stream must be re-signed without x-amz-decoded-content-length", async () => {
    const response = await h.send(
      upload("/data/nolength.bin", randomBytes(10), {
        payload: "streaming-signed",
        omitDecodedLength: true,
      }),
    );
    expect(response.status).toBe(411);
    expect(response.text).toContain("<Code>MissingContentLength</Code>");
  });

  it("streams: the backend receives the first re-signed chunks before the client has sent the rest", async () => {
    const data = randomBytes(300_000);
    const request = await upload("/data/streamed.bin", data, { payload: "streaming-signed" });
    let backendBytes = 0;
    let reached!: () => void;
    const backendGotFirstChunks = new Promise<void>((resolve) => (reached = resolve));
    h.backend.intercept((incoming, response, record) => {
      const parts: Buffer[] = [];
      incoming.on("data", (part: Buffer) => {
        parts.push(part);
        backendBytes += part.length;
        if (backendBytes > 70_000) reached();
      });
      incoming.on("end", () => {
        record.body = Buffer.concat(parts);
        response.writeHead(200, { "content-length": 0 });
        response.end();
      });
      return true;
    });
    const wire = request.wireBody!;
    const body = (async function* () {
      yield wire.subarray(0, 150_000);
      // The rest only once the backend has seen more than one re-signed chunk.
      await withTimeout(backendGotFirstChunks, "first chunks at the backend");
      yield wire.subarray(150_000);
    })();
    const response = await h.send({ ...request, body });
    expect(response.status).toBe(200);
    expect(last().body.length).toBeGreaterThan(300_000);
  });

  it("an early backend answer (before the upload was read) reaches the client unchanged, not as 502", async () => {
    h.backend.intercept((incoming, response) => {
      const xml =
        "<Error><Code>AccessDenied</Code><Message>Bucket policy says no</Message></Error>";
      response.writeHead(403, {
        "content-type": "application/xml",
        "content-length": xml.length,
        connection: "close",
      });
      response.end(xml);
      // Like S3: answer first, then read and discard what is still coming.
      incoming.resume();
      return true;
    });
    const data = randomBytes(2_000_000);
    const response = await withTimeout(
      h.send(upload("/data/early.bin", data, { payload: "unsigned", pieceBytes: 64 * 1024 })),
      "early answer",
    );
    expect(response.status).toBe(403);
    expect(response.text).toBe(
      "<Error><Code>AccessDenied</Code><Message>Bucket policy says no</Message></Error>",
    );
  });

  it("a client abort aborts the upstream request", async () => {
    const controller = new AbortController();
    let released!: () => void;
    const gate = new Promise<void>((resolve) => (released = resolve));
    const request = await upload("/data/aborted.bin", randomBytes(100_000), {
      payload: "unsigned",
      signal: controller.signal,
    });
    const before = h.backend.requests.length;
    const body = (async function* () {
      yield new Uint8Array(50_000);
      await gate;
    })();
    const pending = h.send({ ...request, body });
    await withTimeout(
      (async () => {
        while (h.backend.requests.length === before)
          await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      "upstream request started",
    );
    controller.abort(new Error("client went away"));
    const response = await withTimeout(pending, "aborted request");
    released();
    expect(response.status).toBeGreaterThanOrEqual(400);
    await h.backend.waitForRequests(before + 1);
    expect(last().aborted).toBe(true);
  });

  it("a backend stream that breaks after the headers makes the response body throw (never a clean truncated 200)", async () => {
    h.backend.intercept((_incoming, response) => {
      response.writeHead(200, { "content-length": 100_000 });
      response.write(Buffer.alloc(10_000));
      setTimeout(() => response.socket?.destroy(), 20);
      return true;
    });
    const request = await signedClientRequest({
      method: "GET",
      path: "/data/broken.bin",
      signingDate: START,
    });
    const response = await h.proxy.handle(request);
    expect(response.status).toBe(200);
    await expect(withTimeout(readBody(response.body), "broken body")).rejects.toThrow();
  });
});

describe("bearer backends: the proxy checks what the backend cannot", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  const last = () => h.backend.requests.at(-1)!;

  it("sends Authorization: Bearer and a plain body for a SHA-256 payload it verified", async () => {
    const data = randomBytes(40_000);
    const response = await h.send(upload("/ibm/plain.bin", data));
    expect(response.status, response.text).toBe(200);
    expect(last().verification).toBe("ok");
    expect(last().headers.get("authorization")).toEqual([`Bearer ${h.bearer.current()}`]);
    expect(last().headers.has("x-amz-date")).toBe(false);
    expect(h.backend.objects.get("ibm/plain.bin")!.equals(data)).toBe(true);
  });

  it("refuses a body that does not match its signed SHA-256 (XAmzContentSHA256Mismatch); the backend never gets it whole", async () => {
    const data = randomBytes(40_000);
    const request = await upload("/ibm/swapped.bin", data);
    const swapped = Buffer.from(data);
    swapped[39_999] = swapped[39_999]! ^ 0xff;
    const before = h.backend.requests.length;
    const response = await h.send({
      ...request,
      body: (async function* () {
        yield* [swapped.subarray(0, 20_000), swapped.subarray(20_000)];
      })(),
    });
    expect(response.status).toBe(400);
    expect(response.text).toContain("<Code>XAmzContentSHA256Mismatch</Code>");
    await h.backend.waitForRequests(before + 1);
    expect(last().aborted).toBe(true);
    expect(last().body.length).toBeLessThan(data.length);
    expect(h.backend.objects.has("ibm/swapped.bin")).toBe(false);
  });

  it("decodes a signed aws-chunked upload into a plain body with Content-Length = decoded length", async () => {
    const data = randomBytes(150_000);
    const response = await h.send(
      upload("/ibm/chunked.bin", data, { payload: "streaming-signed-trailer" }),
    );
    expect(response.status, response.text).toBe(200);
    expect(last().headers.get("content-length")).toEqual(["150000"]);
    expect(last().headers.has("content-encoding")).toBe(false);
    expect(last().headers.has("x-amz-decoded-content-length")).toBe(false);
    expect(last().body.equals(data)).toBe(true);
    expect(
      createHash("sha256").update(h.backend.objects.get("ibm/chunked.bin")!).digest("hex"),
    ).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("refuses a tampered chunk before the backend gets the whole decoded body", async () => {
    const data = randomBytes(150_000);
    const request = await upload("/ibm/tampered.bin", data, {
      payload: "streaming-signed",
      tamper: (frames) => void (frames[4] = Buffer.from(frames[4]!).fill(7)),
    });
    const before = h.backend.requests.length;
    const response = await h.send(request);
    expect(response.status).toBe(403);
    await h.backend.waitForRequests(before + 1);
    expect(last().aborted).toBe(true);
    expect(h.backend.objects.has("ibm/tampered.bin")).toBe(false);
  });

  it("refreshes a rejected token once and replays a request without body (GET); at most once per 30 s", async () => {
    let accepted = "token-2"; // the provider's first token (token-1) is stale at the backend
    const local = await createHarness({ backend: { tokens: () => new Set([accepted]) } });
    try {
      local.backend.objects.set("ibm/token.txt", Buffer.from("token test"));
      const read = () =>
        local.send(
          signedClientRequest({
            method: "GET",
            path: "/ibm/token.txt",
            signingDate: new Date(local.clock.now()),
          }),
        );
      const first = await read();
      expect([first.status, first.text]).toEqual([200, "token test"]);
      expect(local.bearer.calls).toEqual([
        { apiKey: "ibm-api-key", forceRefresh: false },
        { apiKey: "ibm-api-key", forceRefresh: true },
      ]);
      expect(local.backend.requests.map((request) => request.verification)).toEqual([
        "bearer token rejected",
        "ok",
      ]);
      // The token is revoked again right away: a genuine denial is passed through, no IAM storm.
      accepted = "token-3";
      const denied = await read();
      expect(denied.status).toBe(403);
      expect(local.bearer.calls.filter((call) => call.forceRefresh)).toHaveLength(1);
      // After the interval a rejection refreshes again.
      local.clock.advance(31_000);
      const again = await read();
      expect(again.status).toBe(200);
      expect(local.bearer.calls.filter((call) => call.forceRefresh)).toHaveLength(2);
    } finally {
      await local.close();
    }
  });

  it("never replays a streamed body: the backend's 403 passes through and the token is refreshed for the next request", async () => {
    const local = await createHarness({ backend: { tokens: () => new Set(["never-valid"]) } });
    try {
      const before = local.transport.sent.length;
      const response = await local.send(upload("/ibm/put.bin", randomBytes(1000)));
      expect(response.status).toBe(403);
      expect(local.transport.sent.length - before).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(local.bearer.calls.at(-1)).toEqual({ apiKey: "ibm-api-key", forceRefresh: true });
    } finally {
      await local.close();
    }
  });
});

describe("requests the proxy answers itself", () => {
  it("reads no body for errors raised before the body (the listener discards it)", async () => {
    const h = await createHarness();
    try {
      let pulled = false;
      const request: ProxyRequest = {
        method: "PUT",
        path: "/data/x",
        query: "",
        headers: [
          ["host", "proxy.test"],
          ["content-length", "5"],
        ],
        body: (async function* () {
          pulled = true;
          yield new Uint8Array(5);
        })(),
      };
      const response = await h.send(request);
      expect(response.status).toBe(403);
      expect(pulled).toBe(false);
    } finally {
      await h.close();
    }
  });
});
