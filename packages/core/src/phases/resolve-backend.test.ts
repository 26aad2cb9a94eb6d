import { createCredsCache } from "@osp/creds-cache";
import { describe, expect, it } from "vitest";
import { parseProxyConfig, type BucketCredsFetcher } from "../config.ts";
import type { BackendCredentials } from "../context.ts";
import { OspError } from "../errors.ts";
import {
  deferred,
  manualClock,
  recordingObserver,
  rejectionCode,
} from "../../test/support/unit.ts";
import { createBackendResolver, parseFetchedCredentials } from "./resolve-backend.ts";

const errorMessage = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(OspError.is(error) && error.code).toBe("InternalError");
    return (error as Error).message;
  }
  throw new Error("expected an error");
};

describe("parseFetchedCredentials", () => {
  it("reads an HMAC pair from JSON, in both spellings", () => {
    const snake = parseFetchedCredentials('{"access_key":"AK","secret_key":"SK"}');
    expect(
      snake.kind === "hmac" && [snake.credentials.accessKeyId, snake.credentials.secretAccessKey],
    ).toEqual(["AK", "SK"]);
    const camel = parseFetchedCredentials(' {"accessKey":"AK","secretKey":"SK"} ');
    expect(camel.kind === "hmac" && camel.credentials.secretAccessKey).toBe("SK");
  });

  it("reads an API key from JSON or plain text", () => {
    expect(parseFetchedCredentials('{"api_key":"k1"}')).toEqual({ kind: "bearer", apiKey: "k1" });
    expect(parseFetchedCredentials('{"apikey":"k2"}')).toEqual({ kind: "bearer", apiKey: "k2" });
    expect(parseFetchedCredentials("plain-api-key_123")).toEqual({
      kind: "bearer",
      apiKey: "plain-api-key_123",
    });
  });

  it("§10: rejects malformed JSON instead of using it as an API key, never echoing the value", () => {
    for (const value of [
      '{"access_key":"AK",',
      '{"access_key":"AK"}',
      '{"access_key":"AK","secret_key":5}',
      '{"api_key":null}',
      "{}",
      "[1]",
      '{"secret_key":"SECRETVALUE"}',
    ]) {
      const message = errorMessage(() => parseFetchedCredentials(value));
      expect(message).not.toContain("SECRETVALUE");
      expect(message).toMatch(/^bucketCredsFetcher: /);
    }
    errorMessage(() => parseFetchedCredentials(42));
    errorMessage(() => parseFetchedCredentials(""));
    errorMessage(() => parseFetchedCredentials("Error: no creds for you"));
  });

  it("keeps a fetched secret out of JSON.stringify", () => {
    expect(
      JSON.stringify(parseFetchedCredentials('{"access_key":"AK","secret_key":"TOPSECRET"}')),
    ).not.toContain("TOPSECRET");
  });
});

