import { createCredsCache } from "@osp/creds-cache";
import { describe, expect, it } from "vitest";
import { parseProxyConfig, type Validator, type ValidatorRequest } from "../config.ts";
import { OspError } from "../errors.ts";
import {
  deferred,
  manualClock,
  recordingObserver,
  rejectionCode,
} from "../../test/support/unit.ts";
import { authorizationCacheKey, createAuthorizer } from "./authorize.ts";

/** The phase's answer as a promise, whether it came synchronously, threw or was pending. */
const later = <T>(run: () => T | Promise<T>): Promise<T> => Promise.resolve().then(run);

const setup = (
  validator: Validator | undefined,
  options: { cacheKey?: "bucket" | "operation" | "object"; ttl?: number } = {},
) => {
  const clock = manualClock();
  const config = parseProxyConfig({
    cosMap: { b: { host: "s3.example.com", apiKey: "k", ttl: options.ttl ?? 60 } },
    ...(validator != null && { validator }),
    ...(options.cacheKey != null && { validatorCacheKey: options.cacheKey }),
  });
  const recorder = recordingObserver();
  const authorizer = createAuthorizer({
    config,
    cache: createCredsCache<boolean>({ ttlMs: 0, now: clock.now }),
    observer: recorder.safe,
  });
  const bucket = config.buckets.get("b")!;
  // Cached answers come back synchronously (and a sync failure throws): tests see promises.
  const ask = (request: Partial<ValidatorRequest> = {}, accessKeyId = "AK") =>
    later(() =>
      authorizer.isAllowed({
        requestId: "R1",
        accessKeyId,
        bucket,
        request: {
          method: "GET",
          bucket: "b",
          operation: "GetObject",
          key: "k",
          query: {},
          ...request,
        },
      }),
    );
  return { clock, authorizer, bucket, ask, recorder };
};

describe("authorize", () => {
  it("D-3: allows every authenticated request when no validator is configured (documented)", async () => {
    const { ask } = setup(undefined);
    expect(await ask()).toBe(true);
  });

  it("D-18: passes method, key, operation, query and source address to the validator", async () => {
    const seen: unknown[] = [];
    const { authorizer, bucket } = setup((token, bucketName, request) => {
      seen.push([token, bucketName, request]);
      return true;
    });
    await authorizer.authorize({
      requestId: "R",
      accessKeyId: "AK",
      bucket,
      request: {
        method: "PUT",
        bucket: "b",
        key: "a/b",
        operation: "PutObject",
        query: { tagging: "" },
        remoteAddress: "10.1.1.1",
      },
    });
    expect(seen).toEqual([
      [
        "AK",
        "b",
        {
          method: "PUT",
          bucket: "b",
          key: "a/b",
          operation: "PutObject",
          query: { tagging: "" },
          remoteAddress: "10.1.1.1",
        },
      ],
    ]);
  });

  it("turns a denial into AccessDenied and caches denials for the bucket ttl", async () => {
    let calls = 0;
    const { authorizer, bucket, clock, recorder } = setup(() => {
      calls += 1;
      return false;
    });
    const question = {
      requestId: "R",
      accessKeyId: "AK",
      bucket,
      request: { method: "GET", bucket: "b", operation: "GetObject", query: {} },
    };
    expect(await rejectionCode(later(() => authorizer.authorize(question)))).toBe("AccessDenied");
    expect(await rejectionCode(later(() => authorizer.authorize(question)))).toBe("AccessDenied");
    expect(calls).toBe(1);
    clock.advance(61_000);
    await rejectionCode(later(() => authorizer.authorize(question)));
    expect(calls).toBe(2);
    expect(
      recorder
        .of<{ allowed: boolean; cached: boolean }>("authorization")
        .map((event) => [event.allowed, event.cached]),
    ).toEqual([
      [false, false],
      [false, true],
      [false, false],
    ]);
  });

  it("keys the cache by access key, bucket, method and operation by default", async () => {
    let calls = 0;
    const { ask } = setup(() => {
      calls += 1;
      return true;
    });
    await ask();
    await ask({ key: "other-key" }); // same operation: cached
    await ask({ method: "PUT", operation: "PutObject" });
    await ask({}, "OTHER");
    expect(calls).toBe(3);
  });

  it("adds the object key when validatorCacheKey is 'object', and drops the operation for 'bucket'", async () => {
    let calls = 0;
    const validator = () => {
      calls += 1;
      return true;
    };
    const objectMode = setup(validator, { cacheKey: "object" });
    await objectMode.ask({ key: "a" });
    await objectMode.ask({ key: "b" });
    expect(calls).toBe(2);
    calls = 0;
    const bucketMode = setup(validator, { cacheKey: "bucket" });
    await bucketMode.ask({ method: "GET", operation: "GetObject" });
    await bucketMode.ask({ method: "DELETE", operation: "DeleteObject" });
    expect(calls).toBe(1);
    // Parts that would run together in a plain join still give distinct keys.
    const keys = [
      ["a", "bc", "GET", "X", "k"],
      ["ab", "c", "GET", "X", "k"],
      ["a1:b", "c", "GET", "X", "k"],
      ["a", "1:bc", "GET", "X", "k"],
      ["a", "bc", "GET", "X1:", "k"],
      ["a", "bc", "GET", "X", "1:k"],
      ["a", "bc", "GETX", "", "k"],
    ].map(([accessKeyId, bucket, method, operation, key]) =>
      authorizationCacheKey("object", accessKeyId!, {
        bucket: bucket!,
        method: method!,
        operation: operation!,
        key: key!,
      }),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("does not cache with ttl 0 but shares one validator call between concurrent requests", async () => {
    const gate = deferred<boolean>();
    let calls = 0;
    const { ask } = setup(
      () => {
        calls += 1;
        return gate.promise;
      },
      { ttl: 0 },
    );
    const both = Promise.all([ask(), ask()]);
    gate.resolve(true);
    expect(await both).toEqual([true, true]);
    expect(calls).toBe(1);
    await ask().catch(() => undefined);
    expect(calls).toBe(2);
  });

  it("never caches validator errors and reports them as InternalError without their message", async () => {
    let calls = 0;
    const { ask } = setup(() => {
      calls += 1;
      throw new Error("db password=hunter2 rejected");
    });
    const error = await ask().catch((caught: unknown) => caught);
    expect(OspError.is(error) && error.code).toBe("InternalError");
    expect(OspError.is(error) && error.source).toBe("proxy");
    await ask().catch(() => undefined);
    expect(calls).toBe(2);
  });

  it("refuses a non-boolean validator answer (1, null, 'yes')", async () => {
    for (const answer of [1, null, "yes", undefined]) {
      const { ask } = setup((() => answer) as unknown as Validator);
      expect(await rejectionCode(ask())).toBe("InternalError");
    }
  });

  it("accepts async validators", async () => {
    const { ask } = setup(async (_token, _bucket, request) => request.method === "GET");
    expect(await ask()).toBe(true);
    expect(await ask({ method: "DELETE", operation: "DeleteObject" })).toBe(false);
  });
});
