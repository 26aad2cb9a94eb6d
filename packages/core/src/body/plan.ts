// How the client's body travels upstream: passed through, checked by the proxy (SHA-256 or
// aws-chunked signatures and checksum trailer), decoded into a plain body, or re-signed chunk
// by chunk. Chosen from the client's payload mode, the backend's credentials kind and the
// encodings the backend accepts. Bodies are streamed; nothing is buffered whole.

import {
  EMPTY_SHA256,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  UNSIGNED_PAYLOAD,
  parseChecksumAlgorithm,
  parseDeclaredTrailers,
  signedChunkedLength,
  type ChecksumAlgorithm,
  type ChunkDecoderOptions,
  type ChunkSigningContext,
  type CryptoProvider,
  type PayloadMode,
} from "@osp/sigv4";
import type { UploadEncodings } from "../config.ts";
import { OspError } from "../errors.ts";
import { getHeader, getHeaderValues, parseLength } from "../http.ts";
import type { MaybePromise } from "../maybe.ts";
import type { Body } from "../ports.ts";
import { decodeToPlain, reencodeSigned } from "./aws-chunked.ts";
import { verifySha256Payload } from "./payload-sha256.ts";
import { drain } from "./streams.ts";

/** What the plan needs to know. @public */
export interface BodyPlanInput {
  readonly method: string;
  /** The client body (already wrapped for byte counting), `null` when there is none. */
  readonly body: Body | null;
  /** The client's headers. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly payloadHash: string;
  readonly payloadMode: PayloadMode;
  /** Required to verify signed aws-chunked bodies. */
  readonly chunkSigning?: ChunkSigningContext;
  readonly backend: "hmac" | "bearer";
  readonly uploadEncodings: UploadEncodings;
  readonly crypto: CryptoProvider;
  /** Chunk size of re-encoded bodies; default 65 536. */
  readonly chunkSizeBytes?: number;
}

/** How the body goes upstream. @public */
export interface BodyPlan {
  /**
   * `none`: no body. `passthrough`: bytes as received (the backend checks them).
   * `verify-sha256`: as received, SHA-256 checked by the proxy. `decode`: aws-chunked decoded
   * into a plain body, checked by the proxy. `reencode`: aws-chunked verified and re-signed.
   */
  readonly kind: "none" | "passthrough" | "verify-sha256" | "decode" | "reencode";
  /** Payload hash to sign the upstream request with (HMAC backends). */
  readonly payloadHash: string;
  /** Exact upstream body length when known. */
  readonly bodyLengthBytes?: number;
  /** Header names to remove from the forwarded headers, then headers to set (replacing). */
  readonly removeHeaders: ReadonlyArray<string>;
  readonly setHeaders: ReadonlyArray<readonly [string, string]>;
  /**
   * The upstream body. For `reencode` pass the signed upstream request's chunk signing context.
   * A body that cannot hold anything back (declared length 0) is checked completely first.
   */
  prepare(signing?: ChunkSigningContext): MaybePromise<Body | null>;
}

const DEFAULT_CHUNK_SIZE_BYTES = 64 * 1024;

// Base64 lengths of the checksum values: a forwarded trailer's length is known in advance,
// which is what makes the re-encoded Content-Length exact.
const CHECKSUM_VALUE_LENGTH: { readonly [A in ChecksumAlgorithm]: number } = {
  crc32: 8,
  crc32c: 8,
  crc64nvme: 12,
  sha1: 28,
  sha256: 44,
};

/** `Content-Encoding` tokens without `aws-chunked`. */
const contentEncodingsWithoutChunked = (headers: BodyPlanInput["headers"]): string[] =>
  getHeaderValues(headers, "content-encoding")
    .flatMap((value) => value.split(","))
    .map((token) => token.trim())
    .filter((token) => token !== "" && token.toLowerCase() !== "aws-chunked");

const noBodyLength = (input: BodyPlanInput): number | undefined =>
  getHeader(input.headers, "content-length") != null ||
  input.method === "PUT" ||
  input.method === "POST"
    ? 0
    : undefined;

const emptyBody = async function* (): AsyncGenerator<Uint8Array> {
  // An absent body is an empty stream for the decoders: they then report a truncation.
};

/**
 * Decides how the body is forwarded.
 * @throws OspError `MissingContentLength` when a translation needs `x-amz-decoded-content-length`
 *   and the client sent none; `XAmzContentSHA256Mismatch` for a hash no empty body can match.
 * @public
 */
