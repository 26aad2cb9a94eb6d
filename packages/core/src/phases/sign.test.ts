import { createSigningKeyCache, nobleCryptoProvider } from "@osp/sigv4";
import { describe, expect, it } from "vitest";
import { verifyCapturedRequest } from "../../test/support/independent-verifier.ts";
import { planBody } from "../body/plan.ts";
import { parseProxyConfig } from "../config.ts";
import { rejectionCode } from "../../test/support/unit.ts";
import { createSigner } from "./sign.ts";

const config = parseProxyConfig({
  cosMap: {
    b: {
      host: "s3.example.com",
      port: 9000,
      region: "eu-de",
      accessKey: "BK",
      secretKey: "backend-secret",
    },
  },
});
const bucket = config.buckets.get("b")!;
const now = () => Date.UTC(2030, 0, 1);
const target = {
  origin: "https://b.s3.example.com:9000",
  host: "b.s3.example.com:9000",
  path: "/a%2Bb/%E2%9C%93",
  query: "x-id=GetObject&prefix=a%2Bb",
};
const plan = planBody({
  method: "GET",
  body: null,
  headers: [],
  payloadHash: "UNSIGNED-PAYLOAD",
  payloadMode: "unsigned",
  backend: "hmac",
  uploadEncodings: "all",
  crypto: nobleCryptoProvider,
});

describe("sign", () => {
  it("re-signs for the backend with the chosen payload hash, verified by smithy", async () => {
    const signer = createSigner({
      crypto: nobleCryptoProvider,
      signingKeyCache: createSigningKeyCache(),
      now,
      verifyTls: false,
    });
    const upstream = await signer.sign({
      method: "GET",
      bucket,
      backend: {
        kind: "hmac",
        credentials: { accessKeyId: "BK", secretAccessKey: "backend-secret" },
      },
      target,
      headers: [
        ["range", "bytes=0-1"],
        ["x-amz-meta-a", "1"],
      ],
      plan,
      signal: new AbortController().signal,
    });
    expect(upstream).toMatchObject({
      method: "GET",
      origin: target.origin,
      pathAndQuery: "/a%2Bb/%E2%9C%93?x-id=GetObject&prefix=a%2Bb",
      verifyTls: false,
      body: null,
    });
    const rawHeaders = upstream.headers.flat();
    const verified = await verifyCapturedRequest(
      { method: "GET", url: upstream.pathAndQuery, rawHeaders },
      (key) => (key === "BK" ? "backend-secret" : undefined),
    );
    expect(verified).toMatchObject({ region: "eu-de", payloadHash: "UNSIGNED-PAYLOAD" });
    expect(verified.signedHeaders).toEqual([
      "host",
      "range",
      "x-amz-content-sha256",
      "x-amz-date",
      "x-amz-meta-a",
    ]);
  });

  it("sends Authorization: Bearer for API-key backends, asking for a fresh token when told", async () => {
    const calls: unknown[] = [];
    const signer = createSigner({
      crypto: nobleCryptoProvider,
      signingKeyCache: createSigningKeyCache(),
      now,
      verifyTls: true,
      bearerTokens: {
        getToken: async (apiKey, options) => (
          calls.push([apiKey, options?.forceRefresh === true]),
          "tok"
        ),
      },
    });
    const input = {
      method: "GET",
      bucket,
      backend: { kind: "bearer" as const, apiKey: "api" },
      target,
      headers: [],
      plan,
      signal: new AbortController().signal,
    };
    const upstream = await signer.sign(input);
    expect(upstream.headers).toEqual([
      ["host", target.host],
      ["authorization", "Bearer tok"],
    ]);
    await signer.sign({ ...input, forceRefresh: true });
    expect(calls).toEqual([
      ["api", false],
      ["api", true],
    ]);
  });

  it("fails with InternalError when an API key meets no token provider, ServiceUnavailable when the exchange fails", async () => {
    const input = {
      method: "GET",
      bucket,
      backend: { kind: "bearer" as const, apiKey: "api" },
      target,
      headers: [],
      plan,
      signal: new AbortController().signal,
    };
    const without = createSigner({
      crypto: nobleCryptoProvider,
      signingKeyCache: createSigningKeyCache(),
      now,
      verifyTls: true,
    });
    expect(await rejectionCode(Promise.resolve(without.sign(input)))).toBe("InternalError");
    const failing = createSigner({
      crypto: nobleCryptoProvider,
      signingKeyCache: createSigningKeyCache(),
      now,
      verifyTls: true,
      bearerTokens: { getToken: async () => Promise.reject(new Error("iam down")) },
    });
    expect(await rejectionCode(Promise.resolve(failing.sign(input)))).toBe("ServiceUnavailable");
  });
});