describe("backend resolver", () => {
  const setup = (fetcher?: BucketCredsFetcher, ttl = 60) => {
    const clock = manualClock();
    const config = parseProxyConfig({
      cosMap: {
        static: { host: "s3.example.com", accessKey: "AK", secretKey: "SK" },
        ibm: { host: "s3.example.com", apiKey: "api" },
        fetched: { host: "s3.example.com", ttl },
      },
      ...(fetcher != null && { bucketCredsFetcher: fetcher }),
    });
    const recorder = recordingObserver();
    const resolver = createBackendResolver({
      config,
      cache: createCredsCache<BackendCredentials>({ ttlMs: 0, now: clock.now }),
      observer: recorder.safe,
    });
    return { clock, resolver, config, recorder };
  };

  it("§10 unknown bucket: NoSuchBucket", () => {
    const { resolver } = setup(() => "k");
    let code: string | undefined;
    try {
      resolver.bucket("nope");
    } catch (error) {
      code = OspError.is(error) ? error.code : undefined;
    }
    expect(code).toBe("NoSuchBucket");
  });

  it("uses static credentials without calling the fetcher", async () => {
    let calls = 0;
    const { resolver } = setup(() => {
      calls += 1;
      return "k";
    });
    expect(await resolver.credentials("AK", resolver.bucket("static"))).toMatchObject({
      kind: "hmac",
      credentials: { accessKeyId: "AK" },
    });
    expect(await resolver.credentials("AK", resolver.bucket("ibm"))).toEqual({
      kind: "bearer",
      apiKey: "api",
    });
    expect(calls).toBe(0);
  });

  it("D-6: never mixes up identities whose key and bucket name run together", async () => {
    const calls: string[] = [];
    const config = parseProxyConfig({
      cosMap: {
        fetched: { host: "s3.example.com", ttl: 60 },
        dfetched: { host: "s3.example.com", ttl: 60 },
      },
      bucketCredsFetcher: (token: string, bucket: string) => {
        calls.push(`${token}/${bucket}`);
        return JSON.stringify({ access_key: `backend-${token}-${bucket}`, secret_key: "s" });
      },
    });
    const resolver = createBackendResolver({
      config,
      cache: createCredsCache<BackendCredentials>({ ttlMs: 0, now: manualClock().now }),
      observer: recordingObserver().safe,
    });
    // "ad" + "fetched" and "a" + "dfetched" are the same text when simply joined.
    const first = await resolver.credentials("ad", resolver.bucket("fetched"));
    const second = await resolver.credentials("a", resolver.bucket("dfetched"));
    expect(first.kind === "hmac" && first.credentials.accessKeyId).toBe("backend-ad-fetched");
    expect(second.kind === "hmac" && second.credentials.accessKeyId).toBe("backend-a-dfetched");
    expect(calls).toEqual(["ad/fetched", "a/dfetched"]);
  });

  it("D-6: caches fetched credentials per (access key, bucket) for the bucket ttl, never shared between identities", async () => {
    const calls: string[] = [];
    const { resolver, clock, recorder } = setup((token, bucket) => {
      calls.push(`${token}/${bucket}`);
      return JSON.stringify({ access_key: `backend-${token}`, secret_key: "s" });
    });
    const bucket = resolver.bucket("fetched");
    const alice = await resolver.credentials("alice", bucket);
    const bob = await resolver.credentials("bob", bucket);
    expect(alice.kind === "hmac" && alice.credentials.accessKeyId).toBe("backend-alice");
    expect(bob.kind === "hmac" && bob.credentials.accessKeyId).toBe("backend-bob");
    await resolver.credentials("alice", bucket);
    expect(calls).toEqual(["alice/fetched", "bob/fetched"]);
    clock.advance(61_000);
    await resolver.credentials("alice", bucket);
    expect(calls).toHaveLength(3);
    expect(recorder.cacheResults("credentials")).toEqual(["miss", "miss", "hit", "miss"]);
  });

  it("D-23: shares one fetch between concurrent first requests (single-flight)", async () => {
    const gate = deferred<string>();
    let calls = 0;
    const { resolver } = setup(() => {
      calls += 1;
      return gate.promise;
    });
    const bucket = resolver.bucket("fetched");
    const all = Promise.all(
      Array.from({ length: 50 }, () => resolver.credentials("alice", bucket)),
    );
    gate.resolve("api-key");
    expect(new Set((await all).map((value) => JSON.stringify(value)))).toEqual(
      new Set(['{"kind":"bearer","apiKey":"api-key"}']),
    );
    expect(calls).toBe(1);
  });

  it("never caches fetcher failures and reports them as InternalError", async () => {
    let calls = 0;
    const { resolver } = setup(() => {
      calls += 1;
      throw new Error("vault down");
    });
    const bucket = resolver.bucket("fetched");
    expect(await rejectionCode(Promise.resolve(resolver.credentials("a", bucket)))).toBe(
      "InternalError",
    );
    expect(await rejectionCode(Promise.resolve(resolver.credentials("a", bucket)))).toBe(
      "InternalError",
    );
    expect(calls).toBe(2);
  });
});
