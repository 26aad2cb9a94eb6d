// The S3 API Reference worked examples for aws-chunked uploads, checked at every published value:
// decoding the documented body verifies, and encoding the same payload with the same key and seed
// reproduces the documented wire bytes exactly.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  chunkStringToSign,
  createChunkDecoder,
  parseDeclaredTrailers,
  trailerStringToSign,
  type ChunkedPayloadMode,
  type ChunkSigningContext,
} from "../src/chunked.ts";
import { createChunkEncoder, signedChunkedLength } from "../src/chunked-encoder.ts";
import { createChecksum, parseChecksumAlgorithm } from "../src/checksums.ts";
import { nobleCryptoProvider } from "../src/crypto.ts";
import { toHex, utf8 } from "../src/encoding.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import { deriveSigningKey } from "../src/signing-key.ts";
import type { CryptoProvider } from "../src/types.ts";
import { verifyRequest } from "../src/verify.ts";
import {
  bytesOf,
  concat,
  decodeWire,
  everyByte,
  expectSameBytes,
  loadDocsExamples,
  loadSdkCaptures,
  payload,
  rebuildSdkWire,
  textOf,
  type DocsChunkedExample,
} from "./chunked-fixtures.ts";

const examples = loadDocsExamples();
const { common } = examples;
const scope = { date: common.amz_date.slice(0, 8), region: common.region, service: common.service };
const signingKey = deriveSigningKey(common.credentials.secret_access_key, scope);
const providers: Array<[string, CryptoProvider]> = [
  ["noble", nobleCryptoProvider],
  ["node:crypto", nodeCryptoProvider],
];

const contextOf = (example: DocsChunkedExample): ChunkSigningContext => ({
  signingKey,
  amzDate: common.amz_date,
  scope,
  seedSignature: example.seed_signature,
});

/** The documented body: each chunk's header line, its data ('a' bytes) and CRLF; then the end. */
const documentedBody = (example: DocsChunkedExample): Uint8Array => {
  const pieces: Uint8Array[] = [];
  for (const chunk of example.chunks) {
    pieces.push(bytesOf(chunk.chunk_header_line));
    if (chunk.size > 0) pieces.push(new Uint8Array(chunk.size).fill(0x61), bytesOf("\r\n"));
  }
  pieces.push(
    bytesOf(example.trailer === undefined ? "\r\n" : `${example.trailer.wire_lines}\r\n`),
  );
  return concat(pieces);
};

const payloadOf = (example: DocsChunkedExample): Uint8Array =>
  new Uint8Array(example.decoded_content_length).fill(0x61);

