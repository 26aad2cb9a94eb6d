import { describe, expect, it } from "vitest";
import {
  calculateSignature,
  canonicalHeaders,
  canonicalRequest,
  canonicalUri,
  stringToSign,
} from "./canonical.ts";
import { EMPTY_SHA256, MAX_CLOCK_SKEW_MS } from "./constants.ts";
import { SigV4Error } from "./errors.ts";
import { nodeCryptoProvider } from "./node.ts";
import { parseAuthorization } from "./parse-authorization.ts";
import { presignRequest } from "./presign.ts";
import { signRequest } from "./sign.ts";
import { createSigningKeyCache, deriveSigningKey } from "./signing-key.ts";
import type { RawRequest } from "./types.ts";
import {
  verifyRequest,
  verifyRequestMaybeSync,
  verifyRequestWithSecret,
  type VerifyOptions,
} from "./verify.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET };
const now = Date.UTC(2013, 4, 24, 12, 0, 0);
const base: RawRequest = {
  method: "GET",
  path: "/bucket/key",
  query: "x-id=GetObject",
  headers: [["Host", "s3.example.com"]],
};

const signed = (
  request: RawRequest = base,
  extra: Partial<Parameters<typeof signRequest>[1]> = {},
) => {
  const result = signRequest(request, { credentials, region: "us-east-1", now, ...extra });
  return { ...request, headers: result.headers } as RawRequest;
};
const presigned = (request: RawRequest = base, expiresInSeconds = 600): RawRequest => ({
  ...request,
  query: presignRequest(request, { credentials, region: "us-east-1", now, expiresInSeconds }).query,
});

const lookupSecret = (accessKeyId: string) =>
  accessKeyId === credentials.accessKeyId ? SECRET : undefined;
const options: VerifyOptions = { lookupSecret, now };

const failure = async (request: RawRequest, opts: VerifyOptions = options): Promise<SigV4Error> => {
  const error = await verifyRequest(request, opts).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!SigV4Error.is(error)) throw new Error(`expected a SigV4Error, got ${String(error)}`);
  return error;
};

const withHeader = (request: RawRequest, name: string, value: string): RawRequest => ({
  ...request,
  headers: [...request.headers, [name, value]],
});

