// aws-chunked decoding and chunk/trailer signature verification, as an incremental state machine:
// push() accepts bytes split at any boundary and returns only payload that is safe to release.
import { bytesEqualConstantTime, createChunkSignatureChain } from "./chunk-chain.ts";
import { parseChecksumAlgorithm, createChecksum, isChecksumValueWellFormed } from "./checksums.ts";
import type { Checksum, ChecksumAlgorithm } from "./checksums.ts";
import { EMPTY_SHA256 } from "./constants.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { timingSafeEqual, toHex, utf8 } from "./encoding.ts";
import { SigV4Error } from "./errors.ts";
import type { CredentialScope, CryptoProvider } from "./types.ts";

/**
 * What chunk and trailer signatures chain from: the request's signing key, `x-amz-date`, scope and
 * the seed (the request's own signature). `verifyRequest` returns it as `chunkSigning`; a signer
 * builds it from `SignedRequest` (`signingKey`, `amzDate`, `scope`, `signature`).
 * @public
 */
export interface ChunkSigningContext {
  readonly signingKey: Uint8Array;
  /** `YYYYMMDDTHHMMSSZ`, the request's `x-amz-date`. */
  readonly amzDate: string;
  readonly scope: CredentialScope;
  /** The request signature: the "previous signature" of the first chunk. */
  readonly seedSignature: string;
}

/** The three aws-chunked payload modes (see {@link PayloadMode}). @public */
export type ChunkedPayloadMode =
  | "streaming-signed"
  | "streaming-signed-trailer"
  | "streaming-unsigned-trailer";

const formatScope = (scope: CredentialScope): string =>
  `${scope.date}/${scope.region}/${scope.service}/aws4_request`;

/**
 * String to sign of one chunk: `AWS4-HMAC-SHA256-PAYLOAD`, date, scope, previous signature (the
 * seed for the first chunk), SHA-256 of the empty string, SHA-256 of the chunk data (hex).
 * @public
 */
