import { createCredsCache } from "@osp/creds-cache";
import { createSigningKeyCache, nobleCryptoProvider, type RawRequest } from "@osp/sigv4";
import { describe, expect, it } from "vitest";
import { presignedClientRequest, signedClientRequest } from "../../test/support/client.ts";
import { parseProxyConfig, type HmacFetcher } from "../config.ts";
import { OspError } from "../errors.ts";
import {
  deferred,
  manualClock,
  recordingObserver,
  rejectionCode,
} from "../../test/support/unit.ts";
import { createAuthenticator, unverifiedPayload } from "./authenticate.ts";

const START = new Date(Date.UTC(2030, 0, 1, 12));

const setup = (
  options: { fetcher?: HmacFetcher; skip?: boolean; regions?: string[]; keystore?: boolean } = {},
) => {
  const clock = manualClock(START.getTime());
  const config = parseProxyConfig({
    cosMap: { b: { host: "s3.example.com", apiKey: "k" } },
    ...(options.keystore !== false && {
      hmacKeystore: [{ accessKey: "CLIENTKEY", secretKey: "client/secret+key" }],
    }),
    ...(options.fetcher != null && { hmacFetcher: options.fetcher }),
    ...(options.skip != null && { skipSignatureValidation: options.skip }),
    ...(options.regions != null && { regions: options.regions }),
    negativeCacheTtlMs: 30_000,
    secretsCacheTtlMs: 300_000,
  });
  const recorder = recordingObserver();
  const phase = createAuthenticator({
    config,
    now: clock.now,
    crypto: nobleCryptoProvider,
    signingKeyCache: createSigningKeyCache(),
    secretsCache: createCredsCache<string | null>({
      ttlMs: 300_000,
      negativeTtlMs: 30_000,
      now: clock.now,
    }),
    observer: recorder.safe,
  });
  // The phase answers synchronously when it can (and then throws synchronously): the tests read
  // every outcome as a promise, and check the synchronous path separately.
  const authenticator = {
    authenticate: (...args: Parameters<typeof phase.authenticate>) =>
      Promise.resolve().then(() => phase.authenticate(...args)),
  };
  return { clock, authenticator, phase, recorder };
};

const raw = async (request: ReturnType<typeof signedClientRequest>): Promise<RawRequest> => {
  const { method, path, query, headers } = await request;
  return { method, path, query, headers };
};