describe.each([
  ["chunked_upload", examples.chunked_upload],
  ["chunked_upload_with_trailer", examples.chunked_upload_with_trailer],
] as const)("S3 docs example %s", (_name, example) => {
  const context = contextOf(example);
  const trailer = example.trailer;
  const mode = trailer === undefined ? "streaming-signed" : "streaming-signed-trailer";
  const declaredTrailers = trailer?.headers.map(([name]) => name) ?? [];

  it("derives the documented signing key and seed from the documented canonical request", () => {
    expect(toHex(signingKey)).toBe(common.signing_key_hex);
    const canonicalHash = createHash("sha256").update(example.canonical_request).digest("hex");
    expect(canonicalHash).toBe(example.canonical_request_sha256);
    expect(example.string_to_sign.endsWith(`\n${canonicalHash}`)).toBe(true);
    const seed = toHex(nodeCryptoProvider.hmacSha256(signingKey, utf8(example.string_to_sign)));
    expect(seed).toBe(example.seed_signature);
  });

  it("reproduces every chunk string to sign and signature in the chain", () => {
    let previous = example.seed_signature;
    for (const chunk of example.chunks) {
      const data = new Uint8Array(chunk.size).fill(0x61);
      expect(toHex(nobleCryptoProvider.sha256(data))).toBe(chunk.data_sha256);
      const stringToSign = chunkStringToSign(context, previous, chunk.data_sha256);
      expect(stringToSign).toBe(chunk.string_to_sign);
      previous = toHex(nobleCryptoProvider.hmacSha256(signingKey, utf8(stringToSign)));
      expect(previous).toBe(chunk.signature);
      expect(chunk.chunk_header_line).toBe(
        `${chunk.size_hex};chunk-signature=${chunk.signature}\r\n`,
      );
    }
  });

  it("computes the documented Content-Length from the decoded length", () => {
    const expected = example.encoded_content_length ?? example.encoded_content_length_computed;
    expect(documentedBody(example).length).toBe(expected);
    expect(
      signedChunkedLength(example.decoded_content_length, {
        chunkSizeBytes: 65536,
        ...(trailer === undefined ? {} : { trailers: trailer.headers }),
      }),
    ).toBe(expected);
  });

  it.each(providers)("decodes and verifies the documented body (%s)", (_provider, crypto) => {
    const outcome = decodeWire(
      {
        mode,
        signing: context,
        declaredTrailers,
        decodedContentLength: example.decoded_content_length,
        crypto,
      },
      documentedBody(example),
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expectSameBytes(outcome.data, payloadOf(example));
    expect(outcome.result.decodedLengthBytes).toBe(example.decoded_content_length);
    expect(outcome.result.trailers).toEqual(trailer?.headers ?? []);
    if (trailer !== undefined) {
      expect(outcome.result.checksum).toEqual({
        algorithm: "crc32c",
        expected: "sOO8/Q==",
        actual: "sOO8/Q==",
      });
    }
  });

  it("decodes the documented body pushed one byte at a time", () => {
    const body = documentedBody(example);
    const outcome = decodeWire(
      { mode, signing: context, declaredTrailers, crypto: nodeCryptoProvider },
      body,
      everyByte(body.length),
    );
    expect(outcome.ok && outcome.data.length).toBe(example.decoded_content_length);
  });

  it.each(providers)(
    "re-encodes the payload to the documented wire bytes exactly (%s)",
    (_provider, crypto) => {
      const encoder = createChunkEncoder({
        signing: context,
        chunkSizeBytes: 65536,
        trailer: trailer !== undefined,
        crypto,
      });
      const payload = payloadOf(example);
      // Pushed in uneven pieces: the encoder re-buffers to 64 KiB chunks.
      const wire = concat([
        ...encoder.push(payload.subarray(0, 1000)),
        ...encoder.push(payload.subarray(1000, 66000)),
        ...encoder.push(payload.subarray(66000)),
        ...encoder.end(trailer?.headers),
      ]);
      expect(textOf(wire)).toBe(textOf(documentedBody(example)));
    },
  );

  it("releases the first chunk only once its signature has been checked", () => {
    const body = documentedBody(example);
    const firstChunkEnd = example.chunks[0]!.chunk_header_line.length + 65536;
    const decoder = createChunkDecoder({ mode, signing: context, declaredTrailers });
    expect(decoder.push(body.subarray(0, firstChunkEnd))).toEqual([]);
    expect(decoder.push(body.subarray(firstChunkEnd, firstChunkEnd + 1))).toEqual([]); // CR
    const released = decoder.push(body.subarray(firstChunkEnd + 1, firstChunkEnd + 2)); // LF
    expect(concat(released).length).toBe(65536);
    expect(decoder.decodedBytes).toBe(65536);
  });
});

describe("S3 docs example chunked_upload_with_trailer: the trailer", () => {
  const example = examples.chunked_upload_with_trailer;
  const trailer = example.trailer!;
  const context = contextOf(example);

  it("has the documented CRC32C of the payload", () => {
    const checksum = createChecksum("crc32c");
    checksum.update(payloadOf(example));
    expect(checksum.digestBase64()).toBe(trailer.headers[0]![1]);
    expect(trailer.headers).toEqual([["x-amz-checksum-crc32c", "sOO8/Q=="]]);
  });

  it("reproduces the canonical trailer, its string to sign and the trailer signature", () => {
    expect(trailer.canonical_trailer).toBe("x-amz-checksum-crc32c:sOO8/Q==\n");
    const canonicalHash = toHex(nobleCryptoProvider.sha256(utf8(trailer.canonical_trailer)));
    expect(canonicalHash).toBe(trailer.canonical_trailer_sha256);
    const finalChunkSignature = example.chunks.at(-1)!.signature;
    const stringToSign = trailerStringToSign(context, finalChunkSignature, canonicalHash);
    expect(stringToSign).toBe(trailer.string_to_sign);
    expect(toHex(nobleCryptoProvider.hmacSha256(signingKey, utf8(stringToSign)))).toBe(
      trailer.signature,
    );
    expect(trailer.wire_lines).toBe(
      `x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:${trailer.signature}\r\n`,
    );
  });

  it("re-encodes with the encoder computing the CRC32C trailer itself", () => {
    const encoder = createChunkEncoder({
      signing: context,
      trailer: true,
      checksumAlgorithm: "crc32c",
      crypto: nodeCryptoProvider,
    });
    const wire = concat([...encoder.push(payloadOf(example)), ...encoder.end()]);
    expect(textOf(wire)).toBe(textOf(documentedBody(example)));
    expect(wire.length).toBe(
      signedChunkedLength(example.decoded_content_length, { checksumAlgorithm: "crc32c" }),
    );
  });

  it("rejects the body when the trailer value was changed, even to a valid CRC", () => {
    const body = textOf(documentedBody(example)).replace("sOO8/Q==", "AAAAAA==");
    const outcome = decodeWire(
      {
        mode: "streaming-signed-trailer",
        signing: context,
        declaredTrailers: ["x-amz-checksum-crc32c"],
      },
      bytesOf(body),
    );
    expect(outcome).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });

  it("rejects the body verified against the seed of the other example", () => {
    const outcome = decodeWire(
      {
        mode: "streaming-signed-trailer",
        signing: { ...context, seedSignature: examples.chunked_upload.seed_signature },
        declaredTrailers: ["x-amz-checksum-crc32c"],
      },
      documentedBody(example),
    );
    expect(outcome).toMatchObject({ ok: false, code: "SignatureDoesNotMatch", releasedBytes: 0 });
  });
});

describe("S3 docs example unsigned_payload_trailer", () => {
  it("documents that no published vector exists (ours come from the SDK capture)", () => {
    expect(examples.unsigned_payload_trailer.published_vector).toBeNull();
    expect(examples.unsigned_payload_trailer.x_amz_content_sha256).toBe(
      "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    );
  });
});

describe("our STREAMING-UNSIGNED-PAYLOAD-TRAILER vectors (captured from @aws-sdk/client-s3)", () => {
  const file = loadSdkCaptures();
  const data = payload(file.payload.lengthBytes);

  it.each(file.captures.map((capture) => [capture.headers["x-amz-trailer"]!, capture] as const))(
    "decodes the %s capture and verifies its checksum",
    (trailerName, capture) => {
      const wire = rebuildSdkWire(capture, data);
      expect(wire.length).toBe(capture.wireLengthBytes);
      expect(createHash("sha256").update(wire).digest("hex")).toBe(capture.wireSha256);
      expect(capture.headers["x-amz-content-sha256"]).toBe("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
      const outcome = decodeWire(
        {
          mode: "streaming-unsigned-trailer",
          declaredTrailers: parseDeclaredTrailers(capture.headers["x-amz-trailer"]),
          decodedContentLength: Number(capture.headers["x-amz-decoded-content-length"]),
          crypto: nodeCryptoProvider,
        },
        wire,
        [1, 7, 100_001, 100_010],
      );
      if (!outcome.ok) throw new Error(`decoding failed with ${outcome.code}`);
      expectSameBytes(outcome.data, data);
      const expected = capture.trailerLines.slice(trailerName.length + 1, -2);
      expect(outcome.result.checksum).toEqual({
        algorithm: parseChecksumAlgorithm(trailerName),
        expected,
        actual: expected,
      });
    },
  );
});

describe("verifyRequest → createChunkDecoder on the S3 docs examples", () => {
  it.each([
    ["chunked_upload", examples.chunked_upload],
    ["chunked_upload_with_trailer", examples.chunked_upload_with_trailer],
  ] as const)(
    "decodes %s with the chunk-signing context of the verified request",
    async (_name, example) => {
      const request = {
        method: "PUT",
        path: "/examplebucket/chunkObject.txt",
        query: "",
        headers: [
          ...example.request.headers,
          ["Authorization", example.authorization] as [string, string],
        ],
      };
      const verified = await verifyRequest(request, {
        lookupSecret: () => common.credentials.secret_access_key,
        now: Date.parse("2013-05-24T00:00:00Z"),
      });
      expect(verified.chunkSigning?.seedSignature).toBe(example.seed_signature);
      const trailerHeader = example.request.headers.find(([name]) => name === "x-amz-trailer")?.[1];
      const outcome = decodeWire(
        {
          mode: verified.payloadMode as ChunkedPayloadMode,
          signing: verified.chunkSigning!,
          declaredTrailers: parseDeclaredTrailers(trailerHeader),
          decodedContentLength: example.decoded_content_length,
        },
        documentedBody(example),
      );
      expect(outcome.ok).toBe(true);
    },
  );
});
