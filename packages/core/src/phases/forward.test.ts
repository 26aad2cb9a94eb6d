import { describe, expect, it } from "vitest";
import { OspError } from "../errors.ts";
import type { Transport, UpstreamRequest } from "../ports.ts";
import { collect, pieces, recordingObserver, rejectionCode } from "../../test/support/unit.ts";
import { clientResponseHeaders, sendUpstream, streamResponseBody } from "./forward.ts";

const request: UpstreamRequest = {
  method: "GET",
  origin: "http://b.example:9000",
  pathAndQuery: "/k",
  headers: [],
  body: null,
  verifyTls: true,
  signal: new AbortController().signal,
};

describe("clientResponseHeaders", () => {
  it("§10 Server header: replaces Server, drops hop-by-hop headers and those Connection names, keeps the rest", () => {
    expect(
      clientResponseHeaders(
        [
          ["Server", "AmazonS3"],
          ["Connection", "keep-alive, X-Hop"],
          ["Keep-Alive", "timeout=5"],
          ["Transfer-Encoding", "chunked"],
          ["X-Hop", "1"],
          ["ETag", '"abc"'],
          ["x-amz-request-id", "R"],
          ["Content-Length", "3"],
        ],
        "OSP",
      ),
    ).toEqual([
      ["ETag", '"abc"'],
      ["x-amz-request-id", "R"],
      ["Content-Length", "3"],
      ["server", "OSP"],
    ]);
  });
});

describe("sendUpstream", () => {
  const context = (transport: Transport, bodyError?: OspError) => {
    const recorder = recordingObserver();
    return {
      recorder,
      context: { requestId: "R", transport, observer: recorder.safe, bodyError: () => bodyError },
    };
  };

  it("reports the proxy's own body error instead of the transport's", async () => {
    const { context: c } = context(
      { send: async () => Promise.reject(new Error("socket hang up")) },
      new OspError("XAmzContentSHA256Mismatch"),
    );
    expect(await rejectionCode(sendUpstream(request, c))).toBe("XAmzContentSHA256Mismatch");
  });

  it("maps unknown transport failures to ServiceUnavailable and tells the observer", async () => {
    const { context: c, recorder } = context({
      send: async () => Promise.reject(new Error("ECONNREFUSED")),
    });
    expect(await rejectionCode(sendUpstream(request, c))).toBe("ServiceUnavailable");
    expect(recorder.of("upstreamError")).toEqual([
      { requestId: "R", code: "ServiceUnavailable", origin: "http://b.example:9000" },
    ]);
    const typed = context({
      send: async () => Promise.reject(new OspError("SlowDown", { source: "upstream" })),
    });
    expect(await rejectionCode(sendUpstream(request, typed.context))).toBe("SlowDown");
  });
});

describe("streamResponseBody", () => {
  it("counts bytes and reports the end once", async () => {
    let bytes = 0;
    const ends: unknown[] = [];
    const out = await collect(
      streamResponseBody(
        pieces("ab", "c"),
        (n) => (bytes += n),
        (failure) => ends.push(failure),
      ),
    );
    expect([out.byteLength, bytes, ends]).toEqual([3, 3, [undefined]]);
  });

  it("throws when the upstream body fails after headers were sent (never a clean truncated body)", async () => {
    async function* failing() {
      yield new Uint8Array(1);
      throw new Error("upstream reset");
    }
    const ends: unknown[] = [];
    await expect(
      collect(
        streamResponseBody(
          failing(),
          () => undefined,
          (failure) => ends.push(failure),
        ),
      ),
    ).rejects.toThrow("upstream reset");
    expect(ends).toHaveLength(1);
    expect(ends[0]).toBeInstanceOf(Error);
  });

  it("releases the source and reports the end once when abandoned, even before the first read", async () => {
    let released = 0;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: new Uint8Array(2) }),
        return: async () => {
          released += 1;
          return { done: true, value: undefined };
        },
      }),
    };
    const ends: unknown[] = [];
    const body = streamResponseBody(
      source,
      () => undefined,
      (failure) => ends.push(failure),
    );
    await body.return?.();
    await body.return?.();
    expect(await body.next()).toEqual({ done: true, value: undefined });
    expect([released, ends]).toEqual([1, [undefined]]);
  });
});
