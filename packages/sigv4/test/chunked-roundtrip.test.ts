// encode → decode round trips at the sizes where framing goes wrong (empty, one byte, around the
// 8 KiB minimum and the 64 KiB default chunk, several MiB), in every mode, with random input splits.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createChunkDecoder, type ChunkedPayloadMode } from "../src/chunked.ts";
import {
  createChunkEncoder,
  createUnsignedChunkEncoder,
  signedChunkedLength,
  unsignedChunkedLength,
  type ChunkEncoder,
} from "../src/chunked-encoder.ts";
import {
  CHECKSUM_ALGORITHMS,
  checksumHeaderName,
  type ChecksumAlgorithm,
} from "../src/checksums.ts";
import { nobleCryptoProvider } from "../src/crypto.ts";
import { nodeCryptoProvider } from "../src/node.ts";
import type { CryptoProvider } from "../src/types.ts";
import { concat, payload, testContext } from "./chunked-fixtures.ts";

const context = testContext("f".repeat(64));
const SIZES = [0, 1, 8191, 8192, 8193, 65535, 65536, 65537, 5 * 1024 * 1024 + 3];

/** Cuts `data` into pieces of pseudo-random sizes (1 byte … 100 KiB) from a seed. */
const randomPieces = (data: Uint8Array, seed: number): Uint8Array[] => {
  const pieces: Uint8Array[] = [];
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < data.length;) {
    state = (state * 1103515245 + 12345) >>> 0;
    const size = 1 + (state % (state & 1 ? 100 : 100 * 1024));
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
};

interface Setup {
  mode: ChunkedPayloadMode;
  encoder: () => ChunkEncoder;
  length: (decoded: number) => number;
  checksumAlgorithm?: ChecksumAlgorithm;
}

const setups = (
  crypto: CryptoProvider,
  chunkSizeBytes: number,
  algorithm: ChecksumAlgorithm,
): Setup[] => [
  {
    mode: "streaming-signed",
    encoder: () => createChunkEncoder({ signing: context, chunkSizeBytes, crypto }),
    length: (decoded) => signedChunkedLength(decoded, { chunkSizeBytes }),
  },
  {
    mode: "streaming-signed-trailer",
    encoder: () =>
      createChunkEncoder({
        signing: context,
        chunkSizeBytes,
        crypto,
        trailer: true,
        checksumAlgorithm: algorithm,
      }),
    length: (decoded) =>
      signedChunkedLength(decoded, { chunkSizeBytes, checksumAlgorithm: algorithm }),
    checksumAlgorithm: algorithm,
  },
  {
    mode: "streaming-unsigned-trailer",
    encoder: () =>
      createUnsignedChunkEncoder({ chunkSizeBytes, crypto, checksumAlgorithm: algorithm }),
    length: (decoded) =>
      unsignedChunkedLength(decoded, { chunkSizeBytes, checksumAlgorithm: algorithm }),
    checksumAlgorithm: algorithm,
  },
];

const roundTrip = (setup: Setup, data: Uint8Array, seed: number, crypto: CryptoProvider) => {
  const encoder = setup.encoder();
  const wirePieces: Uint8Array[] = [];
  for (const piece of randomPieces(data, seed)) wirePieces.push(...encoder.push(piece));
  wirePieces.push(...encoder.end());
  const wire = concat(wirePieces);
  expect(wire.length).toBe(setup.length(data.length));
  const decoder = createChunkDecoder({
    mode: setup.mode,
    signing: context,
    crypto,
    decodedContentLength: data.length,
    declaredTrailers:
      setup.checksumAlgorithm === undefined ? [] : [checksumHeaderName(setup.checksumAlgorithm)],
  });
  const out: Uint8Array[] = [];
  for (const piece of randomPieces(wire, seed * 7 + 1)) out.push(...decoder.push(piece));
  const result = decoder.end();
  expect(result.decodedLengthBytes).toBe(data.length);
  expect(result.checksum?.algorithm).toBe(setup.checksumAlgorithm);
  const decoded = concat(out);
  expect(decoded.length).toBe(data.length);
  expect(Buffer.compare(Buffer.from(decoded), Buffer.from(data))).toBe(0);
};

describe("encode → decode round trip", () => {
  SIZES.forEach((size, index) => {
    const algorithm = CHECKSUM_ALGORITHMS[index % CHECKSUM_ALGORITHMS.length]!;
    for (const setup of setups(nodeCryptoProvider, 65536, algorithm)) {
      it(`restores ${size} bytes in ${setup.mode} mode (${algorithm})`, () => {
        roundTrip(setup, payload(size, index), index + 1, nodeCryptoProvider);
      });
    }
  });

  it("restores random sizes with random chunk sizes and splits (noble provider)", () => {
    fc.assert(
      fc.property(
        fc.nat(40_000),
        fc.integer({ min: 8192, max: 30_000 }),
        fc.constantFrom(...CHECKSUM_ALGORITHMS),
        fc.integer({ min: 1 }),
        (size, chunkSizeBytes, algorithm, seed) => {
          for (const setup of setups(nobleCryptoProvider, chunkSizeBytes, algorithm))
            roundTrip(setup, payload(size, seed % 7), seed, nobleCryptoProvider);
        },
      ),
      { numRuns: 25 },
    );
  });
});
