import { createHash } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHECKSUM_ALGORITHMS,
  checksumBase64Length,
  checksumHeaderName,
  createChecksum,
  isChecksumValueWellFormed,
  parseChecksumAlgorithm,
  toBase64,
  type ChecksumAlgorithm,
} from "./checksums.ts";
import { nodeCryptoProvider } from "./node.ts";

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const digestOf = (
  algorithm: ChecksumAlgorithm,
  data: Uint8Array,
  provider = nodeCryptoProvider,
) => {
  const checksum = createChecksum(algorithm, provider);
  checksum.update(data);
  return checksum.digest();
};

// Bit-at-a-time reference CRCs (reflected), straight from the definition: no tables involved.
const bitwiseCrc32 = (poly: number, data: Uint8Array): number => {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
};
const bitwiseCrc64Nvme = (data: Uint8Array): bigint => {
  const mask = (1n << 64n) - 1n;
  let crc = mask;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  return crc ^ mask;
};

describe("createChecksum", () => {
  const check = ascii("123456789");

  it.each([
    ["crc32", "cbf43926"],
    ["crc32c", "e3069283"],
    ["crc64nvme", "ae8b14860a799888"],
    ["sha1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441"],
    ["sha256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"],
  ] as const)("gives the catalogued check value of %s for 123456789", (algorithm, expected) => {
    expect(hexOf(digestOf(algorithm, check))).toBe(expected);
  });

  it("gives the same SHA digests through the default noble provider", () => {
    for (const algorithm of ["sha1", "sha256"] as const) {
      const checksum = createChecksum(algorithm);
      checksum.update(check);
      expect(checksum.digestBase64()).toBe(createHash(algorithm).update(check).digest("base64"));
    }
  });

  it("encodes the big-endian digest in base64 as S3 sends it", () => {
    const checksum = createChecksum("crc32");
    checksum.update(check);
    expect(checksum.digestBase64()).toBe("y/Q5Jg==");
    const empty = createChecksum("crc64nvme");
    expect(empty.digestBase64()).toBe("AAAAAAAAAAA=");
  });

  it("matches bitwise reference CRCs and node:zlib for any bytes and any update split", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 5 }),
        (data, cuts) => {
          const splits = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort(
            (a, b) => a - b,
          );
          const pieces: Uint8Array[] = [];
          let start = 0;
          for (const cut of [...splits, data.length]) {
            pieces.push(data.subarray(start, cut));
            start = cut;
          }
          const incremental = (algorithm: ChecksumAlgorithm) => {
            const checksum = createChecksum(algorithm);
            for (const piece of pieces) checksum.update(piece);
            return hexOf(checksum.digest());
          };
          expect(incremental("crc32")).toBe(
            bitwiseCrc32(0xedb88320, data).toString(16).padStart(8, "0"),
          );
          expect(incremental("crc32")).toBe(zlibCrc32(data).toString(16).padStart(8, "0"));
          expect(incremental("crc32c")).toBe(
            bitwiseCrc32(0x82f63b78, data).toString(16).padStart(8, "0"),
          );
          expect(incremental("crc64nvme")).toBe(
            bitwiseCrc64Nvme(data).toString(16).padStart(16, "0"),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("matches node:zlib on a multi-megabyte buffer", () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    expect(hexOf(digestOf("crc32", data))).toBe(zlibCrc32(data).toString(16).padStart(8, "0"));
  });
});

describe("toBase64", () => {
  it("agrees with Buffer for every length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (data) => {
        expect(toBase64(data)).toBe(Buffer.from(data).toString("base64"));
      }),
    );
  });
});

describe("isChecksumValueWellFormed", () => {
  it("accepts digests of the right length and rejects other shapes", () => {
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = createChecksum(algorithm, nodeCryptoProvider).digestBase64();
      expect(value.length).toBe(checksumBase64Length(algorithm));
      expect(isChecksumValueWellFormed(algorithm, value)).toBe(true);
      expect(isChecksumValueWellFormed(algorithm, value.slice(1))).toBe(false);
      expect(isChecksumValueWellFormed(algorithm, `${value}=`)).toBe(false);
      expect(isChecksumValueWellFormed(algorithm, `*${value.slice(1)}`)).toBe(false);
      expect(isChecksumValueWellFormed(algorithm, `${value.slice(0, -1)}A`)).toBe(false);
    }
    expect(isChecksumValueWellFormed("crc32", "sOO8/Q==")).toBe(true);
    expect(isChecksumValueWellFormed("crc32", "sOO8/Q=A")).toBe(false);
  });
});

describe("checksum names", () => {
  it("maps header, trailer and SDK algorithm names to algorithms", () => {
    expect(checksumHeaderName("crc64nvme")).toBe("x-amz-checksum-crc64nvme");
    expect(parseChecksumAlgorithm("x-amz-checksum-crc32c")).toBe("crc32c");
    expect(parseChecksumAlgorithm("X-Amz-Checksum-SHA256")).toBe("sha256");
    expect(parseChecksumAlgorithm("CRC64NVME")).toBe("crc64nvme");
    for (const algorithm of CHECKSUM_ALGORITHMS)
      expect(parseChecksumAlgorithm(checksumHeaderName(algorithm))).toBe(algorithm);
  });

  it("returns undefined for names that are not a checksum", () => {
    for (const name of [
      "x-amz-checksum-mode",
      "x-amz-checksum-type",
      "x-amz-checksum-md5",
      "content-md5",
      "",
    ])
      expect(parseChecksumAlgorithm(name)).toBeUndefined();
  });
});