export const chunkStringToSign = (
  context: ChunkSigningContext,
  previousSignature: string,
  chunkSha256Hex: string,
): string =>
  `AWS4-HMAC-SHA256-PAYLOAD\n${context.amzDate}\n${formatScope(context.scope)}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;

/**
 * String to sign of the trailer: `AWS4-HMAC-SHA256-TRAILER`, date, scope, signature of the final
 * zero-length chunk, SHA-256 (hex) of the canonical trailer (`name:value\n` per trailer).
 * @public
 */
export const trailerStringToSign = (
  context: ChunkSigningContext,
  previousSignature: string,
  canonicalTrailerSha256Hex: string,
): string =>
  `AWS4-HMAC-SHA256-TRAILER\n${context.amzDate}\n${formatScope(context.scope)}\n${previousSignature}\n${canonicalTrailerSha256Hex}`;

/** Hex HMAC of a string to sign with the signing key. @internal */
export const signString = (signingKey: Uint8Array, text: string, crypto: CryptoProvider): string =>
  toHex(crypto.hmacSha256(signingKey, utf8(text)));

/** `name:value\n` per trailer, names lower-cased: the bytes the trailer signature covers. @internal */
export const canonicalTrailer = (trailers: ReadonlyArray<readonly [string, string]>): string => {
  let out = "";
  for (const [name, value] of trailers) out += `${name.toLowerCase()}:${value.trim()}\n`;
  return out;
};

/**
 * The `x-amz-trailer` header as a list of lower-case trailer names (`undefined` or empty → none).
 * @public
 */
export const parseDeclaredTrailers = (xAmzTrailer: string | undefined): string[] =>
  xAmzTrailer == null
    ? []
    : xAmzTrailer
        .split(",")
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name !== "");

/** @public */
export interface ChunkDecoderOptions {
  /** From the request's `x-amz-content-sha256` (`VerifiedRequest.payloadMode`). */
  mode: ChunkedPayloadMode;
  /** Required for the two signed modes (`VerifiedRequest.chunkSigning`). */
  signing?: ChunkSigningContext;
  /**
   * Lower-case names from `x-amz-trailer` ({@link parseDeclaredTrailers}). A trailer not declared
   * here is refused (InvalidRequest); a declared one that never arrives gives IncompleteBody.
   * Undefined means none. A declared `x-amz-checksum-*` is computed and checked in `end()`.
   */
  declaredTrailers?: ReadonlyArray<string>;
  /** `x-amz-decoded-content-length`; a body of another length fails with IncompleteBody. */
  decodedContentLength?: number;
  /** Largest accepted chunk; bigger → InvalidRequest. Bounds the buffered memory. Default 16 MiB. */
  maxChunkSizeBytes?: number;
  /**
   * Smallest chunk allowed before the last (S3 requires 8 KiB, `MIN_CHUNK_SIZE_BYTES`); smaller →
   * InvalidRequest. Default 0: accepted, because a proxy re-frames the stream anyway.
   */
  minChunkSizeBytes?: number;
  crypto?: CryptoProvider;
}

/** What a decoded stream carried besides its payload. @public */
export interface ChunkDecoderResult {
  /** Trailers in wire order, names lower-cased, values trimmed; without `x-amz-trailer-signature`. */
  trailers: Array<[string, string]>;
  decodedLengthBytes: number;
  /** Present when a supported `x-amz-checksum-*` trailer was declared; it matched (else BadDigest). */
  checksum?: { algorithm: ChecksumAlgorithm; expected: string; actual: string };
}

/**
 * A run of verified payload bytes. In the signed modes it is exactly one wire chunk and carries
 * the SHA-256 computed to check its signature, so an encoder can sign it without hashing again.
 * @public
 */
export interface DecodedChunk {
  /** The bytes, as views into the buffers given to `push` (several when the chunk arrived split). */
  readonly pieces: ReadonlyArray<Uint8Array>;
  readonly byteLength: number;
  /** SHA-256 digest of the whole chunk (signed modes only). */
  readonly sha256?: Uint8Array;
}

/** @public */
export interface ChunkDecoder {
  /**
   * Feeds wire bytes (any split) and returns the payload pieces now verified and safe to release.
   * A signed chunk is released only after its signature matched, so up to one chunk is held; the
   * pieces are views of `bytes`, which must not be modified afterwards.
   */
  push(bytes: Uint8Array): Uint8Array[];
  /** As `push`, but grouped per chunk with the chunk's SHA-256 (for re-signing without rehashing). */
  pushChunks(bytes: Uint8Array): DecodedChunk[];
  /** After the last push: checks completeness, length and checksum. Throws IncompleteBody, BadDigest. */
  end(): ChunkDecoderResult;
  /** Payload bytes released so far. */
  readonly decodedBytes: number;
}

const DEFAULT_MAX_CHUNK_SIZE_BYTES = 16 * 1024 * 1024;
// "<16 hex>;chunk-signature=<64 hex>" is 97 bytes; anything far longer is not a size line.
const MAX_SIZE_LINE_BYTES = 256;
const MAX_TRAILER_LINE_BYTES = 1024;
const CHUNK_SIGNATURE_PREFIX = utf8(";chunk-signature=");
const TRAILER_SIGNATURE_NAME = "x-amz-trailer-signature";
const CR = 13;
const LF = 10;

// Internal states; numbers keep the hot loop's switch cheap.
const SIZE_LINE = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER_LINE = 4;
const DONE = 5;
const FAILED = 6;

const isHexDigit = (byte: number): boolean =>
  (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70);
const hexValue = (byte: number): number => (byte <= 57 ? byte - 48 : (byte | 0x20) - 87);
// RFC 9110 token characters, for trailer names.
const isTokenByte = (byte: number): boolean =>
  (byte >= 97 && byte <= 122) ||
  (byte >= 65 && byte <= 90) ||
  (byte >= 48 && byte <= 57) ||
  "!#$%&'*+-.^_`|~".includes(String.fromCharCode(byte));

/**
 * A plain Uint8Array view: `subarray` on a Node Buffer builds another Buffer, which costs more
 * and would make the output type depend on the input's class.
 * @internal
 */
export const view = (bytes: Uint8Array, start: number, length: number): Uint8Array =>
  new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);

const asciiString = (bytes: Uint8Array, start: number, end: number): string => {
  let out = "";
  for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i]!);
  return out;
};

