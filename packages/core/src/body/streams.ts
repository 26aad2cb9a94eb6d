// Helpers over streamed bodies (`AsyncIterable<Uint8Array>`): counting, holding back the tail
// until a check passes, and closing an iterable nobody will read.

import type { Body } from "../ports.ts";

/** Calls `onBytes` with the size of every piece as it passes. @internal */
export async function* countBytes(
  source: Body,
  onBytes: (byteLength: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    onBytes(piece.byteLength);
    yield piece;
  }
}

/**
 * Passes `source` through but keeps its last non-empty piece until the source has ended and
 * `check` has passed. When `check` throws, the held bytes are never released: a receiver that was
 * promised a `Content-Length` (or a final aws-chunked frame) never sees a complete body, so a
 * tampered or truncated upload can never be committed.
 * @internal
 */
export async function* holdBackUntil(
  source: AsyncIterable<Uint8Array>,
  check: () => void | Promise<void>,
): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined;
  for await (const piece of source) {
    if (piece.byteLength === 0) continue;
    if (held != null) yield held;
    held = piece;
  }
  await check();
  if (held != null) yield held;
}

/** An iterable of one piece. @internal */
export async function* singlePiece(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Reads `source` to its end (for tiny bodies that must be checked before anything is sent). @internal */
export const drain = async (source: AsyncIterable<Uint8Array>): Promise<void> => {
  for await (const _piece of source) {
    // Consumed only for the checks inside the iterable.
  }
};

/** Releases a body nobody will read (closes its iterator). Never throws. @internal */
export const discardBody = async (body: Body | null): Promise<void> => {
  if (body == null) return;
  try {
    await body[Symbol.asyncIterator]().return?.();
  } catch {
    // Already failed or closed: nothing to release.
  }
};