describe("verifyRequest: accepted requests", () => {
  it("verifies a header-signed request and returns identity, scope and payload mode", async () => {
    const verified = await verifyRequest(signed(), options);
    expect(verified).toMatchObject({
      kind: "header",
      accessKeyId: credentials.accessKeyId,
      scope: { date: "20130524", region: "us-east-1", service: "s3" },
      payloadMode: "sha256",
      payloadHash: EMPTY_SHA256,
    });
    expect(verified.chunkSigning).toBeUndefined();
    expect(verified.signingKey).toEqual(deriveSigningKey(SECRET, verified.scope));
    expect(JSON.stringify({ ...verified, signingKey: undefined })).not.toContain(SECRET);
  });

  it("gives the chunk-signing context for signed streaming payloads only", async () => {
    for (const [payloadHash, present] of [
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", true],
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", true],
      ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", false],
      ["UNSIGNED-PAYLOAD", false],
    ] as const) {
      const request = signed(base, { payloadHash });
      const verified = await verifyRequest(request, options);
      expect(verified.chunkSigning !== undefined).toBe(present);
      if (present) {
        expect(verified.chunkSigning).toEqual({
          signingKey: verified.signingKey,
          amzDate: verified.amzDate,
          scope: verified.scope,
          seedSignature: verified.signature,
        });
      }
    }
  });

  it("accepts an async lookup, the node provider and a warm key cache", async () => {
    const cache = createSigningKeyCache({ crypto: nodeCryptoProvider });
    const opts: VerifyOptions = {
      lookupSecret: async (id) => lookupSecret(id),
      now,
      crypto: nodeCryptoProvider,
      signingKeyCache: cache,
    };
    const first = await verifyRequest(signed(), opts);
    const second = await verifyRequest(signed(), opts);
    expect(second.signingKey).toBe(first.signingKey);
  });

  it("never serves a cached key for another secret (rotation with a shared cache)", async () => {
    const cache = createSigningKeyCache();
    const request = signed();
    const withSecret = (secret: string) => ({
      ...options,
      lookupSecret: () => secret,
      signingKeyCache: cache,
    });
    await expect(verifyRequest(request, withSecret(SECRET))).resolves.toBeDefined();
    expect((await failure(request, withSecret(`${SECRET}x`))).code).toBe("SignatureDoesNotMatch");
    await expect(verifyRequest(request, withSecret(SECRET))).resolves.toBeDefined();
    const otherRegion = signed(base, { region: "eu-west-1" });
    await expect(verifyRequest(otherRegion, withSecret(SECRET))).resolves.toBeDefined();
  });

  it("verifies a request dated by its Date header alone", async () => {
    // S3 takes the request time from Date when x-amz-date is absent; signRequest always adds
    // x-amz-date, so this request is signed stage by stage.
    const headers: Array<[string, string]> = [
      ["Host", "s3.example.com"],
      ["Date", "Fri, 24 May 2013 12:00:00 GMT"],
      ["x-amz-content-sha256", EMPTY_SHA256],
    ];
    const signedHeaders = ["date", "host", "x-amz-content-sha256"];
    const scope = { date: "20130524", region: "us-east-1", service: "s3" };
    const toSign = stringToSign(
      "20130524T120000Z",
      scope,
      canonicalRequest({
        method: "GET",
        canonicalUri: canonicalUri("/bucket/key"),
        canonicalQuery: "",
        canonicalHeaders: canonicalHeaders(headers, signedHeaders),
        signedHeaders,
        payloadHash: EMPTY_SHA256,
      }),
    );
    const signature = calculateSignature(deriveSigningKey(SECRET, scope), toSign);
    const request: RawRequest = {
      method: "GET",
      path: "/bucket/key",
      query: "",
      headers: [
        ...headers,
        [
          "Authorization",
          `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20130524/us-east-1/s3/aws4_request, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`,
        ],
      ],
    };
    expect((await verifyRequest(request, options)).amzDate).toBe("20130524T120000Z");
    const later = {
      ...request,
      headers: request.headers.map(([n, v]): [string, string] =>
        n === "Date" ? [n, "Fri, 24 May 2013 12:00:01 GMT"] : [n, v],
      ),
    };
    expect((await failure(later)).code).toBe("SignatureDoesNotMatch");
    expect((await failure(request, { ...options, now: now + MAX_CLOCK_SKEW_MS + 1 })).code).toBe(
      "RequestTimeTooSkewed",
    );
  });

  it("verifies synchronously with verifyRequestWithSecret", () => {
    const request = signed();
    const parsed = parseAuthorization(request)!;
    expect(verifyRequestWithSecret(request, SECRET, { now, parsed }).accessKeyId).toBe(
      credentials.accessKeyId,
    );
    expect(() => verifyRequestWithSecret(request, "wrong", { now, parsed })).toThrow(SigV4Error);
  });
});

