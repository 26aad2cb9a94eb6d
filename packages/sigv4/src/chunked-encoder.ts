// aws-chunked encoders: signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) for re-signing a
// stream with another key, and unsigned (STREAMING-UNSIGNED-PAYLOAD-TRAILER). Both re-buffer to a
// fixed chunk size so the encoded length is known in advance (signedChunkedLength).
import { createChunkSignatureChain } from "./chunk-chain.ts";
import { canonicalTrailer, signString, trailerStringToSign, view } from "./chunked.ts";
import type { ChunkSigningContext, DecodedChunk } from "./chunked.ts";
import { checksumBase64Length, checksumHeaderName, createChecksum } from "./checksums.ts";
import type { Checksum, ChecksumAlgorithm } from "./checksums.ts";
import { MIN_CHUNK_SIZE_BYTES } from "./constants.ts";
import { nobleCryptoProvider } from "./crypto.ts";
import { toHex, utf8 } from "./encoding.ts";
import { SigV4Error } from "./errors.ts";
import type { CryptoProvider, IncrementalHash } from "./types.ts";

/** Trailers as `[name, value]` pairs; names are sent lower-cased. @public */
export type ChunkTrailers = ReadonlyArray<readonly [name: string, value: string]>;

/** @public */
export interface ChunkEncoderOptions {
  /**
   * Key, date, scope and seed for the chain. The seed is `SignedRequest.signature` of the upstream
   * request, signed with payload hash `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`.
   */
  signing: ChunkSigningContext;
  /** Payload bytes per chunk (all but the last). Default 65536; at least 8192 (S3's minimum). */
  chunkSizeBytes?: number;
  /** Produce `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` framing with `x-amz-trailer-signature`. */
  trailer?: boolean;
  /** Compute this checksum over the payload and send it as the `x-amz-checksum-*` trailer. */
  checksumAlgorithm?: ChecksumAlgorithm;
  crypto?: CryptoProvider;
}

/** @public */
export interface UnsignedChunkEncoderOptions {
  /** Payload bytes per chunk (all but the last). Default 65536; at least 8192. */
  chunkSizeBytes?: number;
  /** Compute this checksum over the payload and send it as the `x-amz-checksum-*` trailer. */
  checksumAlgorithm?: ChecksumAlgorithm;
  crypto?: CryptoProvider;
}

/** @public */
export interface ChunkEncoder {
  /**
   * Adds payload and returns the wire pieces of every chunk completed. Each chunk is hashed once.
   * Pieces may be views of `data` (kept until their chunk is complete): do not modify it afterwards.
   */
  push(data: Uint8Array): Uint8Array[];
  /**
   * Adds one decoded chunk. When it lines up with this encoder's chunk boundaries its `sha256` is
   * reused instead of hashing the bytes again (the re-signing fast path); else it is `push`ed.
   * The digest must be the SHA-256 of exactly these bytes, as `ChunkDecoder.pushChunks` gives.
   */
  pushChunk(chunk: DecodedChunk): Uint8Array[];
  /**
   * Flushes the last chunk, the final zero-length chunk and the trailers (plus the checksum trailer
   * of `checksumAlgorithm`). Trailers are refused (InvalidArgument) without trailer framing.
   */
  end(trailers?: ChunkTrailers): Uint8Array[];
  /** Whether the framing carries trailers (`-TRAILER` modes). */
  readonly withTrailers: boolean;
  /** The `x-amz-checksum-*` trailer the encoder computes itself (from `checksumAlgorithm`). */
  readonly checksumTrailerName: string | undefined;
  /** Payload bytes accepted so far. */
  readonly payloadBytes: number;
}

const DEFAULT_CHUNK_SIZE_BYTES = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);
const CHUNK_SIGNATURE_LINE_BYTES = ";chunk-signature=".length + 64 + 2;
const TRAILER_SIGNATURE_LINE_BYTES = "x-amz-trailer-signature:".length + 64 + 2;

const chunkSizeOption = (chunkSizeBytes: number | undefined): number => {
  const size = chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
  if (!Number.isSafeInteger(size) || size < MIN_CHUNK_SIZE_BYTES)
    throw new SigV4Error(
      "InvalidArgument",
      `chunkSizeBytes must be an integer >= ${MIN_CHUNK_SIZE_BYTES}`,
    );
  return size;
};

