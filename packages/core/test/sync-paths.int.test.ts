// The synchronous answers of the pipeline (a key-store secret, a cached decision, a cached
// unknown key, cached credentials) refuse exactly what the waiting paths refuse: every bad case is
// an S3 XML error, nothing is forwarded, and `handle` never throws, whatever phase fails in the
// same tick.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxyRequest, ValidatorRequest } from "../src/index.ts";
import { signedClientRequest } from "./support/client.ts";
import { createHarness, START, standardConfig, type Harness } from "./support/harness.ts";

const UNKNOWN = { accessKeyId: "UNKNOWNKEY", secretAccessKey: "made-up-secret" };

describe("synchronous answers refuse the bad cases", () => {
  let h: Harness;
  const calls = { validator: 0, hmacFetcher: 0, bucketCredsFetcher: 0 };
  let decide = (_request: ValidatorRequest): boolean => true;

  beforeAll(async () => {
    h = await createHarness({
      config: (backend) => {
        const standard = standardConfig(backend);
        return {
          ...standard,
          // Synchronous callbacks with the default cache lifetimes: second answers are cache hits.
          validator: (_token: string, _bucket: string, request: ValidatorRequest) => {
            calls.validator += 1;
            return decide(request);
          },
          hmacFetcher: (accessKeyId: string) => {
            calls.hmacFetcher += 1;
            if (accessKeyId === "THROWS") throw new Error("vault password=hunter2 rejected");
            return null;
          },
        };
      },
    });
  });
  afterAll(() => h.close());

  const refused = async (request: Promise<ProxyRequest>, status: number, code: string) => {
    const before = h.transport.sent.length;
    const pending = h.proxy.handle(await request);
    // Even a failure found in the same tick comes back as a promise of an answer.
    expect(pending).toBeInstanceOf(Promise);
    const response = await pending;
    expect(response.status).toBe(status);
    const text = response.body == null ? "" : await new Response(toStream(response.body)).text();
    if (response.body == null) {
      expect(response.headers).toContainEqual(["x-amz-error-code", code]);
    } else {
      expect(text).toContain(`<Code>${code}</Code>`);
      expect(text).toMatch(/<Message>[^<]+<\/Message>/);
    }
    expect(h.transport.sent.length, "nothing may be forwarded").toBe(before);
    return { response, text };
  };

  it("a key-store key with a wrong signature: SignatureDoesNotMatch XML (HEAD: no body)", async () => {
    const wrong = { accessKeyId: "CLIENTKEY", secretAccessKey: "not-the-secret" };
    const get = await refused(
      signedClientRequest({
        method: "GET",
        path: "/data/k",
        signingDate: START,
        credentials: wrong,
      }),
      403,
      "SignatureDoesNotMatch",
    );
    expect(get.text).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(get.text).toMatch(/<RequestId>[^<]+<\/RequestId>/);
    const head = await refused(
      signedClientRequest({
        method: "HEAD",
        path: "/data/k",
        signingDate: START,
        credentials: wrong,
      }),
      403,
      "SignatureDoesNotMatch",
    );
    expect(head.response.body).toBeNull();
    expect(head.response.headers).toContainEqual(["x-amz-error-code", "SignatureDoesNotMatch"]);
  });

  it("a key-store request replayed 16 minutes later: RequestTimeTooSkewed", async () => {
    const request = signedClientRequest({ method: "GET", path: "/data/k", signingDate: START });
    h.clock.advance(16 * 60_000);
    try {
      const { text } = await refused(request, 403, "RequestTimeTooSkewed");
      expect(text).toContain("<Code>RequestTimeTooSkewed</Code>");
    } finally {
      h.clock.set(START.getTime());
    }
  });

  it("a denial answered from the decision cache is still AccessDenied", async () => {
    decide = (request) => request.operation !== "DeleteObject";
    try {
      const before = calls.validator;
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const { text } = await refused(
          signedClientRequest({ method: "DELETE", path: "/data/k", signingDate: START }),
          403,
          "AccessDenied",
        );
        expect(text).toContain("<Code>AccessDenied</Code>");
      }
      expect(calls.validator - before, "one decision, then cache hits").toBe(1);
    } finally {
      decide = () => true;
    }
  });

  it("an unknown key remembered by the negative cache is refused every time", async () => {
    const before = calls.hmacFetcher;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const { text } = await refused(
        signedClientRequest({
          method: "GET",
          path: "/data/k",
          signingDate: START,
          credentials: UNKNOWN,
        }),
        403,
        "InvalidAccessKeyId",
      );
      expect(text).toContain("<Code>InvalidAccessKeyId</Code>");
    }
    expect(calls.hmacFetcher - before, "one lookup, then negative-cache hits").toBe(1);
  });

  it("a callback that throws is InternalError, without its message", async () => {
    const { text } = await refused(
      signedClientRequest({
        method: "GET",
        path: "/data/k",
        signingDate: START,
        credentials: { accessKeyId: "THROWS", secretAccessKey: "x" },
      }),
      500,
      "InternalError",
    );
    expect(text).toContain("<Code>InternalError</Code>");
    expect(text).not.toContain("hunter2");
    decide = () => {
      throw new Error("policy db password=hunter2 down");
    };
    try {
      const denied = await refused(
        signedClientRequest({ method: "PUT", path: "/data/never", signingDate: START }),
        500,
        "InternalError",
      );
      expect(denied.text).not.toContain("hunter2");
    } finally {
      decide = () => true;
    }
  });

  it("the good request still goes through on the same synchronous path", async () => {
    const response = await h.send(
      signedClientRequest({ method: "GET", path: "/data/k", signingDate: START }),
    );
    expect([404, 200]).toContain(response.status);
    expect(h.backend.requests.at(-1)?.verification).toBe("ok");
  });
});

const toStream = (body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> => {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
  });
};
