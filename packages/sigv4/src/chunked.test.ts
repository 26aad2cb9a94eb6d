import { describe, expect, it } from "vitest";
import {
  buildSignedStream,
  buildUnsignedStream,
  bytesOf,
  concat,
  decodeWire,
  flipBits,
  payload,
  testContext,
  textOf,
} from "../test/chunked-fixtures.ts";
import {
  canonicalTrailer,
  chunkStringToSign,
  createChunkDecoder,
  parseDeclaredTrailers,
  trailerStringToSign,
  type ChunkDecoderOptions,
} from "./chunked.ts";
import { createChecksum } from "./checksums.ts";
import { SigV4Error } from "./errors.ts";
import { nodeCryptoProvider } from "./node.ts";

const context = testContext();
const signed: ChunkDecoderOptions = {
  mode: "streaming-signed",
  signing: context,
  crypto: nodeCryptoProvider,
};
const unsigned = (declaredTrailers: string[] = []): ChunkDecoderOptions => ({
  mode: "streaming-unsigned-trailer",
  declaredTrailers,
});
const crc32Of = (data: Uint8Array): string => {
  const checksum = createChecksum("crc32");
  checksum.update(data);
  return checksum.digestBase64();
};

const codeOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (SigV4Error.is(error)) return error.code;
    throw error;
  }
  return "no error";
};

describe("chunkStringToSign and trailerStringToSign", () => {
  it("lay out the AWS4-HMAC-SHA256-PAYLOAD and -TRAILER strings", () => {
    expect(chunkStringToSign(context, "p".repeat(64), "d".repeat(64))).toBe(
      `AWS4-HMAC-SHA256-PAYLOAD\n20260102T030405Z\n20260102/eu-west-3/s3/aws4_request\n${"p".repeat(64)}\n` +
        `e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n${"d".repeat(64)}`,
    );
    expect(trailerStringToSign(context, "p".repeat(64), "t".repeat(64))).toBe(
      `AWS4-HMAC-SHA256-TRAILER\n20260102T030405Z\n20260102/eu-west-3/s3/aws4_request\n${"p".repeat(64)}\n${"t".repeat(64)}`,
    );
  });

  it("canonicalise trailers as lower-case name:trimmed value lines", () => {
    expect(
      canonicalTrailer([
        ["X-Amz-Checksum-CRC32", " abc= "],
        ["x-amz-meta-a", "b"],
      ]),
    ).toBe("x-amz-checksum-crc32:abc=\nx-amz-meta-a:b\n");
    expect(canonicalTrailer([])).toBe("");
  });
});

describe("parseDeclaredTrailers", () => {
  it("splits x-amz-trailer into lower-case names", () => {
    expect(parseDeclaredTrailers(" X-Amz-Checksum-CRC32 , x-amz-meta-a,")).toEqual([
      "x-amz-checksum-crc32",
      "x-amz-meta-a",
    ]);
    expect(parseDeclaredTrailers(undefined)).toEqual([]);
    expect(parseDeclaredTrailers("")).toEqual([]);
  });
});

describe("createChunkDecoder options", () => {
  it("rejects a signed mode without a signing context", () => {
    expect(codeOf(() => createChunkDecoder({ mode: "streaming-signed" }))).toBe("InvalidArgument");
  });
  it("rejects nonsensical sizes", () => {
    expect(codeOf(() => createChunkDecoder({ ...signed, maxChunkSizeBytes: -1 }))).toBe(
      "InvalidArgument",
    );
    expect(codeOf(() => createChunkDecoder({ ...signed, decodedContentLength: 1.5 }))).toBe(
      "InvalidArgument",
    );
  });
  it("rejects two declared checksum trailers, as S3 does", () => {
    expect(
      codeOf(() => createChunkDecoder(unsigned(["x-amz-checksum-crc32", "x-amz-checksum-sha1"]))),
    ).toBe("InvalidRequest");
  });
});

