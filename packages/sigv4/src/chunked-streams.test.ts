import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  buildSignedStream,
  buildUnsignedStream,
  concat,
  expectSameBytes,
  flipBits,
  payload,
  testContext,
} from "../test/chunked-fixtures.ts";
import { createChunkDecoder, type ChunkDecoderResult } from "./chunked.ts";
import { createChunkEncoder, createUnsignedChunkEncoder } from "./chunked-encoder.ts";
import {
  chunkDecoderTransform,
  chunkEncoderTransform,
  decodeChunked,
  encodeChunked,
  resignChunked,
} from "./chunked-streams.ts";
import { createChecksum } from "./checksums.ts";
import { SigV4Error } from "./errors.ts";
import { nodeCryptoProvider } from "./node.ts";

const context = testContext("1".repeat(64));
const upstream = { ...testContext("2".repeat(64)), signingKey: new Uint8Array(32).fill(9) };
const data = payload(50_000);
const split = (bytes: Uint8Array, size: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    out.push(bytes.subarray(offset, offset + size));
  return out;
};
const crc32Of = (bytes: Uint8Array): string => {
  const checksum = createChecksum("crc32");
  checksum.update(bytes);
  return checksum.digestBase64();
};

async function* iterate(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

const drain = async <T>(generator: AsyncGenerator<Uint8Array, T, undefined>) => {
  const pieces: Uint8Array[] = [];
  for (;;) {
    const step = await generator.next();
    if (step.done === true) return { bytes: concat(pieces), result: step.value };
    pieces.push(step.value);
  }
};

const readAll = async (stream: ReadableStream<Uint8Array>): Promise<Uint8Array> => {
  const pieces: Uint8Array[] = [];
  for await (const piece of stream as unknown as AsyncIterable<Uint8Array>) pieces.push(piece);
  return concat(pieces);
};

describe("chunkDecoderTransform", () => {
  it("turns a signed body into its payload and reports the result", async () => {
    const { wire } = buildSignedStream(context, split(data, 8192));
    let result: ChunkDecoderResult | undefined;
    const decoded = await readAll(
      ReadableStream.from(split(wire, 1000)).pipeThrough(
        chunkDecoderTransform({
          mode: "streaming-signed",
          signing: context,
          onEnd: (value) => (result = value),
        }),
      ),
    );
    expectSameBytes(decoded, data);
    expect(result?.decodedLengthBytes).toBe(50_000);
  });

  it("errors the stream with the SigV4Error of a tampered body", async () => {
    const wire = buildSignedStream(context, split(data, 8192)).wire.slice();
    flipBits(wire, 20_000, 1);
    const stream = ReadableStream.from([wire]).pipeThrough(
      chunkDecoderTransform({ mode: "streaming-signed", signing: context }),
    );
    const error = await readAll(stream).catch((caught: unknown) => caught);
    expect(SigV4Error.is(error) && error.code).toBe("SignatureDoesNotMatch");
  });

  it("errors the stream when the body is truncated", async () => {
    const wire = buildUnsignedStream([data]).subarray(0, 1000);
    const stream = ReadableStream.from([wire]).pipeThrough(
      chunkDecoderTransform({ mode: "streaming-unsigned-trailer" }),
    );
    const error = await readAll(stream).catch((caught: unknown) => caught);
    expect(SigV4Error.is(error) && error.code).toBe("IncompleteBody");
  });
});

describe("chunkEncoderTransform", () => {
  it("encodes a payload stream with trailers asked for at the end", async () => {
    const encoder = createChunkEncoder({ signing: context, chunkSizeBytes: 8192, trailer: true });
    const wire = await readAll(
      ReadableStream.from(split(data, 3000)).pipeThrough(
        chunkEncoderTransform(encoder, {
          trailers: () => [["x-amz-checksum-crc32", crc32Of(data)]],
        }),
      ),
    );
    expectSameBytes(
      wire,
      buildSignedStream(context, split(data, 8192), [["x-amz-checksum-crc32", crc32Of(data)]]).wire,
    );
  });
});

describe("decodeChunked and encodeChunked", () => {
  it("work on Node readables and return the decoder result", async () => {
    const encoder = createUnsignedChunkEncoder({ checksumAlgorithm: "crc32" });
    const wire = await drain(encodeChunked(Readable.from(split(data, 7000)), encoder));
    const decoded = await drain(
      decodeChunked(Readable.from(split(wire.bytes, 333)), {
        mode: "streaming-unsigned-trailer",
        declaredTrailers: ["x-amz-checksum-crc32"],
      }),
    );
    expectSameBytes(decoded.bytes, data);
    expect(decoded.result.checksum).toMatchObject({ algorithm: "crc32", actual: crc32Of(data) });
  });

  it("rejects with the SigV4Error of a bad body", async () => {
    const wire = buildUnsignedStream([data], [["x-amz-checksum-crc32", "AAAAAA=="]]);
    const error = await drain(
      decodeChunked(iterate([wire]), {
        mode: "streaming-unsigned-trailer",
        declaredTrailers: ["x-amz-checksum-crc32"],
      }),
    ).catch((caught: unknown) => caught);
    expect(SigV4Error.is(error) && error.code).toBe("BadDigest");
  });
});

describe("resignChunked", () => {
  it("re-signs a signed-trailer body for another key and forwards its trailers", async () => {
    const trailers: Array<[string, string]> = [["x-amz-checksum-crc32", crc32Of(data)]];
    const incoming = buildSignedStream(context, split(data, 8192), trailers).wire;
    const { bytes, result } = await drain(
      resignChunked(iterate(split(incoming, 4096)), {
        decoder: {
          mode: "streaming-signed-trailer",
          signing: context,
          declaredTrailers: ["x-amz-checksum-crc32"],
          crypto: nodeCryptoProvider,
        },
        encoder: createChunkEncoder({
          signing: upstream,
          chunkSizeBytes: 8192,
          trailer: true,
          crypto: nodeCryptoProvider,
        }),
      }),
    );
    expect(result.trailers).toEqual(trailers);
    expectSameBytes(bytes, buildSignedStream(upstream, split(data, 8192), trailers).wire);
  });

  it("translates an unsigned-trailer body into a signed one without trailers", async () => {
    const incoming = buildUnsignedStream(split(data, 20_000), [
      ["x-amz-checksum-crc32", crc32Of(data)],
    ]);
    const { bytes } = await drain(
      resignChunked(iterate([incoming]), {
        decoder: { mode: "streaming-unsigned-trailer", declaredTrailers: ["x-amz-checksum-crc32"] },
        encoder: createChunkEncoder({ signing: upstream, chunkSizeBytes: 8192 }),
      }),
    );
    const decoder = createChunkDecoder({ mode: "streaming-signed", signing: upstream });
    expectSameBytes(concat(decoder.push(bytes)), data);
    expect(decoder.end().decodedLengthBytes).toBe(data.length);
  });

  it("does not forward a checksum trailer the encoder computes itself", async () => {
    const incoming = buildUnsignedStream([data], [["x-amz-checksum-crc32", crc32Of(data)]]);
    const { bytes } = await drain(
      resignChunked(iterate([incoming]), {
        decoder: { mode: "streaming-unsigned-trailer", declaredTrailers: ["x-amz-checksum-crc32"] },
        encoder: createUnsignedChunkEncoder({ checksumAlgorithm: "crc32" }),
      }),
    );
    expectSameBytes(bytes, buildUnsignedStream([data], [["x-amz-checksum-crc32", crc32Of(data)]]));
  });

  it("yields nothing of a chunk that fails verification", async () => {
    const incoming = buildSignedStream(context, split(data, 8192)).wire.slice();
    flipBits(incoming, incoming.length - 200, 4); // inside the last data chunk
    const yielded: Uint8Array[] = [];
    const lastChunk = Buffer.from(incoming).indexOf("\r\n350;chunk-signature=") + 2;
    const generator = resignChunked(
      iterate([incoming.subarray(0, lastChunk), incoming.subarray(lastChunk)]),
      {
        decoder: { mode: "streaming-signed", signing: context },
        encoder: createChunkEncoder({ signing: upstream, chunkSizeBytes: 8192 }),
      },
    );
    const error = await (async () => {
      for await (const piece of generator) yielded.push(piece);
    })().catch((caught: unknown) => caught);
    expect(SigV4Error.is(error) && error.code).toBe("SignatureDoesNotMatch");
    // Six full chunks of 8192 went out re-signed; the tampered last one did not.
    const decoder = createChunkDecoder({ mode: "streaming-signed", signing: upstream });
    expect(concat(decoder.push(concat(yielded))).length).toBe(6 * 8192);
  });
});