const isTrailerName = (name: string): boolean => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
// Printable ASCII and tab only: anything else could break out of the trailer line.
const isTrailerValue = (value: string): boolean => /^[\t\x20-\x7e]*$/.test(value);

const trailerList = (
  trailers: ChunkTrailers | undefined,
  checksumAlgorithm: ChecksumAlgorithm | undefined,
  checksumValue: string | undefined,
): Array<[string, string]> => {
  const list: Array<[string, string]> = [];
  for (const [name, value] of trailers ?? []) {
    if (!isTrailerName(name) || !isTrailerValue(value))
      throw new SigV4Error("InvalidArgument", "A trailer name or value has forbidden characters");
    list.push([name.toLowerCase(), value.trim()]);
  }
  if (checksumAlgorithm !== undefined) {
    const name = checksumHeaderName(checksumAlgorithm);
    if (list.some(([seen]) => seen === name))
      throw new SigV4Error("InvalidArgument", `${name} is computed by the encoder; do not pass it`);
    list.push([name, checksumValue ?? "=".repeat(checksumBase64Length(checksumAlgorithm))]);
  }
  const names = new Set(list.map(([name]) => name));
  if (names.size !== list.length || names.has("x-amz-trailer-signature"))
    throw new SigV4Error(
      "InvalidArgument",
      "Trailer names must be unique and not x-amz-trailer-signature",
    );
  return list;
};

const trailerLines = (trailers: ReadonlyArray<readonly [string, string]>): string => {
  let out = "";
  for (const [name, value] of trailers) out += `${name}:${value}\r\n`;
  return out;
};

const hexLength = (size: number): number => size.toString(16).length;

interface Framing {
  readonly withTrailers: boolean;
  /** Wire bytes before a data chunk, given its size and SHA-256 (undefined when unsigned). */
  chunkHeader(size: number, sha256: Uint8Array | undefined): Uint8Array;
  /** Final zero-length chunk, trailers and closing CRLF. */
  finish(trailers: ReadonlyArray<readonly [string, string]>): Uint8Array;
}

const createEncoder = (
  framing: Framing,
  signed: boolean,
  chunkSizeBytes: number,
  checksumAlgorithm: ChecksumAlgorithm | undefined,
  crypto: CryptoProvider,
): ChunkEncoder => {
  const checksum: Checksum | undefined =
    checksumAlgorithm === undefined ? undefined : createChecksum(checksumAlgorithm, crypto);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Hash of the pending bytes, fed as they arrive; or the digest of a whole decoded chunk that was
  // parked because it may turn out to be the last one.
  let pendingHash: IncrementalHash | undefined;
  let pendingDigest: Uint8Array | undefined;
  let payloadBytes = 0;
  let ended = false;

  const emit = (
    pieces: Uint8Array[],
    size: number,
    sha256: Uint8Array | undefined,
    out: Uint8Array[],
  ) => {
    out.push(framing.chunkHeader(size, sha256));
    for (const piece of pieces) out.push(piece);
    out.push(CRLF);
  };

  const checkOpen = () => {
    if (ended) throw new SigV4Error("InvalidArgument", "The aws-chunked encoder has already ended");
  };

  const takePendingDigest = (): Uint8Array | undefined => {
    if (!signed) return undefined;
    if (pendingDigest !== undefined) return pendingDigest;
    return pendingHash!.digest();
  };

  const resetPending = () => {
    pending = [];
    pendingBytes = 0;
    pendingHash = undefined;
    pendingDigest = undefined;
  };

  const push = (data: Uint8Array): Uint8Array[] => {
    checkOpen();
    const out: Uint8Array[] = [];
    if (data.length === 0) return out;
    checksum?.update(data);
    payloadBytes += data.length;
    if (pendingDigest !== undefined) {
      // The parked chunk was not the last after all: hash it again as part of a bigger chunk.
      pendingHash = crypto.createSha256();
      for (const piece of pending) pendingHash.update(piece);
      pendingDigest = undefined;
    }
    let offset = 0;
    while (offset < data.length) {
      if (pendingBytes === 0 && data.length - offset >= chunkSizeBytes) {
        const piece = view(data, offset, chunkSizeBytes);
        emit([piece], chunkSizeBytes, signed ? crypto.sha256(piece) : undefined, out);
        offset += chunkSizeBytes;
        continue;
      }
      const take = Math.min(chunkSizeBytes - pendingBytes, data.length - offset);
      const piece = view(data, offset, take);
      offset += take;
      if (signed) (pendingHash ??= crypto.createSha256()).update(piece);
      pending.push(piece);
      pendingBytes += take;
      if (pendingBytes === chunkSizeBytes) {
        emit(pending, chunkSizeBytes, takePendingDigest(), out);
        resetPending();
      }
    }
    return out;
  };

  return {
    withTrailers: framing.withTrailers,
    checksumTrailerName:
      checksumAlgorithm === undefined ? undefined : checksumHeaderName(checksumAlgorithm),
    get payloadBytes() {
      return payloadBytes;
    },
    push,
    pushChunk(chunk) {
      checkOpen();
      if (chunk.byteLength === 0) return [];
      if (
        !signed ||
        chunk.sha256 === undefined ||
        pendingBytes !== 0 ||
        chunk.byteLength > chunkSizeBytes
      ) {
        const out: Uint8Array[] = [];
        for (const piece of chunk.pieces) for (const wire of push(piece)) out.push(wire);
        return out;
      }
      for (const piece of chunk.pieces) checksum?.update(piece);
      payloadBytes += chunk.byteLength;
      const out: Uint8Array[] = [];
      if (chunk.byteLength === chunkSizeBytes) {
        emit(chunk.pieces.slice(), chunkSizeBytes, chunk.sha256, out);
      } else {
        // Shorter than a chunk: fine only if it is the last one, which end() will tell.
        pending = chunk.pieces.slice();
        pendingBytes = chunk.byteLength;
        pendingDigest = chunk.sha256;
      }
      return out;
    },
    end(trailers) {
      checkOpen();
      if (!framing.withTrailers && trailers !== undefined && trailers.length > 0)
        throw new SigV4Error(
          "InvalidArgument",
          "Trailers need the -TRAILER framing (option trailer)",
        );
      // Validate before taking the checksum digest, which can be taken only once.
      const list = trailerList(trailers, checksumAlgorithm, undefined);
      ended = true;
      if (checksum !== undefined) list[list.length - 1]![1] = checksum.digestBase64();
      const out: Uint8Array[] = [];
      if (pendingBytes > 0) emit(pending, pendingBytes, takePendingDigest(), out);
      resetPending();
      out.push(framing.finish(list));
      return out;
    },
  };
};