describe("signed decoding", () => {
  const data = payload(300);
  const { wire } = buildSignedStream(context, [data.subarray(0, 100), data.subarray(100)]);

  it("decodes small chunks and reports the length", () => {
    const outcome = decodeWire({ ...signed, decodedContentLength: 300 }, wire);
    expect(outcome).toMatchObject({ ok: true, result: { decodedLengthBytes: 300, trailers: [] } });
    expect(outcome.ok && outcome.data).toEqual(data);
  });

  it("accepts upper-case hex and leading zeros in the size", () => {
    const text = textOf(wire).replace(/^64;/, "0064;").replace("\r\nc8;", "\r\nC8;");
    expect(decodeWire(signed, bytesOf(text)).ok).toBe(true);
  });

  it("groups released bytes per chunk with the SHA-256 used for the signature", () => {
    const decoder = createChunkDecoder(signed);
    const chunks = decoder.pushChunks(wire);
    expect(chunks.map((chunk) => chunk.byteLength)).toEqual([100, 200]);
    expect(Buffer.from(chunks[1]!.sha256!)).toEqual(
      Buffer.from(nodeCryptoProvider.sha256(data.subarray(100))),
    );
    expect(decoder.end().decodedLengthBytes).toBe(300);
  });

  it("holds a chunk back until its trailing CRLF has arrived", () => {
    const decoder = createChunkDecoder(signed);
    const headerLength = textOf(wire).indexOf("\r\n") + 2;
    expect(decoder.push(wire.subarray(0, headerLength + 100))).toEqual([]);
    expect(decoder.decodedBytes).toBe(0);
    expect(concat(decoder.push(wire.subarray(headerLength + 100, headerLength + 102)))).toEqual(
      data.subarray(0, 100),
    );
  });

  it("rejects a chunk without chunk-signature", () => {
    const text = textOf(wire).replace(/^64;chunk-signature=[0-9a-f]{64}/, "64");
    expect(decodeWire(signed, bytesOf(text))).toMatchObject({
      ok: false,
      code: "SignatureDoesNotMatch",
    });
  });

  it("rejects an unknown chunk extension", () => {
    const text = textOf(wire).replace(/^64;chunk-signature=/, "64;chunk-signatur=");
    expect(decodeWire(signed, bytesOf(text))).toMatchObject({ ok: false, code: "InvalidRequest" });
  });

  it("rejects a signature in upper-case hex", () => {
    const text = textOf(wire).replace(
      /^(64;chunk-signature=)([0-9a-f]{64})/,
      (_m, p: string, s: string) => p + s.toUpperCase(),
    );
    expect(decodeWire(signed, bytesOf(text))).toMatchObject({
      ok: false,
      code: "SignatureDoesNotMatch",
    });
  });

  it("rejects a chunk larger than maxChunkSizeBytes before reading it", () => {
    const secondChunk = textOf(wire).indexOf("\r\nc8;") + 2;
    expect(decodeWire({ ...signed, maxChunkSizeBytes: 150 }, wire, [secondChunk])).toMatchObject({
      ok: false,
      code: "InvalidRequest",
      releasedBytes: 100,
    });
  });

  it("rejects sizes that overflow, are negative or are not hex", () => {
    for (const size of ["fffffffffffffffffffff", "-1", "x", "", " 64", "64 "]) {
      const text = textOf(wire).replace(/^64/, size);
      expect(decodeWire(signed, bytesOf(text))).toMatchObject({
        ok: false,
        code: "InvalidRequest",
      });
    }
  });

  it("rejects an endless size line without buffering it", () => {
    const decoder = createChunkDecoder(signed);
    expect(codeOf(() => decoder.push(new Uint8Array(100_000).fill(0x30)))).toBe("InvalidRequest");
  });

  it("rejects a bare LF and a missing CRLF after the data", () => {
    expect(decodeWire(signed, bytesOf(textOf(wire).replace("\r\n", "\n")))).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
    const missingCrlf = textOf(wire).replace(/\r\nc8;/, "xxc8;");
    expect(decodeWire(signed, bytesOf(missingCrlf))).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
  });

  it("rejects bytes after the end of the body", () => {
    const outcome = decodeWire(signed, concat([wire, bytesOf("0")]));
    expect(outcome).toMatchObject({ ok: false, code: "InvalidRequest" });
  });

  it("rejects trailers in the mode without trailers", () => {
    const withTrailer = buildSignedStream(context, [data], []).wire;
    expect(decodeWire(signed, withTrailer)).toMatchObject({ ok: false, code: "InvalidRequest" });
  });

  it("fails with IncompleteBody when the body is shorter or longer than declared", () => {
    expect(decodeWire({ ...signed, decodedContentLength: 301 }, wire)).toMatchObject({
      ok: false,
      code: "IncompleteBody",
    });
    const secondChunk = textOf(wire).indexOf("\r\nc8;") + 2;
    expect(decodeWire({ ...signed, decodedContentLength: 299 }, wire, [secondChunk])).toMatchObject(
      {
        ok: false,
        code: "IncompleteBody",
        releasedBytes: 100,
      },
    );
  });

  it("enforces S3's minimum chunk size only when asked", () => {
    expect(decodeWire({ ...signed, minChunkSizeBytes: 8192 }, wire)).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
    const lastSmall = buildSignedStream(context, [payload(8192), data]).wire;
    expect(decodeWire({ ...signed, minChunkSizeBytes: 8192 }, lastSmall).ok).toBe(true);
  });

  it("keeps failing with the first error after a failure", () => {
    const decoder = createChunkDecoder(signed);
    const tampered = wire.slice();
    flipBits(tampered, wire.length - 120, 1);
    expect(codeOf(() => decoder.push(tampered))).toBe("SignatureDoesNotMatch");
    expect(codeOf(() => decoder.push(new Uint8Array(1)))).toBe("SignatureDoesNotMatch");
    expect(codeOf(() => decoder.end())).toBe("SignatureDoesNotMatch");
  });

  it("returns the same result from a repeated end()", () => {
    const decoder = createChunkDecoder(signed);
    decoder.push(wire);
    expect(decoder.end()).toBe(decoder.end());
  });

  it("never puts a signature into an error message", () => {
    const tampered = wire.slice();
    tampered[20] = tampered[20] === 0x61 ? 0x62 : 0x61;
    try {
      createChunkDecoder(signed).push(tampered);
      expect.unreachable();
    } catch (error) {
      expect(SigV4Error.is(error) && error.code).toBe("SignatureDoesNotMatch");
      expect(String((error as Error).message)).not.toMatch(/[0-9a-f]{16}/);
    }
  });
});

