// undici pulls an iterable request body with `for await` and cannot interrupt a pending `next()`
// ("it's up to the user to somehow abort the async iterable"). When the backend answers early
// (an S3 error before the upload is read) or the exchange is aborted, the writer would otherwise
// wait for the client's next chunk, possibly forever. This wrapper lets the transport cut it loose.
import type { Body } from "@osp/core";
import { RequestBodyError } from "./map-error.ts";

/**
 * Adapts the caller's body for undici: `stop()` rejects a pending `next()` at once. The caller's
 * iterator is deliberately never `return()`ed: it is usually the client's request stream, which
 * its owner must still drain or close (closing it would cut off the early answer to the client).
 */
export class RequestBodySource implements AsyncIterableIterator<Uint8Array> {
  readonly #source: Body;
  #iterator: AsyncIterator<Uint8Array> | null = null;
  #stopped: Error | null = null;
  #rejectPending: ((error: unknown) => void) | null = null;
  #sentBytes = 0;

  constructor(source: Body) {
    this.#source = source;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  /** Bytes handed to the writer so far. */
  get sentBytes(): number {
    return this.#sentBytes;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#stopped != null) return Promise.reject(this.#stopped);
    if (this.#iterator == null) {
      try {
        this.#iterator = this.#source[Symbol.asyncIterator]();
      } catch (error) {
        return Promise.reject(new RequestBodyError(error));
      }
    }
    const iterator = this.#iterator;
    return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      this.#rejectPending = reject;
      iterator.next().then(
        (result) => {
          this.#rejectPending = null;
          if (this.#stopped != null) return reject(this.#stopped);
          if (result.done !== true) this.#sentBytes += result.value.byteLength;
          resolve(result);
        },
        (error: unknown) => {
          this.#rejectPending = null;
          reject(new RequestBodyError(error));
        },
      );
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.stop(new Error("request body released"));
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Stops feeding the writer; a pending `next()` rejects with `reason`. Idempotent. */
  stop(reason: Error): void {
    if (this.#stopped != null) return;
    this.#stopped = reason;
    const reject = this.#rejectPending;
    this.#rejectPending = null;
    reject?.(reason);
  }
}
