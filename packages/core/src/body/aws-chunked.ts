// aws-chunked bodies from clients: decoded and verified chunk by chunk (signatures, trailer
// checksum) with @osp/sigv4's decoder, then either released as a plain body (tail held back
// until the whole stream verified) or re-signed chunk by chunk for the backend's key.

import {
  createChunkDecoder,
  createChunkEncoder,
  type ChunkDecoderOptions,
  type ChunkDecoderResult,
  type ChunkSigningContext,
  type CryptoProvider,
} from "@osp/sigv4";
import { holdBackUntil } from "./streams.ts";

/**
 * Decodes an aws-chunked body into its payload. Only verified bytes are released, and the last
 * piece only once the stream ended complete, with valid signatures and a matching checksum.
 * @public
 */
export const decodeToPlain = (
  source: AsyncIterable<Uint8Array>,
  options: ChunkDecoderOptions,
  onEnd?: (result: ChunkDecoderResult) => void,
): AsyncGenerator<Uint8Array> => {
  const decoder = createChunkDecoder(options);
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for await (const bytes of source) yield* decoder.push(bytes);
  }
  return holdBackUntil(pieces(), () => {
    const result = decoder.end();
    onEnd?.(result);
  });
};

/** Options of {@link reencodeSigned}. @public */
export interface ReencodeOptions {
  readonly decoder: ChunkDecoderOptions;
  /** The upstream request's signing context (seed = its signature). */
  readonly signing: ChunkSigningContext;
  readonly chunkSizeBytes: number;
  /** Send `-TRAILER` framing, forwarding these verified trailer names (checksums). */
  readonly forwardTrailers?: ReadonlyArray<string>;
  readonly crypto: CryptoProvider;
}

/**
 * Verifies a client aws-chunked body and re-signs it chunk by chunk for the backend key. The
 * final zero-length chunk (and trailers) is produced only after the whole incoming stream
 * verified, so the backend never completes a tampered or truncated upload.
 * @public
 */
export async function* reencodeSigned(
  source: AsyncIterable<Uint8Array>,
  options: ReencodeOptions,
): AsyncGenerator<Uint8Array> {
  const decoder = createChunkDecoder(options.decoder);
  const forward = options.forwardTrailers;
  const encoder = createChunkEncoder({
    signing: options.signing,
    chunkSizeBytes: options.chunkSizeBytes,
    trailer: forward != null,
    crypto: options.crypto,
  });
  for await (const bytes of source) {
    for (const chunk of decoder.pushChunks(bytes)) yield* encoder.pushChunk(chunk);
  }
  const result = decoder.end();
  const trailers =
    forward == null ? undefined : result.trailers.filter(([name]) => forward.includes(name));
  yield* encoder.end(trailers);
}
