// Shared helpers for the aws-chunked tests. The wire builders here are written independently of
// src/ (node:crypto HMAC, plain string framing) so that the encoder and decoder are checked
// against a second implementation, not against themselves.
import { createHash, createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  ChunkDecoderOptions,
  ChunkDecoderResult,
  ChunkSigningContext,
} from "../src/chunked.ts";
import { createChunkDecoder } from "../src/chunked.ts";
import { SigV4Error } from "../src/errors.ts";

/** `OSP_SIGV4_VECTORS`, else `<repo>/../shared/sigv4-vectors`. A missing folder fails the tests. */
export const vectorsDir = (): string => {
  const dir =
    process.env.OSP_SIGV4_VECTORS ??
    join(fileURLToPath(new URL(".", import.meta.url)), "../../../../shared/sigv4-vectors");
  if (!existsSync(dir))
    throw new Error(`SigV4 vectors not found at ${dir} (set OSP_SIGV4_VECTORS to their folder)`);
  return dir;
};

export interface DocsChunk {
  index: number;
  size: number;
  size_hex: string;
  data_sha256: string;
  string_to_sign: string;
  signature: string;
  chunk_header_line: string;
}

export interface DocsChunkedExample {
  request: { headers: Array<[string, string]> };
  authorization: string;
  decoded_content_length: number;
  encoded_content_length?: number;
  encoded_content_length_computed?: number;
  canonical_request: string;
  canonical_request_sha256: string;
  string_to_sign: string;
  seed_signature: string;
  chunks: DocsChunk[];
  trailer?: {
    headers: Array<[string, string]>;
    canonical_trailer: string;
    canonical_trailer_sha256: string;
    string_to_sign: string;
    signature: string;
    wire_lines: string;
  };
}

export interface DocsExamples {
  common: {
    credentials: { secret_access_key: string };
    region: string;
    service: string;
    amz_date: string;
    credential_scope: string;
    signing_key_hex: string;
  };
  chunked_upload: DocsChunkedExample;
  chunked_upload_with_trailer: DocsChunkedExample;
  unsigned_payload_trailer: { x_amz_content_sha256: string; published_vector: null };
}

export const loadDocsExamples = (): DocsExamples =>
  JSON.parse(readFileSync(join(vectorsDir(), "s3-docs-examples.json"), "utf8")) as DocsExamples;

/** Latin-1 both ways, so that any bytes survive a trip through a string (for text edits). */
export const bytesOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));
export const textOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString("latin1");

export const concat = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
};

/** Deterministic, non-repeating-ish payload bytes. */
export const payload = (length: number, salt = 0): Uint8Array => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + 7 + salt * 13 + (i >>> 8)) % 251;
  return out;
};

const sha256Hex = (data: Uint8Array | string): string =>
  createHash("sha256").update(data).digest("hex");
const hmacHex = (key: Uint8Array, text: string): string =>
  createHmac("sha256", key).update(text).digest("hex");

/** A test signing context with its own key, so no secret of the vectors is reused by accident. */
export const testContext = (seedSignature = "a".repeat(64)): ChunkSigningContext => ({
  signingKey: createHash("sha256").update("chunked-test-key").digest(),
  amzDate: "20260102T030405Z",
  scope: { date: "20260102", region: "eu-west-3", service: "s3" },
  seedSignature,
});

export interface BuiltStream {
  wire: Uint8Array;
  /** Signature of each chunk, the final zero-length one included. */
  signatures: string[];
  trailerSignature?: string;
}

