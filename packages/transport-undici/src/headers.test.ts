import { describe, expect, it } from "vitest";
import { fromUndiciResponseHeaders, toUndiciRequestHeaders } from "./headers.ts";

describe("toUndiciRequestHeaders", () => {
  it("keeps order, case and repeated names", () => {
    const { flat } = toUndiciRequestHeaders(
      [
        ["Host", "bucket.s3.example.com"],
        ["x-amz-meta-a", "1"],
        ["X-Amz-Meta-A", "2"],
        ["Authorization", "AWS4-HMAC-SHA256 Credential=…"],
      ],
      undefined,
      false,
    );
    expect(flat).toEqual([
      "Host",
      "bucket.s3.example.com",
      "x-amz-meta-a",
      "1",
      "X-Amz-Meta-A",
      "2",
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=…",
    ]);
  });

  it("drops Expect and every hop-by-hop header, whatever the case", () => {
    const { flat } = toUndiciRequestHeaders(
      [
        ["EXPECT", "100-continue"],
        ["Connection", "keep-alive"],
        ["Keep-Alive", "timeout=5"],
        ["Proxy-Connection", "keep-alive"],
        ["Proxy-Authorization", "Basic c2VjcmV0"],
        ["TE", "trailers"],
        ["Trailer", "x-amz-checksum-crc32"],
        ["Transfer-Encoding", "chunked"],
        ["Upgrade", "h2c"],
        ["x-amz-trailer", "x-amz-checksum-crc32"],
      ],
      undefined,
      true,
    );
    expect(flat).toEqual(["x-amz-trailer", "x-amz-checksum-crc32"]);
  });

  it("drops the headers a Connection header names", () => {
    const { flat } = toUndiciRequestHeaders(
      [
        ["X-Hop", "1"],
        ["connection", "X-Hop, close"],
        ["x-amz-date", "20250101T000000Z"],
      ],
      undefined,
      false,
    );
    expect(flat).toEqual(["x-amz-date", "20250101T000000Z"]);
  });

  it("takes the length from bodyLengthBytes over a Content-Length header", () => {
    const result = toUndiciRequestHeaders([["Content-Length", "5"]], 11, true);
    expect(result).toEqual({ flat: [], contentLengthBytes: 11 });
  });

  it("falls back to a well-formed Content-Length header when the length is not given", () => {
    expect(
      toUndiciRequestHeaders([["content-length", " 42 "]], undefined, true).contentLengthBytes,
    ).toBe(42);
    expect(
      toUndiciRequestHeaders([["content-length", "4x"]], undefined, true).contentLengthBytes,
    ).toBeUndefined();
    expect(
      toUndiciRequestHeaders([["content-length", "42"]], undefined, false).contentLengthBytes,
    ).toBeUndefined();
  });
});

describe("fromUndiciResponseHeaders", () => {
  it("decodes raw header bytes as latin1 in wire order and drops hop-by-hop headers", () => {
    const raw = [
      Buffer.from("Content-Length"),
      Buffer.from("3"),
      Buffer.from("Connection"),
      Buffer.from("keep-alive, X-Private"),
      Buffer.from("Keep-Alive"),
      Buffer.from("timeout=5"),
      Buffer.from("x-amz-meta-name"),
      Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9]),
      Buffer.from("X-Private"),
      Buffer.from("1"),
      Buffer.from("ETag"),
      Buffer.from('"abc"'),
    ];
    const headers = fromUndiciResponseHeaders(raw);
    expect(headers).toEqual([
      ["Content-Length", "3"],
      ["x-amz-meta-name", "caf\u00c3\u00a9"],
      ["ETag", '"abc"'],
    ]);
    // latin1 keeps every byte: re-encoding gives the UTF-8 the backend sent.
    expect(Buffer.from(headers[1]![1], "latin1").toString("utf8")).toBe("café");
  });

  it("returns an empty list for missing raw headers", () => {
    expect(fromUndiciResponseHeaders(null)).toEqual([]);
  });
});
