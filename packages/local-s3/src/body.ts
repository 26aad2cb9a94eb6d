// Receiving a request body the way S3 does: aws-chunked framing decoded (chunk signatures and
// trailer checksums checked by @osp/sigv4), the declared payload SHA-256, Content-MD5 and
// x-amz-checksum-* headers verified. Pieces go to the sink as they arrive; the caller makes the
// result visible only after this resolves, so a body that fails any check is never stored.
import { createHash } from "node:crypto";
import {
  createChecksum,
  createChunkDecoder,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
  type ChunkDecoder,
  type VerifiedRequest,
} from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { S3Error } from "./errors.ts";
import type { StoredChecksum } from "./storage/types.ts";

/** How to check one request body. */
export interface BodyPlan {
  readonly decoder?: ChunkDecoder;
  readonly expectedSha256Hex?: string;
  readonly contentMd5Base64?: string;
  readonly headerChecksum?: { readonly algorithm: ChecksumAlgorithm; readonly valueBase64: string };
  readonly maxBytes: number;
  /** Error code when `maxBytes` is exceeded. */
  readonly tooLargeCode: "EntityTooLarge" | "MaxMessageLengthExceeded";
}

/** What a verified body was. */
export interface BodyDigest {
  readonly sizeBytes: number;
  readonly md5Hex: string;
  /** The header or trailer checksum, verified. */
  readonly checksum?: StoredChecksum;
}

// Headers named x-amz-checksum-* that are not a checksum value.
const CHECKSUM_NON_VALUES = new Set([
  "x-amz-checksum-mode",
  "x-amz-checksum-algorithm",
  "x-amz-checksum-type",
]);

const checksumLabel: Record<ChecksumAlgorithm, string> = {
  crc32: "CRC32",
  crc32c: "CRC32C",
  crc64nvme: "CRC64NVME",
  sha1: "SHA1",
  sha256: "SHA256",
};

/** The checksum value header of a request, if any (at most one is allowed). */
export const headerChecksum = (
  headers: ReadonlyMap<string, string>,
): { algorithm: ChecksumAlgorithm; valueBase64: string } | undefined => {
  const found: Array<{ algorithm: ChecksumAlgorithm; valueBase64: string }> = [];
  for (const [name, value] of headers) {
    if (!name.startsWith("x-amz-checksum-") || CHECKSUM_NON_VALUES.has(name)) continue;
    const algorithm = parseChecksumAlgorithm(name);
    if (algorithm == null)
      throw new S3Error("InvalidRequest", `The checksum header ${name} is not supported.`);
    found.push({ algorithm, valueBase64: value.trim() });
  }
  if (found.length > 1)
    throw new S3Error(
      "InvalidRequest",
      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    );
  return found[0];
};

const parseLength = (value: string | undefined, header: string): number | undefined => {
  if (value == null) return undefined;
  if (!/^\d{1,16}$/.test(value.trim()))
    throw new S3Error("InvalidArgument", `The ${header} header is not a valid length.`);
  return Number(value.trim());
};

/** Builds the checks for a request from its verified signature and its headers. */
export const planBody = (
  verified: VerifiedRequest,
  headers: ReadonlyMap<string, string>,
  limits: { maxBytes: number; tooLargeCode: BodyPlan["tooLargeCode"] },
): BodyPlan => {
  let decoder: ChunkDecoder | undefined;
  let expectedSha256Hex: string | undefined;
  switch (verified.payloadMode) {
    case "sha256":
      expectedSha256Hex = verified.payloadHash.toLowerCase();
      break;
    case "unsigned":
      break;
    case "streaming-signed":
    case "streaming-signed-trailer":
    case "streaming-unsigned-trailer": {
      const declaredTrailers = (headers.get("x-amz-trailer") ?? "")
        .split(",")
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name !== "");
      const decodedContentLength = parseLength(
        headers.get("x-amz-decoded-content-length"),
        "x-amz-decoded-content-length",
      );
      if (verified.payloadMode !== "streaming-unsigned-trailer" && verified.chunkSigning == null)
        throw new S3Error("InternalError");
      decoder = createChunkDecoder({
        mode: verified.payloadMode,
        ...(verified.chunkSigning != null ? { signing: verified.chunkSigning } : {}),
        declaredTrailers,
        ...(decodedContentLength != null ? { decodedContentLength } : {}),
        crypto: nodeCryptoProvider,
      });
      break;
    }
  }
  const contentMd5 = headers.get("content-md5");
  if (contentMd5 != null) {
    const trimmed = contentMd5.trim();
    if (!/^[A-Za-z0-9+/]{22}==$/.test(trimmed)) throw new S3Error("InvalidDigest");
  }
  const checksum = headerChecksum(headers);
  return {
    ...(decoder != null ? { decoder } : {}),
    ...(expectedSha256Hex != null ? { expectedSha256Hex } : {}),
    ...(contentMd5 != null ? { contentMd5Base64: contentMd5.trim() } : {}),
    ...(checksum != null ? { headerChecksum: checksum } : {}),
    ...limits,
  };
};

/**
 * Streams a body through its checks into `sink`. Throws S3Error (SignatureDoesNotMatch,
 * XAmzContentSHA256Mismatch, BadDigest, IncompleteBody, …) on the first failure.
 */
export const receiveBody = async (
  source: AsyncIterable<Uint8Array>,
  plan: BodyPlan,
  sink: (piece: Uint8Array) => Promise<void> | void,
): Promise<BodyDigest> => {
  const md5 = createHash("md5");
  const sha256 = plan.expectedSha256Hex != null ? createHash("sha256") : undefined;
  const checksum =
    plan.headerChecksum != null
      ? createChecksum(plan.headerChecksum.algorithm, nodeCryptoProvider)
      : undefined;
  let sizeBytes = 0;
  const take = async (piece: Uint8Array) => {
    if (piece.byteLength === 0) return;
    sizeBytes += piece.byteLength;
    if (sizeBytes > plan.maxBytes) throw new S3Error(plan.tooLargeCode);
    md5.update(piece);
    sha256?.update(piece);
    checksum?.update(piece);
    await sink(piece);
  };
  for await (const chunk of source) {
    if (plan.decoder == null) await take(chunk);
    else for (const piece of plan.decoder.push(chunk)) await take(piece);
  }
  let verifiedChecksum: StoredChecksum | undefined;
  if (plan.decoder != null) {
    // end() throws IncompleteBody on truncation and BadDigest on a wrong trailer checksum.
    const result = plan.decoder.end();
    if (result.checksum != null)
      verifiedChecksum = {
        algorithm: result.checksum.algorithm,
        valueBase64: result.checksum.actual,
      };
  }
  if (sha256 != null && sha256.digest("hex") !== plan.expectedSha256Hex) {
    throw new S3Error(
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const md5Digest = md5.digest();
  if (plan.contentMd5Base64 != null && md5Digest.toString("base64") !== plan.contentMd5Base64) {
    throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  if (plan.headerChecksum != null && checksum != null) {
    const actual = checksum.digestBase64();
    if (actual !== plan.headerChecksum.valueBase64) {
      throw new S3Error(
        "BadDigest",
        `The ${checksumLabel[plan.headerChecksum.algorithm]} you specified did not match the calculated checksum.`,
      );
    }
    verifiedChecksum = { algorithm: plan.headerChecksum.algorithm, valueBase64: actual };
  }
  return {
    sizeBytes,
    md5Hex: md5Digest.toString("hex"),
    ...(verifiedChecksum != null ? { checksum: verifiedChecksum } : {}),
  };
};
