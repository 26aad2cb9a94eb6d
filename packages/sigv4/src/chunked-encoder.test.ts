import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildSignedStream,
  buildUnsignedStream,
  concat,
  payload,
  testContext,
  textOf,
} from "../test/chunked-fixtures.ts";
import { createChunkDecoder } from "./chunked.ts";
import {
  createChunkEncoder,
  createUnsignedChunkEncoder,
  signedChunkedLength,
  unsignedChunkedLength,
  type ChunkEncoder,
} from "./chunked-encoder.ts";
import { createChecksum, type ChecksumAlgorithm } from "./checksums.ts";
import { SigV4Error } from "./errors.ts";
import { nodeCryptoProvider } from "./node.ts";
import type { CryptoProvider } from "./types.ts";

const context = testContext("b".repeat(64));

/** A provider that counts the bytes it hashes with SHA-256 (HMACs are not counted). */
const countingProvider = () => {
  const counter = { sha256Bytes: 0 };
  const crypto: CryptoProvider = {
    ...nodeCryptoProvider,
    sha256(data) {
      counter.sha256Bytes += data.length;
      return nodeCryptoProvider.sha256(data);
    },
    createSha256() {
      const inner = nodeCryptoProvider.createSha256();
      const self = {
        update(data: Uint8Array) {
          counter.sha256Bytes += data.length;
          inner.update(data);
          return self;
        },
        digest: () => inner.digest(),
      };
      return self;
    },
  };
  return { crypto, counter };
};

const splitInto = (data: Uint8Array, size: number): Uint8Array[] => {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += size)
    chunks.push(data.subarray(offset, offset + size));
  return chunks;
};

const encodeAll = (
  encoder: ChunkEncoder,
  data: Uint8Array,
  pieceSize: number,
  trailers?: Array<[string, string]>,
) =>
  concat([
    ...splitInto(data, pieceSize).flatMap((piece) => encoder.push(piece)),
    ...encoder.end(trailers),
  ]);

const codeOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (SigV4Error.is(error)) return error.code;
    throw error;
  }
  return "no error";
};

describe("createChunkEncoder", () => {
  it("frames exactly like an independent signer, whatever the input split", () => {
    fc.assert(
      fc.property(fc.nat(40_000), fc.integer({ min: 1, max: 20_000 }), (length, pieceSize) => {
        const data = payload(length);
        const encoder = createChunkEncoder({
          signing: context,
          chunkSizeBytes: 8192,
          crypto: nodeCryptoProvider,
        });
        const expected = buildSignedStream(context, splitInto(data, 8192)).wire;
        expect(textOf(encodeAll(encoder, data, pieceSize))).toBe(textOf(expected));
        expect(encoder.payloadBytes).toBe(length);
      }),
      { numRuns: 40 },
    );
  });

  it("signs trailers like an independent signer", () => {
    const data = payload(20_000);
    const trailers: Array<[string, string]> = [
      ["x-amz-meta-note", "hello"],
      ["x-amz-checksum-sha256", "x"],
    ];
    const encoder = createChunkEncoder({ signing: context, chunkSizeBytes: 8192, trailer: true });
    const expected = buildSignedStream(context, splitInto(data, 8192), trailers).wire;
    expect(textOf(encodeAll(encoder, data, 5000, trailers))).toBe(textOf(expected));
  });

  it("hashes every payload byte exactly once", () => {
    const { crypto, counter } = countingProvider();
    const encoder = createChunkEncoder({ signing: context, chunkSizeBytes: 8192, crypto });
    encodeAll(encoder, payload(100_000), 3000);
    expect(counter.sha256Bytes).toBe(100_000);
  });

  it("reuses the decoder's chunk digests when the chunk boundaries line up", () => {
    const data = payload(8192 * 5 + 100);
    const incoming = buildSignedStream(context, splitInto(data, 8192)).wire;
    const decoder = createChunkDecoder({
      mode: "streaming-signed",
      signing: context,
      crypto: nodeCryptoProvider,
    });
    const { crypto, counter } = countingProvider();
    const outgoingContext = testContext("c".repeat(64));
    const encoder = createChunkEncoder({ signing: outgoingContext, chunkSizeBytes: 8192, crypto });
    const wire = concat([
      ...splitInto(incoming, 777).flatMap((piece) =>
        decoder.pushChunks(piece).flatMap((chunk) => encoder.pushChunk(chunk)),
      ),
      ...encoder.end(),
    ]);
    decoder.end();
    expect(counter.sha256Bytes).toBe(0);
    expect(textOf(wire)).toBe(
      textOf(buildSignedStream(outgoingContext, splitInto(data, 8192)).wire),
    );
  });

  it("re-hashes when the chunk boundaries do not line up, with the same output", () => {
    const data = payload(50_000);
    const incoming = buildSignedStream(context, splitInto(data, 10_000)).wire;
    const decoder = createChunkDecoder({ mode: "streaming-signed", signing: context });
    const { crypto, counter } = countingProvider();
    const encoder = createChunkEncoder({ signing: context, chunkSizeBytes: 8192, crypto });
    const wire = concat([
      ...decoder.pushChunks(incoming).flatMap((chunk) => encoder.pushChunk(chunk)),
      ...encoder.end(),
    ]);
    expect(counter.sha256Bytes).toBe(50_000);
    expect(textOf(wire)).toBe(textOf(buildSignedStream(context, splitInto(data, 8192)).wire));
  });

  it("re-hashes a parked short chunk that turns out not to be the last", () => {
    const data = payload(8192 + 3000);
    const sha256 = nodeCryptoProvider.sha256(data.subarray(0, 3000));
    const encoder = createChunkEncoder({
      signing: context,
      chunkSizeBytes: 8192,
      crypto: nodeCryptoProvider,
    });
    const wire = concat([
      ...encoder.pushChunk({ pieces: [data.subarray(0, 3000)], byteLength: 3000, sha256 }),
      ...encoder.push(data.subarray(3000)),
      ...encoder.end(),
    ]);
    expect(textOf(wire)).toBe(
      textOf(buildSignedStream(context, [data.subarray(0, 8192), data.subarray(8192)]).wire),
    );
  });

  it("adds the checksum trailer it computed itself", () => {
    const data = payload(30_000);
    const checksum = createChecksum("crc64nvme");
    checksum.update(data);
    const encoder = createChunkEncoder({
      signing: context,
      trailer: true,
      checksumAlgorithm: "crc64nvme",
    });
    expect(encoder.checksumTrailerName).toBe("x-amz-checksum-crc64nvme");
    const expected = buildSignedStream(
      context,
      [data],
      [["x-amz-checksum-crc64nvme", checksum.digestBase64()]],
    );
    expect(textOf(encodeAll(encoder, data, 30_000))).toBe(textOf(expected.wire));
  });

  it("rejects invalid options and misuse with InvalidArgument", () => {
    expect(codeOf(() => createChunkEncoder({ signing: context, chunkSizeBytes: 8191 }))).toBe(
      "InvalidArgument",
    );
    expect(codeOf(() => createChunkEncoder({ signing: context, checksumAlgorithm: "crc32" }))).toBe(
      "InvalidArgument",
    );
    const plain = createChunkEncoder({ signing: context });
    expect(codeOf(() => plain.end([["x-amz-meta-a", "b"]]))).toBe("InvalidArgument");
    const withTrailer = createChunkEncoder({
      signing: context,
      trailer: true,
      checksumAlgorithm: "crc32",
    });
    for (const trailers of [
      [["bad name", "v"]],
      [["x-amz-meta-a", "line\r\nbreak"]],
      [
        ["x-amz-meta-a", "1"],
        ["X-Amz-Meta-A", "2"],
      ],
      [["x-amz-trailer-signature", "0"]],
      [["x-amz-checksum-crc32", "AAAAAA=="]],
    ] as Array<Array<[string, string]>>)
      expect(codeOf(() => withTrailer.end(trailers))).toBe("InvalidArgument");
    withTrailer.end();
    expect(codeOf(() => withTrailer.push(new Uint8Array(1)))).toBe("InvalidArgument");
    expect(codeOf(() => withTrailer.end())).toBe("InvalidArgument");
  });
});

