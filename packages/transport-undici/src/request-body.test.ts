import { OspError } from "@osp/core";
import { describe, expect, it } from "vitest";
import { RequestBodyError } from "./map-error.ts";
import { RequestBodySource } from "./request-body.ts";

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
};

describe("RequestBodySource", () => {
  it("yields the source chunks and counts the bytes", async () => {
    async function* source() {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    const body = new RequestBodySource(source());
    const chunks: number[][] = [];
    for await (const chunk of body) chunks.push([...chunk]);
    expect(chunks).toEqual([[1, 2], [3]]);
    expect(body.sentBytes).toBe(3);
  });

  it("rejects a pending read at once when stopped, without closing the source", async () => {
    const gate = deferred<void>();
    let closed = false;
    async function* source() {
      try {
        yield new Uint8Array([1]);
        await gate.promise;
        yield new Uint8Array([2]);
        yield new Uint8Array([3]);
      } finally {
        closed = true;
      }
    }
    const iterable = source();
    const body = new RequestBodySource(iterable);
    await body.next();
    const pending = body.next();
    const reason = new Error("backend answered");
    body.stop(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(body.next()).rejects.toBe(reason);
    expect(closed).toBe(false);
    // The owner can still drain the source; the chunk the abandoned read asked for is dropped.
    gate.resolve();
    const rest: number[] = [];
    for await (const chunk of iterable) rest.push(...chunk);
    expect(rest).toEqual([3]);
    expect(closed).toBe(true);
  });

  it("wraps a source failure so the mapper can tell it from a backend failure", async () => {
    const digest = new OspError("BadDigest");
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1]);
      throw digest;
    }
    const body = new RequestBodySource(source());
    await body.next();
    const failure = await body.next().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestBodyError);
    expect((failure as RequestBodyError).cause).toBe(digest);
  });
});
