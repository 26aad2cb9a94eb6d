// Adapters from the aws-chunked state machines to Web streams (TransformStream, a web global) and
// to async iterables (what Node streams are: `Readable` is an AsyncIterable<Buffer>, and
// `Readable.from(generator)` turns the output back into a stream).
import { createChunkDecoder } from "./chunked.ts";
import type { ChunkDecoderOptions, ChunkDecoderResult } from "./chunked.ts";
import type { ChunkEncoder, ChunkTrailers } from "./chunked-encoder.ts";

/** @public */
export interface ChunkDecoderTransformOptions extends ChunkDecoderOptions {
  /** Called once the body has been fully decoded and checked, with its trailers and checksum. */
  onEnd?: (result: ChunkDecoderResult) => void;
}

/**
 * A TransformStream from aws-chunked wire bytes to verified payload bytes. A failure errors the
 * stream with the {@link SigV4Error}.
 * @public
 */
export const chunkDecoderTransform = (
  options: ChunkDecoderTransformOptions,
): TransformStream<Uint8Array, Uint8Array> => {
  const decoder = createChunkDecoder(options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(bytes, controller) {
      for (const piece of decoder.push(bytes)) controller.enqueue(piece);
    },
    flush() {
      const result = decoder.end();
      options.onEnd?.(result);
    },
  });
};

/** @public */
export interface ChunkEncoderStreamOptions {
  /** Trailers to send, asked for at the end of the input (e.g. from the decoder's result). */
  trailers?: () => ChunkTrailers;
}

/**
 * A TransformStream from payload bytes to aws-chunked wire bytes through `encoder`
 * ({@link createChunkEncoder} or {@link createUnsignedChunkEncoder}).
 * @public
 */
export const chunkEncoderTransform = (
  encoder: ChunkEncoder,
  options: ChunkEncoderStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> =>
  new TransformStream<Uint8Array, Uint8Array>({
    transform(bytes, controller) {
      for (const piece of encoder.push(bytes)) controller.enqueue(piece);
    },
    flush(controller) {
      for (const piece of encoder.end(options.trailers?.())) controller.enqueue(piece);
    },
  });

/**
 * Decodes an aws-chunked body: yields verified payload pieces and returns the result (trailers,
 * length, checksum). Throws {@link SigV4Error} on tampering, truncation or malformed framing.
 * @public
 */
export async function* decodeChunked(
  source: AsyncIterable<Uint8Array>,
  options: ChunkDecoderOptions,
): AsyncGenerator<Uint8Array, ChunkDecoderResult, undefined> {
  const decoder = createChunkDecoder(options);
  for await (const bytes of source) yield* decoder.push(bytes);
  return decoder.end();
}

/**
 * Encodes payload bytes as aws-chunked through `encoder`, yielding wire pieces.
 * @public
 */
export async function* encodeChunked(
  source: AsyncIterable<Uint8Array>,
  encoder: ChunkEncoder,
  options: ChunkEncoderStreamOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const bytes of source) yield* encoder.push(bytes);
  yield* encoder.end(options.trailers?.());
}

/** @public */
export interface ResignChunkedOptions {
  /** How to decode and verify the incoming body. */
  decoder: ChunkDecoderOptions;
  /** The outgoing encoder (signed for another key, or unsigned). */
  encoder: ChunkEncoder;
  /**
   * Forward the incoming trailers when the outgoing framing has trailers. Default true. A checksum
   * the encoder computes itself (`checksumAlgorithm`) is never forwarded twice.
   */
  forwardTrailers?: boolean;
}

/**
 * Verifies an incoming aws-chunked body and re-encodes it (typically re-signed for the upstream
 * key), yielding the outgoing wire pieces; returns the incoming result. When chunk boundaries line
 * up the SHA-256 computed for verification is reused for the new signature, so each byte is hashed
 * once. Nothing of a chunk is yielded before that chunk verified; an error stops the stream, so
 * the upstream request must be aborted (its last chunk never comes, and it fails there too).
 * @public
 */
export async function* resignChunked(
  source: AsyncIterable<Uint8Array>,
  options: ResignChunkedOptions,
): AsyncGenerator<Uint8Array, ChunkDecoderResult, undefined> {
  const decoder = createChunkDecoder(options.decoder);
  const { encoder } = options;
  for await (const bytes of source)
    for (const chunk of decoder.pushChunks(bytes)) yield* encoder.pushChunk(chunk);
  const result = decoder.end();
  const forward = options.forwardTrailers !== false && encoder.withTrailers;
  const ownChecksum = encoder.checksumTrailerName;
  yield* encoder.end(
    forward ? result.trailers.filter(([name]) => name !== ownChecksum) : undefined,
  );
  return result;
}