const validateSize = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new SigV4Error("InvalidArgument", `${name} must be a non-negative safe integer`);
  return value;
};

/**
 * Creates an incremental aws-chunked decoder that verifies the chunk-signature chain (signed
 * modes), the trailer signature (signed-trailer mode) and a declared checksum trailer.
 * Every failure is a {@link SigV4Error}: SignatureDoesNotMatch (tampered data or signature),
 * IncompleteBody (truncated, or not `decodedContentLength` bytes), InvalidRequest (malformed
 * framing or trailers), BadDigest (checksum mismatch). After a failure every call rethrows it.
 * @public
 */
export const createChunkDecoder = (options: ChunkDecoderOptions): ChunkDecoder => {
  const { mode } = options;
  const signed = mode !== "streaming-unsigned-trailer";
  const withTrailers = mode !== "streaming-signed";
  const signing = options.signing;
  if (signed && signing == null)
    throw new SigV4Error("InvalidArgument", `aws-chunked mode ${mode} needs a signing context`);
  const crypto = options.crypto ?? nobleCryptoProvider;
  const maxChunkSizeBytes = validateSize(
    "maxChunkSizeBytes",
    options.maxChunkSizeBytes,
    DEFAULT_MAX_CHUNK_SIZE_BYTES,
  );
  const minChunkSizeBytes = validateSize("minChunkSizeBytes", options.minChunkSizeBytes, 0);
  const decodedContentLength =
    options.decodedContentLength === undefined
      ? undefined
      : validateSize("decodedContentLength", options.decodedContentLength, 0);
  const declared = new Set(
    withTrailers ? (options.declaredTrailers ?? []).map((name) => name.trim().toLowerCase()) : [],
  );
  declared.delete(TRAILER_SIGNATURE_NAME);

  // One checksum at most, as S3: "Multiple checksum Types are not allowed".
  let checksum: Checksum | undefined;
  let checksumTrailerName: string | undefined;
  for (const name of declared) {
    if (!name.startsWith("x-amz-checksum-")) continue;
    if (checksumTrailerName !== undefined)
      throw new SigV4Error("InvalidRequest", "Expecting a single x-amz-checksum- trailer");
    checksumTrailerName = name;
    const algorithm = parseChecksumAlgorithm(name);
    if (algorithm !== undefined) checksum = createChecksum(algorithm, crypto);
  }

  const chain =
    signing == null
      ? undefined
      : createChunkSignatureChain(
          signing.signingKey,
          signing.amzDate,
          signing.scope,
          signing.seedSignature,
          crypto,
        );

  let state = SIZE_LINE;
  let failure: SigV4Error | undefined;
  const line = new Uint8Array(MAX_TRAILER_LINE_BYTES);
  let lineLength = 0;

  let chunkRemaining = 0;
  let chunkSize = 0;
  // Where the current chunk's signature sits in `line`; the line buffer is not reused before the
  // chunk's data is complete and its signature checked.
  let signatureAt = 0;
  let signatureLength = -1;
  let chunkHash = signed ? crypto.createSha256() : undefined;
  let chunkPieces: Uint8Array[] = [];
  let chunkDigest: Uint8Array | undefined;
  let previousChunkSize = -1;
  let declaredBytes = 0;
  let releasedBytes = 0;

  const trailers: Array<[string, string]> = [];
  let trailerSignature: string | undefined;
  let result: ChunkDecoderResult | undefined;

  const fail = (code: SigV4Error["code"], message: string): never => {
    failure = new SigV4Error(code, message);
    state = FAILED;
    throw failure;
  };

  const verifyChunkSignature = (chunkSha256: Uint8Array | undefined): void => {
    const expected = chain!.next(chunkSha256);
    if (!bytesEqualConstantTime(line, signatureAt, signatureLength, expected))
      fail("SignatureDoesNotMatch", "The chunk signature does not match");
  };

  const handleSizeLine = (): void => {
    const end = lineLength - 1; // the CR before LF
    if (end < 0 || line[end] !== CR)
      fail("InvalidRequest", "aws-chunked size line must end in CRLF");
    let size = 0;
    let i = 0;
    for (; i < end && isHexDigit(line[i]!); i++) {
      size = size * 16 + hexValue(line[i]!);
      if (size > maxChunkSizeBytes)
        fail("InvalidRequest", `aws-chunked chunk exceeds ${maxChunkSizeBytes} bytes`);
    }
    if (i === 0) fail("InvalidRequest", "aws-chunked chunk size is not hexadecimal");
    signatureLength = -1;
    if (i < end) {
      const prefixLength = CHUNK_SIGNATURE_PREFIX.length;
      if (!bytesEqualConstantTime(line, i, Math.min(prefixLength, end - i), CHUNK_SIGNATURE_PREFIX))
        fail("InvalidRequest", "aws-chunked size line carries an unknown extension");
      if (!signed)
        fail("InvalidRequest", "Unsigned aws-chunked chunks must not carry a chunk-signature");
      signatureAt = i + prefixLength;
      signatureLength = end - signatureAt;
    }
    if (signed && signatureLength < 0)
      fail("SignatureDoesNotMatch", "A signed aws-chunked chunk has no chunk-signature");
    if (size > 0 && previousChunkSize >= 0 && previousChunkSize < minChunkSizeBytes)
      fail("InvalidRequest", `Only the last chunk may be smaller than ${minChunkSizeBytes} bytes`);
    if (decodedContentLength !== undefined && declaredBytes + size > decodedContentLength)
      fail("IncompleteBody", "aws-chunked payload is longer than x-amz-decoded-content-length");
    declaredBytes += size;
    previousChunkSize = size;
    chunkSize = size;
    lineLength = 0;
    if (size > 0) {
      chunkRemaining = size;
      state = DATA;
      return;
    }
    // The final zero-length chunk: its signature covers the empty string.
    if (signed) verifyChunkSignature(undefined);
    state = TRAILER_LINE;
  };

  const finishChunkData = (): void => {
    if (!signed) return;
    chunkDigest = chunkHash!.digest();
    chunkHash = crypto.createSha256();
    verifyChunkSignature(chunkDigest);
  };

  const handleTrailerLine = (): void => {
    const end = lineLength - 1;
    if (end < 0 || line[end] !== CR) fail("InvalidRequest", "aws-chunked trailer must end in CRLF");
    lineLength = 0;
    if (end === 0) {
      finishTrailers();
      return;
    }
    if (!withTrailers) fail("InvalidRequest", "This aws-chunked mode carries no trailers");
    if (trailerSignature !== undefined)
      fail("InvalidRequest", "x-amz-trailer-signature must be the last trailer");
    let colon = 0;
    while (colon < end && isTokenByte(line[colon]!)) colon++;
    if (colon === 0 || colon === end || line[colon] !== 58)
      fail("InvalidRequest", "aws-chunked trailer is not a name:value line");
    for (let i = colon + 1; i < end; i++) {
      const byte = line[i]!;
      if ((byte < 32 && byte !== 9) || byte >= 127)
        fail("InvalidRequest", "aws-chunked trailer value has a control or non-ASCII byte");
    }
    const name = asciiString(line, 0, colon).toLowerCase();
    const value = asciiString(line, colon + 1, end).trim();
    if (name === TRAILER_SIGNATURE_NAME) {
      if (!signed) fail("InvalidRequest", "An unsigned aws-chunked body has no trailer signature");
      trailerSignature = value;
      return;
    }
    if (!declared.has(name)) fail("InvalidRequest", "A trailer was not declared in x-amz-trailer");
    if (trailers.some(([seen]) => seen === name)) fail("InvalidRequest", "A trailer appears twice");
    trailers.push([name, value]);
  };

  const finishTrailers = (): void => {
    if (mode === "streaming-signed-trailer") {
      if (trailerSignature === undefined)
        fail("SignatureDoesNotMatch", "The aws-chunked trailer has no x-amz-trailer-signature");
      const canonicalHash = toHex(crypto.sha256(utf8(canonicalTrailer(trailers))));
      const expected = signString(
        signing!.signingKey,
        trailerStringToSign(signing!, chain!.current(), canonicalHash),
        crypto,
      );
      if (!timingSafeEqual(trailerSignature!, expected))
        fail("SignatureDoesNotMatch", "The trailer signature does not match");
    }
    for (const name of declared)
      if (!trailers.some(([seen]) => seen === name))
        fail("IncompleteBody", "A trailer declared in x-amz-trailer is missing");
    state = DONE;
  };

  const release = (out: DecodedChunk[]): void => {
    if (!signed || chunkSize === 0) return;
    out.push({ pieces: chunkPieces, byteLength: chunkSize, sha256: chunkDigest! });
    releasedBytes += chunkSize;
    chunkPieces = [];
    chunkDigest = undefined;
  };

  const pushChunks = (bytes: Uint8Array): DecodedChunk[] => {
    if (failure !== undefined) throw failure;
    const out: DecodedChunk[] = [];
    const length = bytes.length;
    let i = 0;
    while (i < length) {
      switch (state) {
        case DATA: {
          const take = Math.min(chunkRemaining, length - i);
          const piece = view(bytes, i, take);
          i += take;
          chunkRemaining -= take;
          checksum?.update(piece);
          if (signed) {
            chunkHash!.update(piece);
            chunkPieces.push(piece);
          } else {
            // No signature to wait for: stream the bytes through at once.
            out.push({ pieces: [piece], byteLength: take });
            releasedBytes += take;
          }
          if (chunkRemaining === 0) {
            finishChunkData();
            state = DATA_CR;
          }
          break;
        }
        case DATA_CR:
          if (bytes[i++] !== CR) fail("InvalidRequest", "aws-chunked chunk data must end in CRLF");
          state = DATA_LF;
          break;
        case DATA_LF:
          if (bytes[i++] !== LF) fail("InvalidRequest", "aws-chunked chunk data must end in CRLF");
          release(out);
          state = SIZE_LINE;
          break;
        case SIZE_LINE:
        case TRAILER_LINE: {
          const limit = state === SIZE_LINE ? MAX_SIZE_LINE_BYTES : MAX_TRAILER_LINE_BYTES;
          const lineFeed = bytes.indexOf(LF, i);
          const stop = lineFeed < 0 ? length : lineFeed;
          if (lineLength + stop - i > limit)
            fail("InvalidRequest", "aws-chunked framing line is too long");
          while (i < stop) line[lineLength++] = bytes[i++]!;
          if (lineFeed >= 0) {
            i++;
            if (state === SIZE_LINE) handleSizeLine();
            else handleTrailerLine();
          }
          break;
        }
        case DONE:
          fail("InvalidRequest", "Data follows the end of the aws-chunked body");
          break;
        default:
          throw failure!;
      }
    }
    return out;
  };

  return {
    pushChunks,
    push(bytes) {
      const chunks = pushChunks(bytes);
      if (chunks.length === 1) return chunks[0]!.pieces.slice();
      const pieces: Uint8Array[] = [];
      for (const chunk of chunks) for (const piece of chunk.pieces) pieces.push(piece);
      return pieces;
    },
    end() {
      if (failure !== undefined) throw failure;
      // Digests can be taken once: a repeated end() returns the first result.
      if (result !== undefined) return result;
      if (state !== DONE)
        fail("IncompleteBody", "The aws-chunked body ended before its final chunk");
      if (decodedContentLength !== undefined && releasedBytes !== decodedContentLength)
        fail("IncompleteBody", "aws-chunked payload is shorter than x-amz-decoded-content-length");
      const done: ChunkDecoderResult = {
        trailers: trailers.slice(),
        decodedLengthBytes: releasedBytes,
      };
      if (checksum !== undefined) {
        const expected = trailers.find(([name]) => name === checksumTrailerName)![1];
        if (!isChecksumValueWellFormed(checksum.algorithm, expected))
          fail(
            "InvalidRequest",
            `Value for x-amz-checksum-${checksum.algorithm} trailing header is invalid`,
          );
        const actual = checksum.digestBase64();
        if (actual !== expected)
          fail(
            "BadDigest",
            `The ${checksum.algorithm} you specified did not match the calculated checksum`,
          );
        done.checksum = { algorithm: checksum.algorithm, expected, actual };
      }
      result = done;
      return done;
    },
    get decodedBytes() {
      return releasedBytes;
    },
  };
};