describe("verifyRequest: time", () => {
  it("accepts ±15 minutes exactly and refuses one millisecond more, with S3's detail", async () => {
    const request = signed();
    for (const at of [now - MAX_CLOCK_SKEW_MS, now + MAX_CLOCK_SKEW_MS]) {
      await expect(verifyRequest(request, { ...options, now: at })).resolves.toBeDefined();
    }
    for (const at of [now - MAX_CLOCK_SKEW_MS - 1, now + MAX_CLOCK_SKEW_MS + 1]) {
      const error = await failure(request, { ...options, now: at });
      expect(error.code).toBe("RequestTimeTooSkewed");
      expect(error.status).toBe(403);
      expect(error.detail.RequestTime).toBe("20130524T120000Z");
      expect(error.detail.ServerTime).toBe(new Date(at).toISOString());
    }
  });

  it("honours maxSkewMs and refuses a NaN clock", async () => {
    expect((await failure(signed(), { ...options, now: now + 2000, maxSkewMs: 1000 })).code).toBe(
      "RequestTimeTooSkewed",
    );
    expect((await failure(signed(), { ...options, now: Number.NaN })).code).toBe(
      "RequestTimeTooSkewed",
    );
  });

  it("refuses a captured request replayed later without asking for the secret", async () => {
    let lookups = 0;
    const error = await failure(signed(), {
      lookupSecret: (id) => {
        lookups++;
        return lookupSecret(id);
      },
      now: now + 60 * 60 * 1000,
    });
    expect(error.code).toBe("RequestTimeTooSkewed");
    expect(lookups).toBe(0);
  });

  it("accepts a presigned URL until it expires, then answers Request has expired", async () => {
    const request = presigned(base, 600);
    await expect(verifyRequest(request, { ...options, now: now + 600_000 })).resolves.toBeDefined();
    const error = await failure(request, { ...options, now: now + 600_001 });
    expect(error.code).toBe("AccessDenied");
    expect(error.message).toBe("Request has expired");
    expect(error.detail).toMatchObject({
      "X-Amz-Expires": "600",
      Expires: "2013-05-24T12:10:00.000Z",
    });
  });

  it("refuses a presigned URL dated beyond the skew in the future, accepts one within it", async () => {
    const request = presigned();
    await expect(
      verifyRequest(request, { ...options, now: now - MAX_CLOCK_SKEW_MS }),
    ).resolves.toBeDefined();
    expect((await failure(request, { ...options, now: now - MAX_CLOCK_SKEW_MS - 1 })).code).toBe(
      "RequestTimeTooSkewed",
    );
  });

  it("refuses a parsed presign whose expiry is out of range", async () => {
    const request = presigned();
    const parsed = { ...parseAuthorization(request)!, expiresInSeconds: 604801 };
    expect((await failure(request, { ...options, parsed })).code).toBe(
      "AuthorizationQueryParametersError",
    );
  });
});

describe("verifyRequest: scope", () => {
  it("requires the s3 service unless told otherwise", async () => {
    const other = signed(base, { service: "iam" });
    expect((await failure(other)).code).toBe("AuthorizationHeaderMalformed");
    await expect(verifyRequest(other, { ...options, service: "iam" })).resolves.toBeDefined();
    const otherQuery: RawRequest = {
      ...base,
      query: presignRequest(base, {
        credentials,
        region: "us-east-1",
        service: "iam",
        now,
        expiresInSeconds: 60,
      }).query,
    };
    expect((await failure(otherQuery)).code).toBe("AuthorizationQueryParametersError");
  });

  it("accepts the regions given as one name, a list or a predicate", async () => {
    const request = signed(base);
    for (const region of [
      "us-east-1",
      ["eu-west-1", "us-east-1"],
      (r: string) => r.startsWith("us-"),
    ]) {
      await expect(verifyRequest(request, { ...options, region })).resolves.toBeDefined();
    }
    const error = await failure(request, { ...options, region: "eu-west-1" });
    expect(error.code).toBe("AuthorizationHeaderMalformed");
    expect(error.detail.Region).toBe("eu-west-1");
    expect((await failure(request, { ...options, region: [] })).code).toBe(
      "AuthorizationHeaderMalformed",
    );
    expect((await failure(presigned(), { ...options, region: () => false })).code).toBe(
      "AuthorizationQueryParametersError",
    );
  });

  it("refuses a scope date that differs from the request date", async () => {
    const request = signed();
    const parsed = parseAuthorization(request)!;
    const shifted = { ...parsed, scope: { ...parsed.scope, date: "20130523" } };
    expect((await failure(request, { ...options, parsed: shifted })).code).toBe(
      "AuthorizationHeaderMalformed",
    );
    const query = presigned();
    const queryParsed = parseAuthorization(query)!;
    expect(
      (
        await failure(query, {
          ...options,
          parsed: { ...queryParsed, scope: { ...queryParsed.scope, date: "20130525" } },
        })
      ).code,
    ).toBe("AuthorizationQueryParametersError");
  });
});

