// Authentication and authorization through the whole pipeline: every bypass of the predecessor
// (§6 D-1 … D-5, D-12 … D-14) has a test proving the request is refused before anything reaches
// the backend, and that legitimate forms (presigned, UploadPart, 100-continue) still work.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxyRequest, ValidatorRequest } from "../src/index.ts";
import { presignedClientRequest, signedClientRequest } from "./support/client.ts";
import { createHarness, START, standardConfig, type Harness } from "./support/harness.ts";

const anonymous = (
  method: string,
  path: string,
  query = "",
  headers: Array<[string, string]> = [],
): ProxyRequest => ({
  method,
  path,
  query,
  headers: [["host", "proxy.test:6190"], ...headers],
  body: null,
});

describe("authentication and authorization", () => {
  let h: Harness;
  const decisions: Array<[string, string, ValidatorRequest]> = [];
  let allow = (_token: string, _bucket: string, _request: ValidatorRequest) => true;
  beforeAll(async () => {
    h = await createHarness({
      config: (backend) => ({
        ...standardConfig(backend),
        validator: async (token: string, bucket: string, request: ValidatorRequest) => {
          decisions.push([token, bucket, request]);
          return allow(token, bucket, request);
        },
        cosMap: Object.fromEntries(
          Object.entries(standardConfig(backend).cosMap!).map(([name, entry]) => [
            name,
            { ...entry, ttl: 0 },
          ]),
        ),
      }),
    });
  });
  afterAll(() => h.close());

  const expectRefused = async (
    request: ProxyRequest | Promise<ProxyRequest>,
    status: number,
    code: string,
  ) => {
    const before = h.transport.sent.length;
    const response = await h.send(request);
    expect(response.status, response.text).toBe(status);
    expect(response.text).toContain(`<Code>${code}</Code>`);
    expect(response.text).toMatch(/<Message>[^<]+<\/Message>/);
    expect(h.transport.sent.length, "nothing may be forwarded").toBe(before);
    return response;
  };

  it("D-3: refuses anonymous requests even though a validator exists and would allow them", async () => {
    decisions.length = 0;
    await expectRefused(anonymous("GET", "/data/readme"), 403, "AccessDenied");
    expect(decisions).toHaveLength(0);
  });

  it("D-3: refuses anonymous and forged requests when no validator is configured either", async () => {
    const local = await createHarness();
    try {
      const anon = await local.send(anonymous("GET", "/data/readme"));
      expect([anon.status, anon.text.includes("<Code>AccessDenied</Code>")]).toEqual([403, true]);
      const forged = await local.send(
        signedClientRequest({
          method: "GET",
          path: "/data/readme",
          signingDate: START,
          credentials: { accessKeyId: "CLIENTKEY", secretAccessKey: "guessed" },
        }),
      );
      expect([forged.status, forged.text.includes("<Code>SignatureDoesNotMatch</Code>")]).toEqual([
        403,
        true,
      ]);
      expect(local.transport.sent).toHaveLength(0);
    } finally {
      await local.close();
    }
  });

  it("D-1: Expect: 100-continue never skips authentication, and no 100 Continue is sent to a refused client", async () => {
    let continued = 0;
    await expectRefused(
      {
        ...anonymous("PUT", "/data/x", "", [
          ["expect", "100-continue"],
          ["content-length", "5"],
        ]),
        sendContinue: () => void (continued += 1),
      },
      403,
      "AccessDenied",
    );
    // Even to an unknown bucket (the predecessor's hard-coded fallback endpoint).
    await expectRefused(
      {
        ...anonymous("GET", "/unknown-bucket/x", "", [["Expect", "100-Continue"]]),
        sendContinue: () => void (continued += 1),
      },
      403,
      "AccessDenied",
    );
    expect(continued).toBe(0);
  });

  it("D-1: 100 Continue is sent only after authentication and authorization, and Expect is not forwarded", async () => {
    const order: string[] = [];
    allow = () => {
      order.push("validator");
      return true;
    };
    try {
      const request = await signedClientRequest({
        method: "PUT",
        path: "/data/continue.txt",
        body: Buffer.from("after continue"),
        signingDate: START,
        unsignedHeaders: [["Expect", "100-continue"]],
        sendContinue: () => void order.push("continue"),
      });
      const response = await h.send(request);
      expect(response.status).toBe(200);
      expect(order).toEqual(["validator", "continue"]);
      const forwarded = h.backend.requests.at(-1)!;
      expect(forwarded.headers.has("expect")).toBe(false);
      expect(forwarded.verification).toBe("ok");
      // A denied client gets its 403 without a 100 Continue.
      allow = () => false;
      let continued = false;
      await expectRefused(
        signedClientRequest({
          method: "PUT",
          path: "/data/denied.txt",
          body: Buffer.from("x"),
          signingDate: START,
          unsignedHeaders: [["Expect", "100-continue"]],
          sendContinue: () => void (continued = true),
        }),
        403,
        "AccessDenied",
      );
      expect(continued).toBe(false);
    } finally {
      allow = () => true;
    }
  });

  it("D-2: uploadId anywhere in the query never skips signature verification", async () => {
    // UploadPart with a forged signature.
    await expectRefused(
      signedClientRequest({
        method: "PUT",
        path: "/data/big",
        query: "partNumber=1&uploadId=abc",
        body: Buffer.from("part"),
        signingDate: START,
        credentials: { accessKeyId: "CLIENTKEY", secretAccessKey: "wrong" },
      }),
      403,
      "SignatureDoesNotMatch",
    );
    // The predecessor's substring trick: a harmless parameter whose value contains "uploadId=".
    await expectRefused(
      anonymous("GET", "/data/readme", "response-content-type=uploadId%3D"),
      403,
      "AccessDenied",
    );
    await expectRefused(
      anonymous("GET", "/data/readme", "response-content-type=uploadId="),
      403,
      "AccessDenied",
    );
    // A genuine UploadPart is verified and forwarded.
    const part = await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/big",
        query: "partNumber=1&uploadId=abc",
        body: Buffer.from("part"),
        signingDate: START,
      }),
    );
    expect(part.status).toBe(200);
    expect(h.backend.requests.at(-1)).toMatchObject({
      query: "partNumber=1&uploadId=abc",
      verification: "ok",
    });
    expect(decisions.at(-1)![2].operation).toBe("UploadPart");
  });

  it("no query or header trick skips verification of a captured request", async () => {
    const captured = await signedClientRequest({
      method: "GET",
      path: "/data/readme",
      query: "x-id=GetObject",
      signingDate: START,
    });
    const withQuery = (query: string) => ({ ...captured, query });
    const withHeaders = (
      change: (headers: Array<[string, string]>) => Array<[string, string]>,
    ) => ({ ...captured, headers: change([...captured.headers] as Array<[string, string]>) });
    // Extra or changed query parameters.
    await expectRefused(withQuery("x-id=GetObject&uploadId=1"), 403, "SignatureDoesNotMatch");
    await expectRefused(withQuery("x-id=PutObject"), 403, "SignatureDoesNotMatch");
    // Both authentication forms at once.
    await expectRefused(
      withQuery(
        `x-id=GetObject&X-Amz-Signature=${"0".repeat(64)}&X-Amz-Algorithm=AWS4-HMAC-SHA256`,
      ),
      400,
      "InvalidRequest",
    );
    // A changed payload mode, a changed Host, a removed Authorization.
    await expectRefused(
      withHeaders((headers) =>
        headers.map(([name, value]) => [
          name,
          name === "x-amz-content-sha256" ? "UNSIGNED-PAYLOAD" : value,
        ]),
      ),
      403,
      "SignatureDoesNotMatch",
    );
    await expectRefused(
      withHeaders((headers) =>
        headers.map(([name, value]) => [name, name === "host" ? "evil.test" : value]),
      ),
      403,
      "SignatureDoesNotMatch",
    );
    await expectRefused(
      withHeaders((headers) => headers.filter(([name]) => name !== "authorization")),
      403,
      "AccessDenied",
    );
    // A changed method.
    await expectRefused({ ...captured, method: "DELETE" }, 403, "SignatureDoesNotMatch");
    // The untouched request still works.
    expect((await h.send(captured)).status).toBe(404);
  });

  it("D-4: skipSignatureValidation: null or a string is a startup error, never a silent skip", async () => {
    for (const value of [null, "false", "yes"]) {
      await expect(
        createHarness({
          config: (backend) => ({
            ...standardConfig(backend),
            skipSignatureValidation: value as unknown as boolean,
          }),
        }),
      ).rejects.toThrow(/skipSignatureValidation: must be true or false/);
    }
  });

  it("D-5: refuses a header-signed request replayed more than 15 minutes later (RequestTimeTooSkewed)", async () => {
    const captured = await signedClientRequest({
      method: "GET",
      path: "/data/readme",
      signingDate: START,
    });
    h.clock.advance(16 * 60_000);
    try {
      const response = await expectRefused(captured, 403, "RequestTimeTooSkewed");
      expect(response.text).toContain("<RequestTime>");
      expect(response.text).toContain("<ServerTime>");
    } finally {
      h.clock.set(START.getTime());
    }
  });

  it("D-5: enforces presigned expiry (403 after X-Amz-Expires) and the 7-day maximum", async () => {
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/readme",
      signingDate: START,
      expiresInSeconds: 60,
    });
    h.clock.advance(61_000);
    try {
      const response = await expectRefused(presigned, 403, "AccessDenied");
      expect(response.text).toContain("expired");
    } finally {
      h.clock.set(START.getTime());
    }
    const tooLong = await presignedClientRequest({
      method: "GET",
      path: "/data/readme",
      signingDate: START,
      expiresInSeconds: 60,
    });
    await expectRefused(
      { ...tooLong, query: tooLong.query.replace(/X-Amz-Expires=60/, "X-Amz-Expires=604801") },
      400,
      "AuthorizationQueryParametersError",
    );
  });

  it("D-5: refuses a scope date that differs from x-amz-date", async () => {
    const request = await signedClientRequest({
      method: "GET",
      path: "/data/readme",
      signingDate: START,
    });
    const headers = request.headers.map(([name, value]): [string, string] => [
      name,
      name === "authorization" ? value.replace("/20300101/", "/20291231/") : value,
    ]);
    await expectRefused({ ...request, headers }, 400, "AuthorizationHeaderMalformed");
  });

  it("refuses an unsigned x-amz-* header added to a captured request", async () => {
    await expectRefused(
      signedClientRequest({
        method: "DELETE",
        path: "/data/readme",
        signingDate: START,
        unsignedHeaders: [["x-amz-bypass-governance-retention", "true"]],
      }),
      403,
      "AccessDenied",
    );
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/readme",
      signingDate: START,
      expiresInSeconds: 60,
    });
    await expectRefused(
      {
        ...presigned,
        headers: [
          ...presigned.headers,
          ["x-amz-server-side-encryption-customer-algorithm", "AES256"],
        ],
      },
      403,
      "AccessDenied",
    );
  });

  it("D-12: a presigned request goes upstream header-signed, without any X-Amz-* parameter or client auth", async () => {
    await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/presigned.txt",
        body: Buffer.from("presigned body"),
        signingDate: START,
      }),
    );
    const request = await presignedClientRequest({
      method: "GET",
      path: "/data/presigned.txt",
      query: "response-content-disposition=attachment%3B%20filename%3D%22a%2Bb%26c.txt%22",
      signingDate: START,
      expiresInSeconds: 300,
    });
    expect(request.query).toContain("X-Amz-Signature=");
    const response = await h.send(request);
    expect([response.status, response.text]).toEqual([200, "presigned body"]);
    const forwarded = h.backend.requests.at(-1)!;
    expect(forwarded.verification).toBe("ok");
    expect(forwarded.query).toBe(
      "response-content-disposition=attachment%3B%20filename%3D%22a%2Bb%26c.txt%22",
    );
    expect(forwarded.headers.get("authorization")![0]).toMatch(/Credential=BACKENDKEY\//);
    expect(forwarded.headers.get("x-amz-content-sha256")![0]).toBe("UNSIGNED-PAYLOAD");
  });

  it("D-12: presigned PUT with a signed content-type works (any signed headers)", async () => {
    const request = await presignedClientRequest({
      method: "PUT",
      path: "/data/browser-upload.txt",
      signingDate: START,
      expiresInSeconds: 300,
      signedHeaders: { "content-type": "text/plain" },
      body: Buffer.from("from a browser"),
    });
    const response = await h.send(request);
    expect(response.status).toBe(200);
    expect(h.backend.requests.at(-1)!.headers.get("content-type")).toEqual(["text/plain"]);
    expect(h.backend.objects.get("data/browser-upload.txt")?.toString()).toBe("from a browser");
  });

  it("D-13/D-14: a presigned URL with a session token verifies, and the client's token never reaches the backend", async () => {
    const credentials = {
      accessKeyId: "CLIENTKEY",
      secretAccessKey: "client/secret+key",
      sessionToken: "FwoGZXIvYXdzE+/token==",
    };
    const presigned = await presignedClientRequest({
      method: "GET",
      path: "/data/presigned.txt",
      signingDate: START,
      expiresInSeconds: 60,
      credentials,
      signedHeaders: { "x-amz-security-token": credentials.sessionToken },
    });
    expect(presigned.query).toContain("X-Amz-Security-Token=");
    const response = await h.send(presigned);
    expect(response.status).toBe(200);
    const forwarded = h.backend.requests.at(-1)!;
    expect(forwarded.headers.has("x-amz-security-token")).toBe(false);
    expect(forwarded.query).not.toMatch(/security-token/i);
    const headerSigned = await h.send(
      signedClientRequest({
        method: "GET",
        path: "/data/presigned.txt",
        signingDate: START,
        credentials,
      }),
    );
    expect(headerSigned.status).toBe(200);
    expect(h.backend.requests.at(-1)!.headers.has("x-amz-security-token")).toBe(false);
  });

  it("D-20: canonicalises + and repeated parameters in queries exactly as the client signed them", async () => {
    const response = await h.send(
      signedClientRequest({
        method: "GET",
        path: "/data",
        query: "list-type=2&prefix=a%2Bb&start-after=a+b&delimiter=%2F",
        signingDate: START,
      }),
    );
    expect(response.status).toBe(200);
    expect(h.backend.requests.at(-1)).toMatchObject({
      query: "list-type=2&prefix=a%2Bb&start-after=a+b&delimiter=%2F",
      verification: "ok",
    });
  });

  it("D-18: the validator sees method, key, operation, query and source address; a denial is 403 AccessDenied", async () => {
    decisions.length = 0;
    allow = (_token, _bucket, request) => request.operation !== "DeleteObject";
    try {
      const get = await h.send(
        signedClientRequest({
          method: "GET",
          path: "/data/dir/a%2Bb.txt",
          query: "versionId=3&x-id=GetObject",
          signingDate: START,
          remoteAddress: "192.0.2.7",
        }),
      );
      expect(get.status).toBe(404); // allowed, forwarded; the backend has no such key
      expect(decisions.at(-1)).toEqual([
        "CLIENTKEY",
        "data",
        {
          method: "GET",
          bucket: "data",
          key: "dir/a+b.txt",
          operation: "GetObject",
          query: { versionId: "3", "x-id": "GetObject" },
          remoteAddress: "192.0.2.7",
        },
      ]);
      await expectRefused(
        signedClientRequest({ method: "DELETE", path: "/data/dir/a", signingDate: START }),
        403,
        "AccessDenied",
      );
      // Presign parameters are not shown to the validator.
      await h.send(
        presignedClientRequest({
          method: "GET",
          path: "/data/k",
          signingDate: START,
          expiresInSeconds: 60,
        }),
      );
      expect(
        Object.keys(decisions.at(-1)![2].query).filter((name) => /^x-amz-/i.test(name)),
      ).toEqual([]);
    } finally {
      allow = () => true;
    }
  });

  it("D-7: a copy needs read permission on the source bucket", async () => {
    allow = (_token, bucket, request) =>
      !(bucket === "aliased" && request.operation === "GetObject");
    try {
      const response = await expectRefused(
        signedClientRequest({
          method: "PUT",
          path: "/data/copy-target",
          signingDate: START,
          headers: [["x-amz-copy-source", "/aliased/src%2Bkey"]],
        }),
        403,
        "AccessDenied",
      );
      expect(response.status).toBe(403);
      expect(decisions.at(-1)![2]).toMatchObject({
        method: "GET",
        bucket: "aliased",
        key: "src+key",
        operation: "GetObject",
      });
    } finally {
      allow = () => true;
    }
  });

  it("D-7: a presigned copy (x-amz-copy-source hoisted into the query) gets the same source checks", async () => {
    await h.send(
      signedClientRequest({
        method: "PUT",
        path: "/data/presigned-source",
        body: Buffer.from("source"),
        signingDate: START,
      }),
    );
    const presignedCopy = (source: string) =>
      presignedClientRequest({
        method: "PUT",
        path: "/data/presigned-copy",
        signingDate: START,
        expiresInSeconds: 60,
        signedHeaders: { "x-amz-copy-source": source },
      });
    expect((await presignedCopy("/data/presigned-source")).query).toMatch(/x-amz-copy-source=/i);
    await expectRefused(presignedCopy("/backend-private/secret"), 404, "NoSuchBucket");
    allow = (_token, _bucket, request) => request.operation !== "GetObject";
    try {
      await expectRefused(presignedCopy("/data/presigned-source"), 403, "AccessDenied");
      expect(decisions.at(-2)![2].operation).toBe("CopyObject");
    } finally {
      allow = () => true;
    }
    const copied = await h.send(presignedCopy("/data/presigned-source"));
    expect(copied.status).toBe(200);
    expect(h.backend.requests.at(-1)!.headers.get("x-amz-copy-source")).toEqual([
      "/data/presigned-source",
    ]);
    expect(h.backend.objects.get("data/presigned-copy")?.toString()).toBe("source");
  });

  it("D-11: ListBuckets shows only the buckets the validator allows", async () => {
    allow = (_token, bucket, request) =>
      request.operation === "ListBuckets" && (bucket === "data" || bucket === "logs");
    try {
      const response = await h.send(
        signedClientRequest({ method: "GET", path: "/", signingDate: START }),
      );
      expect(response.status).toBe(200);
      expect(
        [...response.text.matchAll(/<Name>([^<]+)<\/Name>/g)].map((match) => match[1]),
      ).toEqual(["data", "logs"]);
      const put = await h.send(
        signedClientRequest({
          method: "PUT",
          path: "/",
          signingDate: START,
          body: Buffer.from("x"),
        }),
      );
      expect(put.status).toBe(405);
    } finally {
      allow = () => true;
    }
  });

  it("D-17: malformed authentication is a 400 S3 error, never a crash", async () => {
    await expectRefused(
      anonymous("GET", "/data/x", "", [["authorization", "AWS4-HMAC-SHA256 Credential=garbage"]]),
      400,
      "AuthorizationHeaderMalformed",
    );
    await expectRefused(
      anonymous("GET", "/data/x", "", [["authorization", "AWS AKIDEXAMPLE:c2lnbmF0dXJl"]]),
      400,
      "InvalidRequest",
    );
    const request = await signedClientRequest({
      method: "GET",
      path: "/data/x",
      signingDate: START,
    });
    await expectRefused(
      { ...request, headers: request.headers.filter(([name]) => name !== "x-amz-date") },
      403,
      "AccessDenied",
    );
    await expectRefused(
      { ...request, headers: request.headers.filter(([name]) => name !== "x-amz-content-sha256") },
      400,
      "MissingSecurityHeader",
    );
    await expectRefused(anonymous("GET", "/data/%E2%9C"), 400, "InvalidURI");
  });

  it("OPTIONS preflights without credentials are refused like any anonymous request (CORS is a non-goal)", async () => {
    await expectRefused(
      anonymous("OPTIONS", "/data/x", "", [
        ["origin", "https://app.example"],
        ["access-control-request-method", "PUT"],
      ]),
      403,
      "AccessDenied",
    );
  });
});

describe("skipSignatureValidation (development only)", () => {
  it("D-4: forwards with the proxy's credentials only when explicitly true, warns at start, and still strips presign parameters (D-12)", async () => {
    const warnings: string[] = [];
    const local = await createHarness({
      config: (backend) => ({ ...standardConfig(backend), skipSignatureValidation: true }),
      deps: { observer: { warn: (message) => void warnings.push(message) } },
    });
    try {
      expect(warnings.some((message) => message.includes("skipSignatureValidation"))).toBe(true);
      const anon = await local.send(anonymous("GET", "/data/nothing"));
      expect(anon.status).toBe(404); // forwarded: the backend answered
      expect(local.backend.requests.at(-1)!.headers.get("x-amz-content-sha256")).toEqual([
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      ]);
      const presigned = await presignedClientRequest({
        method: "GET",
        path: "/data/nothing",
        signingDate: START,
        expiresInSeconds: 60,
        credentials: { accessKeyId: "ANY", secretAccessKey: "wrong" },
      });
      await local.send(presigned);
      const forwarded = local.backend.requests.at(-1)!;
      expect(forwarded.verification).toBe("ok");
      expect(forwarded.query).toBe("");
    } finally {
      await local.close();
    }
  });
});
