// An independent, minimal aws-chunked codec for the tests (node:crypto only, no @osp/sigv4): it
// encodes client uploads and checks what the proxy sends to the backend, chunk signature by
// chunk signature, so the proxy's own decoder/encoder is never its own judge.

import { createHash, createHmac } from "node:crypto";
import { crc32 } from "node:zlib";

const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac("sha256", key).update(data).digest();
const sha256Hex = (data: Buffer | string): string =>
  createHash("sha256").update(data).digest("hex");

/** SigV4 signing key for a secret and a scope. */
export const signingKey = (secret: string, date: string, region: string, service = "s3"): Buffer =>
  hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");

export interface ChunkChain {
  readonly key: Buffer;
  readonly amzDate: string;
  /** `date/region/s3/aws4_request`. */
  readonly scope: string;
  readonly seed: string;
}

const chunkSignature = (chain: ChunkChain, previous: string, data: Buffer): string =>
  hmac(
    chain.key,
    [
      "AWS4-HMAC-SHA256-PAYLOAD",
      chain.amzDate,
      chain.scope,
      previous,
      EMPTY_SHA256,
      sha256Hex(data),
    ].join("\n"),
  ).toString("hex");

const trailerSignature = (
  chain: ChunkChain,
  previous: string,
  trailers: ReadonlyArray<readonly [string, string]>,
): string =>
  hmac(
    chain.key,
    [
      "AWS4-HMAC-SHA256-TRAILER",
      chain.amzDate,
      chain.scope,
      previous,
      sha256Hex(trailers.map(([name, value]) => `${name}:${value}\n`).join("")),
    ].join("\n"),
  ).toString("hex");

/** Base64 checksum values, as S3 sends them. */
export const checksumBase64 = (algorithm: string, data: Buffer): string => {
  if (algorithm === "crc32") {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(crc32(data) >>> 0);
    return value.toString("base64");
  }
  if (algorithm === "sha256" || algorithm === "sha1")
    return createHash(algorithm).update(data).digest("base64");
  throw new Error(`test codec does not compute ${algorithm}`);
};

const split = (data: Buffer, chunkBytes: number): Buffer[] => {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkBytes)
    chunks.push(data.subarray(offset, offset + chunkBytes));
  return chunks;
};

/** Encodes `data` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] the way SDKs do. */
export const encodeSignedChunks = (
  data: Buffer,
  chain: ChunkChain,
  options: {
    chunkBytes?: number;
    trailers?: ReadonlyArray<readonly [string, string]>;
    tamper?: (frames: Buffer[]) => void;
  } = {},
): Buffer => {
  const frames: Buffer[] = [];
  let previous = chain.seed;
  for (const chunk of split(data, options.chunkBytes ?? 64 * 1024)) {
    previous = chunkSignature(chain, previous, chunk);
    frames.push(
      Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    );
  }
  previous = chunkSignature(chain, previous, Buffer.alloc(0));
  if (options.trailers == null) {
    frames.push(Buffer.from(`0;chunk-signature=${previous}\r\n\r\n`));
  } else {
    const lines = options.trailers.map(([name, value]) => `${name}:${value}\r\n`).join("");
    frames.push(
      Buffer.from(
        `0;chunk-signature=${previous}\r\n${lines}x-amz-trailer-signature:${trailerSignature(chain, previous, options.trailers)}\r\n\r\n`,
      ),
    );
  }
  options.tamper?.(frames);
  return Buffer.concat(frames);
};

/** Encodes `data` as STREAMING-UNSIGNED-PAYLOAD-TRAILER, as @aws-sdk/client-s3 does by default. */
export const encodeUnsignedChunks = (
  data: Buffer,
  trailers: ReadonlyArray<readonly [string, string]>,
  chunkBytes = 64 * 1024,
): Buffer => {
  const frames: Buffer[] = [];
  for (const chunk of split(data, chunkBytes))
    frames.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
  frames.push(
    Buffer.from(`0\r\n${trailers.map(([name, value]) => `${name}:${value}\r\n`).join("")}\r\n`),
  );
  return Buffer.concat(frames);
};

/** What a decoded aws-chunked body held. */
export interface DecodedChunks {
  readonly data: Buffer;
  readonly chunkSizes: number[];
  readonly trailers: Array<[string, string]>;
}

const readLine = (body: Buffer, offset: number): { line: string; next: number } => {
  const end = body.indexOf("\r\n", offset);
  if (end === -1) throw new Error("aws-chunked: missing CRLF");
  return { line: body.subarray(offset, end).toString("latin1"), next: end + 2 };
};

/**
 * Decodes an aws-chunked body. With `chain`, checks every chunk signature and the trailer
 * signature (throws on the first mismatch); checks S3's 8 KiB minimum for all but the last chunk.
 */
export const decodeChunks = (body: Buffer, chain?: ChunkChain): DecodedChunks => {
  const parts: Buffer[] = [];
  const chunkSizes: number[] = [];
  const trailers: Array<[string, string]> = [];
  let offset = 0;
  let previous = chain?.seed ?? "";
  for (;;) {
    const { line, next } = readLine(body, offset);
    const [sizeText, extension] = line.split(";", 2);
    const size = Number.parseInt(sizeText!, 16);
    if (!Number.isFinite(size) || !/^[0-9a-fA-F]+$/.test(sizeText!))
      throw new Error(`aws-chunked: bad size line ${JSON.stringify(line)}`);
    const data = body.subarray(next, next + size);
    if (data.length !== size) throw new Error("aws-chunked: truncated chunk");
    if (chain != null) {
      const claimed = /^chunk-signature=([0-9a-f]{64})$/.exec(extension ?? "")?.[1];
      const expected = chunkSignature(chain, previous, data);
      if (claimed !== expected)
        throw new Error(`aws-chunked: chunk ${chunkSizes.length} signature mismatch`);
      previous = expected;
    } else if (extension != null) {
      throw new Error("aws-chunked: unexpected chunk extension in an unsigned stream");
    }
    chunkSizes.push(size);
    if (size === 0) {
      offset = next;
      break;
    }
    parts.push(data);
    if (body.subarray(next + size, next + size + 2).toString() !== "\r\n")
      throw new Error("aws-chunked: missing CRLF after data");
    offset = next + size + 2;
  }
  // Trailers until the empty line.
  let trailerSignatureValue: string | undefined;
  for (;;) {
    const { line, next } = readLine(body, offset);
    offset = next;
    if (line === "") break;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "x-amz-trailer-signature") trailerSignatureValue = value;
    else trailers.push([name, value]);
  }
  if (offset !== body.length) throw new Error("aws-chunked: bytes after the end");
  if (chain != null && trailers.length > 0) {
    if (trailerSignatureValue !== trailerSignature(chain, previous, trailers))
      throw new Error("aws-chunked: trailer signature mismatch");
  }
  chunkSizes.slice(0, -2).forEach((size, index) => {
    if (size < 8192) throw new Error(`aws-chunked: chunk ${index} has ${size} bytes (< 8 KiB)`);
  });
  const data = Buffer.concat(parts);
  for (const [name, value] of trailers) {
    const algorithm = name.startsWith("x-amz-checksum-")
      ? name.slice("x-amz-checksum-".length)
      : undefined;
    if (algorithm != null && checksumBase64(algorithm, data) !== value)
      throw new Error(`aws-chunked: ${name} mismatch`);
  }
  return { data, chunkSizes, trailers };
};