/**
 * Creates a signed aws-chunked encoder (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, or with `trailer`
 * the `-TRAILER` variant). Input is re-buffered to `chunkSizeBytes`; each chunk is hashed once.
 * Send it with `Content-Encoding: aws-chunked`, `x-amz-decoded-content-length` and
 * `Content-Length: signedChunkedLength(...)` (or `Transfer-Encoding: chunked`).
 * @public
 */
export const createChunkEncoder = (options: ChunkEncoderOptions): ChunkEncoder => {
  const { signing } = options;
  const crypto = options.crypto ?? nobleCryptoProvider;
  const chunkSizeBytes = chunkSizeOption(options.chunkSizeBytes);
  const withTrailers = options.trailer === true;
  if (options.checksumAlgorithm !== undefined && !withTrailers)
    throw new SigV4Error(
      "InvalidArgument",
      "checksumAlgorithm needs trailer framing (option trailer)",
    );
  const chain = createChunkSignatureChain(
    signing.signingKey,
    signing.amzDate,
    signing.scope,
    signing.seedSignature,
    crypto,
  );
  let headerPrefix: Uint8Array = new Uint8Array(0);
  let headerPrefixSize = -1;
  const framing: Framing = {
    withTrailers,
    chunkHeader(size, sha256) {
      // "<hex size>;chunk-signature=<64 hex>\r\n" written as bytes; all chunks but the last have
      // the same size, so their "<hex size>;chunk-signature=" prefix is built once.
      if (size !== headerPrefixSize) {
        headerPrefix = utf8(`${size.toString(16)};chunk-signature=`);
        headerPrefixSize = size;
      }
      const header = new Uint8Array(headerPrefix.length + 66);
      header.set(headerPrefix);
      header.set(chain.next(sha256), headerPrefix.length);
      header[header.length - 2] = 13;
      header[header.length - 1] = 10;
      return header;
    },
    finish(trailers) {
      chain.next(undefined);
      const finalSignature = chain.current();
      if (!withTrailers) return utf8(`0;chunk-signature=${finalSignature}\r\n\r\n`);
      const canonicalHash = toHex(crypto.sha256(utf8(canonicalTrailer(trailers))));
      const trailerSignature = signString(
        signing.signingKey,
        trailerStringToSign(signing, finalSignature, canonicalHash),
        crypto,
      );
      return utf8(
        `0;chunk-signature=${finalSignature}\r\n${trailerLines(trailers)}x-amz-trailer-signature:${trailerSignature}\r\n\r\n`,
      );
    },
  };
  return createEncoder(framing, true, chunkSizeBytes, options.checksumAlgorithm, crypto);
};