describe("createUnsignedChunkEncoder", () => {
  it("frames STREAMING-UNSIGNED-PAYLOAD-TRAILER with the checksum trailer", () => {
    const data = payload(20_000);
    const checksum = createChecksum("crc32c");
    checksum.update(data);
    const encoder = createUnsignedChunkEncoder({
      chunkSizeBytes: 8192,
      checksumAlgorithm: "crc32c",
    });
    const expected = buildUnsignedStream(splitInto(data, 8192), [
      ["x-amz-checksum-crc32c", checksum.digestBase64()],
    ]);
    expect(textOf(encodeAll(encoder, data, 999))).toBe(textOf(expected));
  });

  it("hashes nothing but the checksum", () => {
    const { crypto, counter } = countingProvider();
    const encoder = createUnsignedChunkEncoder({ crypto, checksumAlgorithm: "crc32" });
    encodeAll(encoder, payload(100_000), 4096);
    expect(counter.sha256Bytes).toBe(0);
  });
});

describe("signedChunkedLength and unsignedChunkedLength", () => {
  const algorithms: ChecksumAlgorithm[] = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

  it("give the exact encoded length for any size, chunk size and trailer set", () => {
    fc.assert(
      fc.property(
        fc.nat(70_000),
        fc.integer({ min: 8192, max: 70_000 }),
        fc.option(fc.constantFrom(...algorithms), { nil: undefined }),
        fc.boolean(),
        (length, chunkSizeBytes, checksumAlgorithm, extraTrailer) => {
          const data = payload(length);
          const trailers: Array<[string, string]> = extraTrailer ? [["x-amz-meta-k", "value"]] : [];
          const trailer = checksumAlgorithm !== undefined || extraTrailer;
          const signedEncoder = createChunkEncoder({
            signing: context,
            chunkSizeBytes,
            trailer,
            crypto: nodeCryptoProvider,
            ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
          });
          const signedWire = encodeAll(signedEncoder, data, 10_000, trailer ? trailers : undefined);
          const lengthOptions = {
            chunkSizeBytes,
            ...(trailer ? { trailers } : {}),
            ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
          };
          expect(signedChunkedLength(length, lengthOptions)).toBe(signedWire.length);
          const unsignedEncoder = createUnsignedChunkEncoder({
            chunkSizeBytes,
            crypto: nodeCryptoProvider,
            ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
          });
          expect(unsignedChunkedLength(length, lengthOptions)).toBe(
            encodeAll(unsignedEncoder, data, 10_000, trailers).length,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("count the trailer framing with no trailers when asked", () => {
    const encoder = createChunkEncoder({ signing: context, trailer: true });
    expect(signedChunkedLength(0, { trailer: true })).toBe(concat(encoder.end()).length);
    expect(signedChunkedLength(0)).toBe(86);
    expect(unsignedChunkedLength(0)).toBe(5);
  });

  it("reject invalid lengths", () => {
    expect(codeOf(() => signedChunkedLength(-1))).toBe("InvalidArgument");
    expect(codeOf(() => unsignedChunkedLength(0.5))).toBe("InvalidArgument");
    expect(codeOf(() => signedChunkedLength(10, { chunkSizeBytes: 100 }))).toBe("InvalidArgument");
  });
});