describe("verifyRequest: signed headers", () => {
  it("refuses a request whose host is not signed", async () => {
    const request = signed(base, { signedHeaders: () => false });
    const parsed = parseAuthorization(request)!;
    const error = await failure(request, {
      ...options,
      parsed: { ...parsed, signedHeaders: parsed.signedHeaders.filter((name) => name !== "host") },
    });
    expect(error.code).toBe("AccessDenied");
    expect(error.message).toContain("host");
  });

  it("refuses any unsigned x-amz-* header, naming it (header and presigned auth)", async () => {
    const names = ["x-amz-acl", "X-Amz-Copy-Source", "x-amz-security-token"];
    for (const [request, extra] of [
      [signed(), names],
      [presigned(), [...names, "x-amz-date"]],
    ] as const) {
      for (const name of extra) {
        const error = await failure(withHeader(request, name, "v"));
        expect(error.code).toBe("AccessDenied");
        expect(error.detail.HeadersNotSigned).toBe(name.toLowerCase());
        expect(error.message).toContain(name.toLowerCase());
      }
    }
  });

  it("lets a presigned request carry an unsigned x-amz-content-sha256, never a header request", async () => {
    const verified = await verifyRequest(
      withHeader(presigned(), "x-amz-content-sha256", EMPTY_SHA256),
      options,
    );
    expect(verified.payloadHash).toBe("UNSIGNED-PAYLOAD");
    const request = signed(base, { signedHeaders: () => false });
    const parsed = parseAuthorization(request)!;
    const error = await failure(request, {
      ...options,
      parsed: {
        ...parsed,
        signedHeaders: parsed.signedHeaders.filter((n) => n !== "x-amz-content-sha256"),
      },
    });
    expect(error.code).toBe("AccessDenied");
  });

  it("signs the session token: a header request cannot carry it unsigned", async () => {
    const withToken = signed(base, { credentials: { ...credentials, sessionToken: "tok" } });
    expect((await verifyRequest(withToken, options)).sessionToken).toBe("tok");
    const swapped = {
      ...withToken,
      headers: withToken.headers.map(([n, v]): [string, string] =>
        n === "x-amz-security-token" ? [n, "other"] : [n, v],
      ),
    };
    expect((await failure(swapped)).code).toBe("SignatureDoesNotMatch");
  });

  it("applies the same rules to a long signed header list", async () => {
    const many: RawRequest = {
      ...base,
      headers: [
        ...base.headers,
        ...Array.from({ length: 30 }, (_, i): [string, string] => [`X-Amz-Meta-K${i}`, `v${i}`]),
      ],
    };
    const request = signed(many);
    expect((await verifyRequest(request, options)).signedHeaders.length).toBe(33);
    expect((await failure(withHeader(request, "x-amz-acl", "private"))).code).toBe("AccessDenied");
    const missing = { ...request, headers: request.headers.filter(([n]) => n !== "X-Amz-Meta-K7") };
    expect((await failure(missing)).message).toContain("x-amz-meta-k7");
  });

  it("refuses a request missing a header it signed", async () => {
    const request = withHeader(base, "Content-Type", "text/plain");
    const signedRequest = signed(request);
    const stripped = {
      ...signedRequest,
      headers: signedRequest.headers.filter(([n]) => n !== "Content-Type"),
    };
    const error = await failure(stripped);
    expect(error.code).toBe("SignatureDoesNotMatch");
    expect(error.message).toContain("content-type");
  });
});

