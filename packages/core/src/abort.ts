// A one-shot abort signal for the request path. The pipeline and the transports only need
// `aborted`, `reason` and the two listener methods (`AbortSignalLike`); a real AbortSignal costs
// a few microseconds to create and subscribe to, on every request, and is almost never fired.
import type { AbortSignalLike } from "./ports.ts";

/**
 * A signal and its controller in one object: `abort(reason)` fires it once. Use
 * {@link toAbortSignal} where an API demands a real `AbortSignal`.
 * @public
 */
export class LightAbortSignal implements AbortSignalLike {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: Array<() => void> | null = null;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    // As AbortSignal: a listener added after the abort is never called.
    if (this.#aborted) return;
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const listeners = this.#listeners;
    if (listeners == null) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }

  /** Fires once; later calls do nothing. A throwing listener does not stop the others. */
  abort(reason: unknown = new Error("This operation was aborted")): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners == null) return;
    for (const listener of listeners) {
      try {
        listener();
      } catch {
        // One broken listener must not keep the others (the upstream abort) from running.
      }
    }
  }
}
