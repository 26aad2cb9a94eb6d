// A response body as a single-consumer AsyncIterable fed by undici's dispatch handler. It holds
// at most about `highWaterMarkBytes` (plus one socket read) before pausing the connection, so
// memory stays independent of the object size whatever the consumer's speed.
import type { SyncReadableIterator } from "@osp/core";

/** The part of undici's `DispatchController` the body needs. */
export interface FlowController {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
  readonly paused: boolean;
}

type Waiter = {
  resolve: (result: IteratorResult<Uint8Array>) => void;
  reject: (error: unknown) => void;
};

const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined };

/**
 * The streamed body of one upstream response. Iterate it once; stopping early (`break`, or
 * `return()`) aborts the exchange. A failure of the exchange makes the next `next()` reject, so a
 * truncated body never ends like a complete one.
 */
export class ResponseBody implements AsyncIterableIterator<Uint8Array>, SyncReadableIterator {
  readonly #controller: FlowController;
  readonly #highWaterMarkBytes: number;
  readonly #onCancel: () => void;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queuedBytes = 0;
  #ended = false;
  #error: unknown = undefined;
  #failed = false;
  #cancelled = false;
  #iterated = false;
  #waiter: Waiter | null = null;

  constructor(controller: FlowController, highWaterMarkBytes: number, onCancel: () => void) {
    this.#controller = controller;
    this.#highWaterMarkBytes = highWaterMarkBytes;
    this.#onCancel = onCancel;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    if (this.#iterated) throw new TypeError("A response body can be iterated only once");
    this.#iterated = true;
    return this;
  }

  /** Bytes received and not yet taken by the consumer. */
  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  /** Called by the handler for every body chunk. */
  push(chunk: Uint8Array): void {
    if (this.#cancelled || this.#failed || chunk.byteLength === 0) return;
    const waiter = this.#waiter;
    if (waiter != null) {
      this.#waiter = null;
      waiter.resolve({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (this.#queuedBytes >= this.#highWaterMarkBytes && !this.#controller.paused) {
      this.#controller.pause();
    }
  }

  /** Called by the handler when the response completed. */
  end(): void {
    if (this.#failed || this.#cancelled) return;
    this.#ended = true;
    const waiter = this.#waiter;
    if (waiter != null && this.#head >= this.#queue.length) {
      this.#waiter = null;
      waiter.resolve(DONE);
    }
  }

  /** Called by the handler when the exchange failed after the response head. */
  fail(error: unknown): void {
    if (this.#ended || this.#failed || this.#cancelled) return;
    this.#failed = true;
    this.#error = error;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    const waiter = this.#waiter;
    if (waiter != null) {
      this.#waiter = null;
      waiter.reject(error);
    }
  }

  /** What the body holds now, without a promise: a piece, the end, or `undefined` (wait). */
  readSync(): IteratorResult<Uint8Array> | undefined {
    // A pending next() is owed the next piece; reading past it would reorder the body.
    if (this.#waiter != null) return undefined;
    if (this.#head < this.#queue.length) {
      const chunk = this.#queue[this.#head]!;
      this.#head += 1;
      this.#queuedBytes -= chunk.byteLength;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      this.#maybeResume();
      return { done: false, value: chunk };
    }
    if (this.#failed) throw this.#error;
    if (this.#ended || this.#cancelled) return DONE;
    return undefined;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#waiter != null) {
      return Promise.reject(new TypeError("next() called while a previous next() is pending"));
    }
    let ready: IteratorResult<Uint8Array> | undefined;
    try {
      ready = this.readSync();
    } catch (error) {
      return Promise.reject(error);
    }
    if (ready !== undefined) return Promise.resolve(ready);
    const pending = new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
    // Resuming may deliver data synchronously into the waiter just registered.
    this.#maybeResume();
    return pending;
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended && !this.#failed && !this.#cancelled) {
      this.#cancelled = true;
      this.#queue = [];
      this.#head = 0;
      this.#queuedBytes = 0;
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter?.resolve(DONE);
      this.#onCancel();
    }
    return Promise.resolve(DONE);
  }

  #maybeResume(): void {
    // Resume below half the mark so the socket refills while the consumer drains the rest.
    if (this.#controller.paused && this.#queuedBytes < this.#highWaterMarkBytes / 2) {
      this.#controller.resume();
    }
  }
}
