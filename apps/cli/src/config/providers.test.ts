import type { ValidatorRequest } from "@osp/core";
import { describe, expect, it } from "vitest";
import {
  apiKeyEnvCredentials,
  envBucketCredentials,
  envSecretLookup,
  webhookValidator,
} from "./providers.ts";

const request: ValidatorRequest = {
  method: "GET",
  bucket: "b",
  key: "k",
  operation: "GetObject",
  query: {},
};

describe("envSecretLookup (the seed's lookup_secret_key)", () => {
  const env = {
    LOCAL2_ACCESS_KEY: "AKLOCAL2",
    LOCAL2_SECRET_KEY: "secret2",
    AWS_ACCESS_KEY: "AKBACKEND",
    AWS_SECRET_KEY: "backend-secret",
    ORPHAN_ACCESS_KEY: "AKORPHAN",
    EMPTY_ACCESS_KEY: "",
    EMPTY_SECRET_KEY: "x",
  };

  it("finds <NAME>_SECRET_KEY through the variable holding the access key", () => {
    const lookup = envSecretLookup(() => env);
    expect(lookup("AKLOCAL2")).toBe("secret2");
    expect(lookup("AKBACKEND")).toBe("backend-secret");
  });

  it("returns undefined for unknown keys, keys without a secret and the empty key", () => {
    const lookup = envSecretLookup(() => env);
    expect(lookup("AKUNKNOWN")).toBeUndefined();
    expect(lookup("AKORPHAN")).toBeUndefined();
    expect(lookup("")).toBeUndefined();
  });

  it("considers only variables with the prefix when one is given", () => {
    const lookup = envSecretLookup(() => env, { prefix: "LOCAL" });
    expect(lookup("AKLOCAL2")).toBe("secret2");
    expect(lookup("AKBACKEND")).toBeUndefined();
  });

  it("reads the environment at call time", () => {
    const live: Record<string, string> = {};
    const lookup = envSecretLookup(() => live);
    expect(lookup("AKNEW")).toBeUndefined();
    live.NEW_ACCESS_KEY = "AKNEW";
    live.NEW_SECRET_KEY = "fresh";
    expect(lookup("AKNEW")).toBe("fresh");
  });
});

const fakeFetch = (answer: () => Response | Promise<Response>) => {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return answer();
  }) as typeof fetch;
  return { calls, fetchImpl };
};

describe("webhookValidator", () => {
  it("POSTs {token, bucket, request} as JSON and follows the answer", async () => {
    const logs: unknown[] = [];
    const { calls, fetchImpl } = fakeFetch(() => Response.json({ allow: true }));
    const validator = webhookValidator({
      url: "http://authz/decide",
      headers: { authorization: "Bearer t" },
      fetch: fetchImpl,
      log: (...entry) => logs.push(entry),
    });
    expect(await validator("AK1", "b", request)).toBe(true);
    expect(calls[0]!.url).toBe("http://authz/decide");
    expect(calls[0]!.init.method).toBe("POST");
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ token: "AK1", bucket: "b", request });
    expect(calls[0]!.init.headers).toMatchObject({
      "content-type": "application/json",
      authorization: "Bearer t",
    });
    expect(logs).toEqual([]);
  });

  it("denies without logging when told so", async () => {
    const logs: unknown[] = [];
    const { fetchImpl } = fakeFetch(() => Response.json({ allow: false }));
    expect(
      await webhookValidator({
        url: "http://authz",
        fetch: fetchImpl,
        log: (...entry) => logs.push(entry),
      })("AK1", "b", request),
    ).toBe(false);
    expect(logs).toEqual([]);
  });

  it.each([
    ["an error status", () => new Response("nope", { status: 500 }), "HTTP 500"],
    ["a body that is not JSON", () => new Response("yes"), "answer is not JSON"],
    [
      "an answer without a boolean allow",
      () => Response.json({ allow: "yes" }),
      'answer has no boolean "allow"',
    ],
    [
      "a network error",
      () => Promise.reject(new TypeError("fetch failed")),
      "request failed: fetch failed",
    ],
  ])("denies and logs on %s", async (_, answer, reason) => {
    const logs: Array<[string, Record<string, unknown>]> = [];
    const { fetchImpl } = fakeFetch(answer);
    const validator = webhookValidator({
      url: "http://authz",
      fetch: fetchImpl,
      log: (message, fields) => logs.push([message, fields]),
    });
    expect(await validator("AK1", "b", request)).toBe(false);
    expect(logs).toEqual([
      [
        "validator webhook failed: request denied",
        expect.objectContaining({ reason, bucket: "b", accessKeyId: "AK1" }),
      ],
    ]);
  });

  it("denies when the webhook does not answer in time", async () => {
    const logs: Array<[string, Record<string, unknown>]> = [];
    const controller = new AbortController();
    const deadlines: number[] = [];
    const fetchImpl = ((_url: string, init: RequestInit) =>
      new Promise((_, reject) =>
        init.signal!.addEventListener("abort", () => reject(init.signal!.reason)),
      )) as unknown as typeof fetch;
    const validator = webhookValidator({
      url: "http://authz",
      timeoutMs: 20,
      fetch: fetchImpl,
      deadline: (ms) => {
        deadlines.push(ms);
        return controller.signal;
      },
      log: (message, fields) => logs.push([message, fields]),
    });
    const decision = validator("AK1", "b", request);
    controller.abort(new DOMException("deadline", "TimeoutError"));
    expect(await decision).toBe(false);
    expect(deadlines).toEqual([20]);
    expect(logs[0]![1].reason).toBe("no answer within 20 ms");
  });
});

describe("bucket credential providers", () => {
  it("returns the seed's JSON pair from the two variables (defaults ACCESS_KEY/SECRET_KEY)", () => {
    expect(
      JSON.parse(
        String(envBucketCredentials(() => ({ ACCESS_KEY: "a", SECRET_KEY: "s" }))("t", "b")),
      ),
    ).toEqual({ access_key: "a", secret_key: "s" });
    expect(
      JSON.parse(
        String(
          envBucketCredentials(() => ({ X: "a", Y: "s" }), {
            accessKeyVar: "X",
            secretKeyVar: "Y",
          })("t", "b"),
        ),
      ),
    ).toEqual({
      access_key: "a",
      secret_key: "s",
    });
  });

  it("throws naming the variables, never their values, when unset", () => {
    expect(() => envBucketCredentials(() => ({ ACCESS_KEY: "a" }))("t", "b")).toThrow(
      "ACCESS_KEY or SECRET_KEY environment variable not set",
    );
    expect(() => apiKeyEnvCredentials(() => ({}), "COS_API_KEY")("t", "b")).toThrow(
      "COS_API_KEY environment variable not set",
    );
  });

  it("returns the API key from its variable", () => {
    expect(apiKeyEnvCredentials(() => ({ COS_API_KEY: "key-123" }), "COS_API_KEY")("t", "b")).toBe(
      "key-123",
    );
  });
});