/**
 * Creates an unsigned aws-chunked encoder (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`): `<hex>\r\n<data>\r\n`
 * chunks, then `0\r\n`, the trailers (typically the `checksumAlgorithm` one) and `\r\n`.
 * @public
 */
export const createUnsignedChunkEncoder = (
  options: UnsignedChunkEncoderOptions = {},
): ChunkEncoder => {
  const framing: Framing = {
    withTrailers: true,
    chunkHeader: (size) => utf8(`${size.toString(16)}\r\n`),
    finish: (trailers) => utf8(`0\r\n${trailerLines(trailers)}\r\n`),
  };
  return createEncoder(
    framing,
    false,
    chunkSizeOption(options.chunkSizeBytes),
    options.checksumAlgorithm,
    options.crypto ?? nobleCryptoProvider,
  );
};

/** @public */
export interface ChunkedLengthOptions {
  /** As given to the encoder. Default 65536. */
  chunkSizeBytes?: number;
  /** Trailers to be sent (their values' lengths count; names are lower-cased). */
  trailers?: ChunkTrailers;
  /** The encoder's `checksumAlgorithm`: adds its trailer (fixed-length value). */
  checksumAlgorithm?: ChecksumAlgorithm;
}

const dataChunksLength = (
  decodedLengthBytes: number,
  chunkSizeBytes: number,
  perChunk: number,
): number => {
  if (!Number.isSafeInteger(decodedLengthBytes) || decodedLengthBytes < 0)
    throw new SigV4Error(
      "InvalidArgument",
      "decodedLengthBytes must be a non-negative safe integer",
    );
  const fullChunks = Math.floor(decodedLengthBytes / chunkSizeBytes);
  const lastChunk = decodedLengthBytes - fullChunks * chunkSizeBytes;
  let length = fullChunks * (hexLength(chunkSizeBytes) + perChunk + chunkSizeBytes + 2);
  if (lastChunk > 0) length += hexLength(lastChunk) + perChunk + lastChunk + 2;
  return length;
};

const trailerBytes = (options: ChunkedLengthOptions): number => {
  const list = trailerList(options.trailers, options.checksumAlgorithm, undefined);
  return utf8(trailerLines(list)).length;
};

/**
 * Exact `Content-Length` of a signed aws-chunked body of `decodedLengthBytes` payload bytes, as
 * {@link createChunkEncoder} frames it. Trailer framing is assumed when `trailers` or
 * `checksumAlgorithm` is given (or `trailer: true`).
 * @public
 */
export const signedChunkedLength = (
  decodedLengthBytes: number,
  options: ChunkedLengthOptions & { trailer?: boolean } = {},
): number => {
  const chunkSizeBytes = chunkSizeOption(options.chunkSizeBytes);
  const withTrailers =
    options.trailer === true ||
    options.trailers !== undefined ||
    options.checksumAlgorithm !== undefined;
  const data = dataChunksLength(decodedLengthBytes, chunkSizeBytes, CHUNK_SIGNATURE_LINE_BYTES);
  const finalChunk = 1 + CHUNK_SIGNATURE_LINE_BYTES;
  if (!withTrailers) return data + finalChunk + 2;
  return data + finalChunk + trailerBytes(options) + TRAILER_SIGNATURE_LINE_BYTES + 2;
};

/**
 * Exact `Content-Length` of an unsigned aws-chunked body (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) of
 * `decodedLengthBytes` payload bytes, as {@link createUnsignedChunkEncoder} frames it.
 * @public
 */
export const unsignedChunkedLength = (
  decodedLengthBytes: number,
  options: ChunkedLengthOptions = {},
): number => {
  const chunkSizeBytes = chunkSizeOption(options.chunkSizeBytes);
  const data = dataChunksLength(decodedLengthBytes, chunkSizeBytes, 2);
  return data + 3 + trailerBytes(options) + 2;
};
