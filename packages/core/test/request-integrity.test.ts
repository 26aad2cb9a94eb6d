// Request integrity through the whole pipeline on an in-memory transport: what the validator is
// asked about is what the backend receives, even without signature checks
// (skipSignatureValidation), where nothing the client sends is bound by a signature.

import { describe, expect, it } from "vitest";
import {
  createProxy,
  type ProxyRequest,
  type Transport,
  type UpstreamRequest,
  type ValidatorRequest,
} from "../src/index.ts";
import { manualClock } from "./support/unit.ts";

const setup = () => {
  const sent: UpstreamRequest[] = [];
  const asked: ValidatorRequest[] = [];
  const transport: Transport = {
    send: async (request) => {
      sent.push(request);
      return { status: 200, headers: [["content-length", "0"]], body: null };
    },
  };
  const proxy = createProxy(
    {
      cosMap: {
        data: {
          host: "127.0.0.1",
          port: 9000,
          tls: false,
          addressingStyle: "path",
          accessKey: "BACKENDKEY",
          secretKey: "backend/secret",
        },
      },
      skipSignatureValidation: true,
      validator: (_token, _bucket, request) => {
        asked.push(request);
        return request.operation !== "PutObject";
      },
    },
    { transport, now: manualClock().now, observer: {} },
  );
  return { proxy, sent, asked };
};

const request = (
  query: string,
  headers: Array<[string, string]>,
  body: string | null = null,
): ProxyRequest => ({
  method: "PUT",
  path: "/data/dst",
  query,
  headers: [["host", "proxy.test"], ...headers],
  body:
    body == null
      ? null
      : (async function* () {
          yield new TextEncoder().encode(body);
        })(),
});

const upstreamCopySources = (sent: UpstreamRequest[]) =>
  sent.flatMap((entry) =>
    entry.headers.filter(([name]) => name.toLowerCase() === "x-amz-copy-source"),
  );

describe("copy source integrity without signature checks", () => {
  it("refuses a copy source that a Connection header would strip after it was authorized", async () => {
    const h = setup();
    const response = await h.proxy.handle(
      request(
        "",
        [
          ["x-amz-copy-source", "/data/src"],
          ["connection", "x-amz-copy-source"],
          ["content-length", "4"],
        ],
        "body",
      ),
    );
    // Authorized as CopyObject, so it must never go upstream as a PutObject with the body.
    expect(h.asked.map((entry) => entry.operation)).toEqual(["CopyObject", "GetObject"]);
    expect(response.status).toBe(400);
    expect(h.sent).toEqual([]);
  });

  it("treats the query form as a copy source in a presigned URL and forwards it as the header", async () => {
    const h = setup();
    const response = await h.proxy.handle(
      request(
        "x-amz-copy-source=%2Fdata%2Fsrc&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
        [],
      ),
    );
    expect(response.status).toBe(200);
    expect(h.asked.map((entry) => entry.operation)).toEqual(["CopyObject", "GetObject"]);
    expect(upstreamCopySources(h.sent)).toEqual([["x-amz-copy-source", "/data/src"]]);
  });

  it("refuses the query form in a request that is not presigned: it would never become a header", async () => {
    const h = setup();
    const response = await h.proxy.handle(
      request("x-amz-copy-source=%2Fdata%2Fsrc", [["content-length", "4"]], "body"),
    );
    expect(response.status).toBe(400);
    expect(h.sent).toEqual([]);
  });
});