describe("verifyRequest: keys and signatures", () => {
  it("answers InvalidAccessKeyId for an unknown key", async () => {
    for (const lookup of [() => undefined, () => null, async () => undefined]) {
      const error = await failure(signed(), { ...options, lookupSecret: lookup });
      expect(error.code).toBe("InvalidAccessKeyId");
      expect(error.detail.AWSAccessKeyId).toBe(credentials.accessKeyId);
    }
  });

  it("turns a throwing lookup into InternalError without repeating its message", async () => {
    const cause = new Error("db password=hunter2 unreachable");
    for (const lookup of [
      () => {
        throw cause;
      },
      () => Promise.reject(cause),
    ]) {
      const error = await failure(signed(), { ...options, lookupSecret: lookup });
      expect(error.code).toBe("InternalError");
      expect(error.status).toBe(500);
      expect(error.message).not.toContain("hunter2");
      expect(JSON.stringify(error.detail)).not.toContain("hunter2");
      expect(error.cause).toBe(cause);
    }
  });

  it("passes a SigV4Error thrown by the lookup through unchanged", async () => {
    const denied = new SigV4Error("AccessDenied", "key disabled");
    const error = await failure(signed(), {
      ...options,
      lookupSecret: () => {
        throw denied;
      },
    });
    expect(error).toBe(denied);
  });

  it("treats an empty secret as a broken key store, never as a key", async () => {
    expect((await failure(signed(), { ...options, lookupSecret: () => "" })).code).toBe(
      "InternalError",
    );
  });

  it("refuses a wrong secret, a changed digit and an upper-cased signature", async () => {
    const request = signed();
    expect((await failure(request, { ...options, lookupSecret: () => "other" })).code).toBe(
      "SignatureDoesNotMatch",
    );
    const authorization = request.headers.find(([n]) => n === "authorization")![1];
    const signature = authorization.slice(-64);
    for (const changed of [
      `${signature.slice(0, 10)}${signature[10] === "0" ? "1" : "0"}${signature.slice(11)}`,
      signature.toUpperCase(),
    ]) {
      if (changed === signature) continue;
      const mutated = {
        ...request,
        headers: request.headers.map(([n, v]): [string, string] =>
          n === "authorization" ? [n, `${v.slice(0, -64)}${changed}`] : [n, v],
        ),
      };
      expect((await failure(mutated)).code).toBe("SignatureDoesNotMatch");
    }
  });

  it("puts the canonical request and string to sign in the detail only in debug mode", async () => {
    const mutated = { ...signed(), method: "PUT" };
    const quiet = await failure(mutated);
    expect(quiet.detail).toEqual({ AWSAccessKeyId: credentials.accessKeyId });
    const loud = await failure(mutated, { ...options, debug: true });
    expect(loud.detail.CanonicalRequest?.startsWith("PUT\n/bucket/key\n")).toBe(true);
    expect(loud.detail.StringToSign?.startsWith("AWS4-HMAC-SHA256\n")).toBe(true);
    expect(JSON.stringify(loud.detail)).not.toContain(SECRET);
  });

  it("refuses an anonymous request with AccessDenied", async () => {
    expect((await failure(base)).code).toBe("AccessDenied");
  });

  it("refuses an invalid percent-escape in the path with a typed error, never a crash", async () => {
    const request = signed();
    expect((await failure({ ...request, path: "/bucket/%zz" })).code).toBe("InvalidRequest");
  });
});

describe("verifyRequestMaybeSync", () => {
  it("answers in the same tick with a synchronous lookup, and matches verifyRequest", async () => {
    const request = signed();
    const now_ = verifyRequestMaybeSync(request, options);
    expect(now_).not.toBeInstanceOf(Promise);
    expect(now_).toEqual(await verifyRequest(request, options));
  });

  it("throws the same SigV4Error synchronously, in the same order of checks", async () => {
    const tampered = withHeader(signed(), "x-amz-meta-extra", "1");
    const late: VerifyOptions = { lookupSecret, now: now + 16 * 60_000 };
    for (const [request, opts] of [
      [tampered, options],
      [signed(), late],
      [signed(base, { credentials: { accessKeyId: "UNKNOWN", secretAccessKey: "x" } }), options],
    ] as const) {
      const thrown = (() => {
        try {
          verifyRequestMaybeSync(request, opts);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(SigV4Error.is(thrown)).toBe(true);
      expect((thrown as SigV4Error).code).toBe((await failure(request, opts)).code);
    }
  });

  it("returns a promise when the lookup is async, and a lookup failure is InternalError", async () => {
    const request = signed();
    const pending = verifyRequestMaybeSync(request, {
      ...options,
      lookupSecret: async (id) => lookupSecret(id),
    });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ accessKeyId: credentials.accessKeyId });
    const broken = verifyRequestMaybeSync(request, {
      ...options,
      lookupSecret: () => Promise.reject(new Error("db down")),
    });
    await expect(broken).rejects.toMatchObject({ code: "InternalError" });
  });
});