describe("signed-trailer decoding", () => {
  const data = payload(500);
  const options: ChunkDecoderOptions = {
    mode: "streaming-signed-trailer",
    signing: context,
    declaredTrailers: ["x-amz-checksum-crc32"],
    crypto: nodeCryptoProvider,
  };

  it("verifies the trailer signature and the checksum", () => {
    const { wire } = buildSignedStream(context, [data], [["x-amz-checksum-crc32", crc32Of(data)]]);
    expect(decodeWire(options, wire)).toMatchObject({
      ok: true,
      result: {
        trailers: [["x-amz-checksum-crc32", crc32Of(data)]],
        checksum: { algorithm: "crc32" },
      },
    });
  });

  it("rejects a body without x-amz-trailer-signature", () => {
    const { wire } = buildSignedStream(context, [data], [["x-amz-checksum-crc32", crc32Of(data)]]);
    const text = textOf(wire).replace(/x-amz-trailer-signature:[0-9a-f]{64}\r\n/, "");
    expect(decodeWire(options, bytesOf(text))).toMatchObject({
      ok: false,
      code: "SignatureDoesNotMatch",
    });
  });

  it("rejects a trailer after the trailer signature", () => {
    const { wire } = buildSignedStream(context, [data], [["x-amz-checksum-crc32", crc32Of(data)]]);
    const text = textOf(wire).replace(/\r\n\r\n$/, "\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    expect(decodeWire(options, bytesOf(text))).toMatchObject({ ok: false, code: "InvalidRequest" });
  });

  it("rejects a checksum that does not match with BadDigest", () => {
    const { wire } = buildSignedStream(context, [data], [["x-amz-checksum-crc32", "AAAAAA=="]]);
    expect(decodeWire(options, wire)).toMatchObject({ ok: false, code: "BadDigest" });
  });

  it("rejects a declared trailer that never came", () => {
    const { wire } = buildSignedStream(context, [data], []);
    expect(decodeWire(options, wire)).toMatchObject({ ok: false, code: "IncompleteBody" });
  });
});

describe("unsigned-trailer decoding", () => {
  const data = payload(1000);
  const trailers: Array<[string, string]> = [["x-amz-checksum-crc32", crc32Of(data)]];

  it("streams data through before the end and checks the checksum in end()", () => {
    const wire = buildUnsignedStream([data.subarray(0, 600), data.subarray(600)], trailers);
    const decoder = createChunkDecoder(unsigned(["x-amz-checksum-crc32"]));
    const early = decoder.push(wire.subarray(0, 300));
    expect(concat(early)).toEqual(data.subarray(0, 300 - 5)); // "258\r\n" is 5 bytes
    decoder.push(wire.subarray(300));
    expect(decoder.end()).toEqual({
      trailers,
      decodedLengthBytes: 1000,
      checksum: { algorithm: "crc32", expected: trailers[0]![1], actual: trailers[0]![1] },
    });
  });

  it("rejects a chunk-signature extension", () => {
    const wire = buildUnsignedStream([data], trailers);
    const text = textOf(wire).replace(/^3e8/, `3e8;chunk-signature=${"0".repeat(64)}`);
    expect(decodeWire(unsigned(["x-amz-checksum-crc32"]), bytesOf(text))).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
  });

  it("rejects an x-amz-trailer-signature", () => {
    const wire = buildUnsignedStream(
      [data],
      [...trailers, ["x-amz-trailer-signature", "0".repeat(64)]],
    );
    expect(decodeWire(unsigned(["x-amz-checksum-crc32"]), wire)).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
  });

  it("rejects an undeclared or duplicate trailer", () => {
    expect(decodeWire(unsigned([]), buildUnsignedStream([data], trailers))).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
    expect(
      decodeWire(
        unsigned(["x-amz-checksum-crc32"]),
        buildUnsignedStream([data], [...trailers, ...trailers]),
      ),
    ).toMatchObject({ ok: false, code: "InvalidRequest" });
  });

  it("rejects malformed trailer lines", () => {
    for (const line of [
      "x-amz-checksum-crc32",
      ":abc",
      "x amz:1",
      "x-amz-checksum-crc32:a\u0001b",
      "x-amz-checksum-crc32:\u00e9",
    ]) {
      const wire = concat([
        buildUnsignedStream([data]).subarray(0, -2),
        bytesOf(`${line}\r\n\r\n`),
      ]);
      expect(decodeWire(unsigned(["x-amz-checksum-crc32"]), wire)).toMatchObject({
        ok: false,
        code: "InvalidRequest",
      });
    }
  });

  it("rejects a checksum value that is not base64 of the right length as InvalidRequest", () => {
    const wire = buildUnsignedStream([data], [["x-amz-checksum-crc32", "not-base64"]]);
    expect(decodeWire(unsigned(["x-amz-checksum-crc32"]), wire)).toMatchObject({
      ok: false,
      code: "InvalidRequest",
    });
  });

  it("exposes a declared trailer it cannot verify without checking it", () => {
    const wire = buildUnsignedStream([data], [["x-amz-checksum-md5", "whatever"]]);
    expect(decodeWire(unsigned(["x-amz-checksum-md5"]), wire)).toMatchObject({
      ok: true,
      result: { trailers: [["x-amz-checksum-md5", "whatever"]] },
    });
  });

  it("matches declared trailer names case-insensitively", () => {
    const wire = buildUnsignedStream([data], trailers);
    expect(decodeWire(unsigned([" X-Amz-Checksum-CRC32"]), wire)).toMatchObject({
      ok: true,
      result: { checksum: { algorithm: "crc32" } },
    });
  });

  it("decodes an empty body", () => {
    const outcome = decodeWire(unsigned(), bytesOf("0\r\n\r\n"));
    expect(outcome).toMatchObject({ ok: true, result: { decodedLengthBytes: 0, trailers: [] } });
  });

  it("rejects an end() before the closing CRLF", () => {
    const decoder = createChunkDecoder(unsigned(["x-amz-checksum-crc32"]));
    decoder.push(buildUnsignedStream([data], trailers).subarray(0, -2));
    expect(codeOf(() => decoder.end())).toBe("IncompleteBody");
  });
});