/** Signed aws-chunked framing of the given chunks (any sizes), optionally with a signed trailer. */
export const buildSignedStream = (
  context: ChunkSigningContext,
  chunks: ReadonlyArray<Uint8Array>,
  trailers?: ReadonlyArray<readonly [string, string]>,
): BuiltStream => {
  const scope = `${context.scope.date}/${context.scope.region}/${context.scope.service}/aws4_request`;
  const emptyHash = sha256Hex("");
  let previous = context.seedSignature;
  const pieces: Uint8Array[] = [];
  const signatures: string[] = [];
  for (const chunk of [...chunks, new Uint8Array(0)]) {
    const stringToSign = [
      "AWS4-HMAC-SHA256-PAYLOAD",
      context.amzDate,
      scope,
      previous,
      emptyHash,
      sha256Hex(chunk),
    ].join("\n");
    previous = hmacHex(context.signingKey, stringToSign);
    signatures.push(previous);
    pieces.push(bytesOf(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`));
    if (chunk.length > 0) pieces.push(chunk, bytesOf("\r\n"));
  }
  if (trailers === undefined) {
    pieces.push(bytesOf("\r\n"));
    return { wire: concat(pieces), signatures };
  }
  const canonical = trailers.map(([name, value]) => `${name}:${value}\n`).join("");
  const trailerSignature = hmacHex(
    context.signingKey,
    ["AWS4-HMAC-SHA256-TRAILER", context.amzDate, scope, previous, sha256Hex(canonical)].join("\n"),
  );
  const lines = trailers.map(([name, value]) => `${name}:${value}\r\n`).join("");
  pieces.push(bytesOf(`${lines}x-amz-trailer-signature:${trailerSignature}\r\n\r\n`));
  return { wire: concat(pieces), signatures, trailerSignature };
};

/** Unsigned (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) framing of the given chunks and trailers. */
export const buildUnsignedStream = (
  chunks: ReadonlyArray<Uint8Array>,
  trailers: ReadonlyArray<readonly [string, string]> = [],
): Uint8Array => {
  const pieces: Uint8Array[] = [];
  for (const chunk of chunks)
    pieces.push(bytesOf(`${chunk.length.toString(16)}\r\n`), chunk, bytesOf("\r\n"));
  pieces.push(
    bytesOf(`0\r\n${trailers.map(([name, value]) => `${name}:${value}\r\n`).join("")}\r\n`),
  );
  return concat(pieces);
};

export type DecodeOutcome =
  | { ok: true; data: Uint8Array; result: ChunkDecoderResult }
  | { ok: false; code: string; releasedBytes: number };

/** Decodes `wire` pushed in pieces cut at `splits` (sorted offsets); never lets a non-SigV4Error pass. */
export const decodeWire = (
  options: ChunkDecoderOptions,
  wire: Uint8Array,
  splits: ReadonlyArray<number> = [],
): DecodeOutcome => {
  const decoder = createChunkDecoder(options);
  const out: Uint8Array[] = [];
  let released = 0;
  try {
    let start = 0;
    for (const cut of [...splits, wire.length]) {
      for (const piece of decoder.push(wire.subarray(start, cut))) {
        out.push(piece);
        released += piece.length;
      }
      start = cut;
    }
    const result = decoder.end();
    return { ok: true, data: concat(out), result };
  } catch (error) {
    if (!SigV4Error.is(error)) throw error;
    return { ok: false, code: error.code, releasedBytes: released };
  }
};

/** Every byte pushed alone. */
export const everyByte = (length: number): number[] =>
  Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);

/**
 * Byte equality that stays fast on megabytes (deep `toEqual` walks typed arrays element by
 * element); the message names the first differing offset.
 */
export const expectSameBytes = (actual: Uint8Array, expected: Uint8Array): void => {
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return;
  let offset = 0;
  while (offset < Math.min(actual.length, expected.length) && actual[offset] === expected[offset])
    offset++;
  throw new Error(
    `bytes differ at offset ${offset} (lengths ${actual.length} and ${expected.length})`,
  );
};

export interface SdkCapture {
  checksumAlgorithmOption: string | null;
  headers: Record<string, string>;
  chunkSizesBytes: number[];
  trailerLines: string;
  wireLengthBytes: number;
  wireSha256: string;
}

export interface SdkCaptureFile {
  sdk: string;
  payload: { lengthBytes: number; streamPiecesBytes: number[] };
  captures: SdkCapture[];
}

/** Our own STREAMING-UNSIGNED-PAYLOAD-TRAILER vectors, captured from @aws-sdk/client-s3. */
export const loadSdkCaptures = (): SdkCaptureFile =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL("./chunked-sdk-capture.json", import.meta.url)), "utf8"),
  ) as SdkCaptureFile;

/** Rebuilds a captured wire body from its chunk sizes and trailer lines. */
export const rebuildSdkWire = (capture: SdkCapture, data: Uint8Array): Uint8Array => {
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const size of capture.chunkSizesBytes) {
    pieces.push(
      bytesOf(`${size.toString(16)}\r\n`),
      data.subarray(offset, offset + size),
      bytesOf("\r\n"),
    );
    offset += size;
  }
  pieces.push(bytesOf(`0\r\n${capture.trailerLines}\r\n`));
  return concat(pieces);
};

/** XORs one byte in place (typed-array element access is `number | undefined` under strict TS). */
export const flipBits = (bytes: Uint8Array, index: number, mask: number): void => {
  bytes[index] = bytes[index]! ^ mask;
};