export const planBody = (input: BodyPlanInput): BodyPlan => {
  const contentLength = parseLength(getHeader(input.headers, "content-length"));
  const mode = input.payloadMode;
  const crypto = input.crypto;

  if (mode === "sha256" || mode === "unsigned") {
    if (input.body == null) {
      if (
        mode === "sha256" &&
        input.backend === "bearer" &&
        input.payloadHash.toLowerCase() !== EMPTY_SHA256
      ) {
        throw new OspError("XAmzContentSHA256Mismatch");
      }
      return fixedPlan("none", input.payloadHash, noBodyLength(input), null);
    }
    if (mode === "sha256" && input.backend === "bearer") {
      const checked = verifySha256Payload(input.body, input.payloadHash, crypto, contentLength);
      return {
        kind: "verify-sha256",
        payloadHash: input.payloadHash,
        ...(contentLength != null && { bodyLengthBytes: contentLength }),
        removeHeaders: [],
        setHeaders: [],
        // Nothing can be held back from an empty body: check it before sending.
        prepare: async () => (contentLength === 0 ? (await drain(checked), null) : checked),
      };
    }
    return fixedPlan("passthrough", input.payloadHash, contentLength, input.body);
  }

  // aws-chunked bodies.
  const source = input.body ?? emptyBody();
  const declaredTrailers = parseDeclaredTrailers(getHeader(input.headers, "x-amz-trailer"));
  const decodedLength = parseLength(getHeader(input.headers, "x-amz-decoded-content-length"));
  const decoderOptions: ChunkDecoderOptions = {
    mode,
    ...(input.chunkSigning != null && { signing: input.chunkSigning }),
    declaredTrailers,
    ...(decodedLength != null && { decodedContentLength: decodedLength }),
    crypto,
  };
  const otherEncodings = contentEncodingsWithoutChunked(input.headers);

  if (
    input.backend === "hmac" &&
    mode === "streaming-unsigned-trailer" &&
    input.uploadEncodings === "all"
  ) {
    // The backend reads the framing and checks the checksum trailer itself.
    return fixedPlan("passthrough", STREAMING_UNSIGNED_PAYLOAD_TRAILER, contentLength, input.body);
  }

  if (input.backend === "bearer") {
    const plain = decodeToPlain(source, decoderOptions);
    return {
      kind: "decode",
      payloadHash: UNSIGNED_PAYLOAD,
      ...(decodedLength != null && { bodyLengthBytes: decodedLength }),
      removeHeaders: [
        "x-amz-decoded-content-length",
        "x-amz-trailer",
        "x-amz-sdk-checksum-algorithm",
        "content-encoding",
      ],
      setHeaders: otherEncodings.length > 0 ? [["content-encoding", otherEncodings.join(",")]] : [],
      prepare: async () => (decodedLength === 0 ? (await drain(plain), null) : plain),
    };
  }

  // HMAC backend: verify and re-sign chunk by chunk; the length must be known in advance.
  if (decodedLength == null) {
    throw new OspError("MissingContentLength", {
      message: "aws-chunked uploads need the x-amz-decoded-content-length header.",
    });
  }
  const chunkSizeBytes = input.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
  const checksumTrailers = declaredTrailers.filter((name) => parseChecksumAlgorithm(name) != null);
  const keepTrailers =
    mode !== "streaming-signed" && input.uploadEncodings === "all" && checksumTrailers.length > 0;
  const trailerTemplate = checksumTrailers.map(
    (name) => [name, "=".repeat(CHECKSUM_VALUE_LENGTH[parseChecksumAlgorithm(name)!])] as const,
  );
  const bodyLengthBytes = signedChunkedLength(decodedLength, {
    chunkSizeBytes,
    ...(keepTrailers && { trailers: trailerTemplate, trailer: true }),
  });
  return {
    kind: "reencode",
    payloadHash: keepTrailers ? STREAMING_SIGNED_PAYLOAD_TRAILER : STREAMING_SIGNED_PAYLOAD,
    bodyLengthBytes,
    removeHeaders: keepTrailers
      ? ["content-encoding", "x-amz-trailer"]
      : ["content-encoding", "x-amz-trailer", "x-amz-sdk-checksum-algorithm"],
    setHeaders: [
      ["content-encoding", ["aws-chunked", ...otherEncodings].join(",")],
      ["x-amz-decoded-content-length", String(decodedLength)],
      ...(keepTrailers ? [["x-amz-trailer", checksumTrailers.join(",")] as const] : []),
    ],
    prepare: async (signing) => {
      if (signing == null)
        throw new OspError("InternalError", {
          source: "proxy",
          message: "re-encoding needs the upstream signature",
        });
      return reencodeSigned(source, {
        decoder: decoderOptions,
        signing,
        chunkSizeBytes,
        ...(keepTrailers && { forwardTrailers: checksumTrailers }),
        crypto,
      });
    },
  };
};

const fixedPlan = (
  kind: "none" | "passthrough",
  payloadHash: string,
  bodyLengthBytes: number | undefined,
  body: Body | null,
): BodyPlan => ({
  kind,
  payloadHash,
  ...(bodyLengthBytes != null && { bodyLengthBytes }),
  removeHeaders: [],
  setHeaders: [],
  prepare: () => body,
});

/** Applies a plan's header edits to a forwarded header list. @internal */
export const applyHeaderEdits = (
  headers: ReadonlyArray<readonly [string, string]>,
  plan: Pick<BodyPlan, "removeHeaders" | "setHeaders">,
): Array<[string, string]> => {
  const removed = new Set([...plan.removeHeaders, ...plan.setHeaders.map(([name]) => name)]);
  const kept: Array<[string, string]> = headers
    .filter(([name]) => !removed.has(name.toLowerCase()))
    .map(([name, value]) => [name, value]);
  for (const [name, value] of plan.setHeaders) kept.push([name, value]);
  return kept;
};