describe("authenticate", () => {
  it("verifies a header-signed request and reports the identity and payload mode", async () => {
    const { authenticator } = setup();
    const identity = await authenticator.authenticate(
      await raw(signedClientRequest({ method: "GET", path: "/b/k", signingDate: START })),
    );
    expect(identity).toMatchObject({
      accessKeyId: "CLIENTKEY",
      verified: true,
      presigned: false,
      payloadMode: "sha256",
    });
    expect(identity.signedHeaders).toContain("host");
  });

  it("D-3: refuses anonymous requests with AccessDenied", async () => {
    const { authenticator } = setup();
    expect(
      await rejectionCode(
        authenticator.authenticate({
          method: "GET",
          path: "/b/k",
          query: "",
          headers: [["host", "p"]],
        }),
      ),
    ).toBe("AccessDenied");
  });

  it("refuses a wrong signature, an unknown key and a skewed clock with S3 codes", async () => {
    const { authenticator, clock } = setup();
    const good = await raw(
      signedClientRequest({ method: "GET", path: "/b/k", signingDate: START }),
    );
    const tampered = { ...good, path: "/b/other" };
    expect(await rejectionCode(authenticator.authenticate(tampered))).toBe("SignatureDoesNotMatch");
    const unknown = await raw(
      signedClientRequest({
        method: "GET",
        path: "/b/k",
        signingDate: START,
        credentials: { accessKeyId: "NOPE", secretAccessKey: "x" },
      }),
    );
    expect(await rejectionCode(authenticator.authenticate(unknown))).toBe("InvalidAccessKeyId");
    clock.advance(16 * 60_000);
    expect(await rejectionCode(authenticator.authenticate(good))).toBe("RequestTimeTooSkewed");
  });

  it("D-2: verifies UploadPart requests like any other (uploadId never skips verification)", async () => {
    const { authenticator } = setup();
    const part = await raw(
      signedClientRequest({
        method: "PUT",
        path: "/b/k",
        query: "partNumber=1&uploadId=abc",
        body: Buffer.from("x"),
        signingDate: START,
      }),
    );
    await expect(authenticator.authenticate(part)).resolves.toMatchObject({ verified: true });
    expect(
      await rejectionCode(
        authenticator.authenticate({ ...part, query: "partNumber=2&uploadId=abc" }),
      ),
    ).toBe("SignatureDoesNotMatch");
  });

  it("checks the scope region against the accepted regions", async () => {
    const { authenticator } = setup({ regions: ["eu-de"] });
    const request = await raw(
      signedClientRequest({ method: "GET", path: "/b/k", signingDate: START, region: "us-east-1" }),
    );
    expect(await rejectionCode(authenticator.authenticate(request))).toBe(
      "AuthorizationHeaderMalformed",
    );
  });

  it("verifies presigned requests and marks them presigned", async () => {
    const { authenticator } = setup();
    const request = await presignedClientRequest({
      method: "GET",
      path: "/b/k",
      signingDate: START,
      expiresInSeconds: 60,
    });
    await expect(authenticator.authenticate({ ...request })).resolves.toMatchObject({
      presigned: true,
      payloadMode: "unsigned",
    });
  });

  it("looks secrets up in the key store first, then through hmacFetcher, caching hits and unknown keys", async () => {
    const calls: string[] = [];
    const { authenticator, clock, recorder } = setup({
      fetcher: (accessKeyId) => {
        calls.push(accessKeyId);
        return accessKeyId === "FETCHED" ? "fetched-secret" : null;
      },
    });
    const fetched = { accessKeyId: "FETCHED", secretAccessKey: "fetched-secret" };
    await authenticator.authenticate(
      await raw(signedClientRequest({ method: "GET", path: "/b/k", signingDate: START })),
    );
    await authenticator.authenticate(
      await raw(
        signedClientRequest({
          method: "GET",
          path: "/b/k",
          signingDate: START,
          credentials: fetched,
        }),
      ),
    );
    await authenticator.authenticate(
      await raw(
        signedClientRequest({
          method: "GET",
          path: "/b/k",
          signingDate: START,
          credentials: fetched,
        }),
      ),
    );
    const unknown = await raw(
      signedClientRequest({
        method: "GET",
        path: "/b/k",
        signingDate: START,
        credentials: { accessKeyId: "UNKNOWN", secretAccessKey: "x" },
      }),
    );
    expect(await rejectionCode(authenticator.authenticate(unknown))).toBe("InvalidAccessKeyId");
    expect(await rejectionCode(authenticator.authenticate(unknown))).toBe("InvalidAccessKeyId");
    expect(calls).toEqual(["FETCHED", "UNKNOWN"]);
    expect(recorder.cacheResults("secrets")).toEqual(["miss", "hit", "miss", "negative-hit"]);
    // Unknown keys are remembered for negativeCacheTtlMs only.
    clock.advance(31_000);
    await rejectionCode(
      authenticator.authenticate(
        await raw(
          signedClientRequest({
            method: "GET",
            path: "/b/k",
            signingDate: new Date(clock.now()),
            credentials: { accessKeyId: "UNKNOWN", secretAccessKey: "x" },
          }),
        ),
      ),
    );
    expect(calls).toEqual(["FETCHED", "UNKNOWN", "UNKNOWN"]);
  });

  it("D-23: shares one hmacFetcher call between concurrent requests of one key", async () => {
    const gate = deferred<string>();
    let calls = 0;
    const { authenticator } = setup({
      keystore: false,
      fetcher: () => {
        calls += 1;
        return gate.promise;
      },
    });
    const requests = await Promise.all(
      Array.from({ length: 20 }, () =>
        raw(
          signedClientRequest({
            method: "GET",
            path: "/b/k",
            signingDate: START,
            credentials: { accessKeyId: "K", secretAccessKey: "s" },
          }),
        ),
      ),
    );
    const all = Promise.all(requests.map((request) => authenticator.authenticate(request)));
    gate.resolve("s");
    expect((await all).every((identity) => identity.accessKeyId === "K")).toBe(true);
    expect(calls).toBe(1);
  });

  it("reports a failing hmacFetcher as InternalError (not cached, message hidden)", async () => {
    let calls = 0;
    const { authenticator } = setup({
      keystore: false,
      fetcher: () => {
        calls += 1;
        throw new Error("vault says secret=abc");
      },
    });
    const request = await raw(
      signedClientRequest({
        method: "GET",
        path: "/b/k",
        signingDate: START,
        credentials: { accessKeyId: "K", secretAccessKey: "s" },
      }),
    );
    const error = await authenticator.authenticate(request).catch((caught: unknown) => caught);
    expect(OspError.is(error) && [error.code, error.source]).toEqual(["InternalError", "proxy"]);
    await authenticator.authenticate(request).catch(() => undefined);
    expect(calls).toBe(2);
  });

  it("D-4: skips verification only when skipSignatureValidation is true, keeping the claimed key", async () => {
    const { authenticator } = setup({ skip: true });
    const wrong = await raw(
      signedClientRequest({
        method: "GET",
        path: "/b/k",
        signingDate: START,
        credentials: { accessKeyId: "WHOEVER", secretAccessKey: "x" },
      }),
    );
    await expect(authenticator.authenticate(wrong)).resolves.toMatchObject({
      accessKeyId: "WHOEVER",
      verified: false,
    });
    await expect(
      authenticator.authenticate({ method: "GET", path: "/b/k", query: "", headers: [] }),
    ).resolves.toMatchObject({
      accessKeyId: "",
      verified: false,
      payloadMode: "sha256",
    });
  });

  it("§10 empty-hash fallback: an unauthenticated request without body is the empty hash, with a body UNSIGNED-PAYLOAD", () => {
    expect(unverifiedPayload({ method: "GET", path: "/", query: "", headers: [] })).toEqual({
      payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      payloadMode: "sha256",
    });
    expect(
      unverifiedPayload({
        method: "PUT",
        path: "/",
        query: "",
        headers: [["Content-Length", "3"]],
      }),
    ).toEqual({ payloadHash: "UNSIGNED-PAYLOAD", payloadMode: "unsigned" });
    expect(
      unverifiedPayload({
        method: "PUT",
        path: "/",
        query: "",
        headers: [["x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]],
      }).payloadMode,
    ).toBe("streaming-unsigned-trailer");
  });
});

describe("authenticate without a promise", () => {
  it("answers a key-store request synchronously, and a fetched key once it is cached", async () => {
    const request = (accessKeyId: string, secretAccessKey: string) =>
      raw(
        signedClientRequest({
          method: "GET",
          path: "/b/k",
          signingDate: START,
          credentials: { accessKeyId, secretAccessKey },
        }),
      );
    const { phase } = setup({ fetcher: async () => "fetched-secret" });
    const fromStore = phase.authenticate(await request("CLIENTKEY", "client/secret+key"));
    expect(fromStore).not.toBeInstanceOf(Promise);
    expect(fromStore).toMatchObject({ accessKeyId: "CLIENTKEY", verified: true });
    const fetched = await request("FETCHEDKEY", "fetched-secret");
    const first = phase.authenticate(fetched);
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(phase.authenticate(fetched)).toMatchObject({
      accessKeyId: "FETCHEDKEY",
      verified: true,
    });
    const wrong = await request("CLIENTKEY", "wrong");
    expect(() => phase.authenticate(wrong)).toThrow(
      expect.objectContaining({ code: "SignatureDoesNotMatch" }),
    );
  });
});
