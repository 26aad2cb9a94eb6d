// One request/response exchange as an undici dispatch handler. undici calls these methods from
// its socket callbacks; none of them may throw.
//
// It implements undici's original handler methods (onConnect, onHeaders, onData, onComplete,
// onError), which the client calls directly. A handler written against the newer controller API
// is wrapped by undici in two more objects per request, and its response headers are parsed into
// an object nobody here reads: about a tenth of the transport's cost for a small GET. The flow
// control those wrappers provide (pause, resume, abort once) is the few lines below.
import type { OspError, UpstreamRequest, UpstreamResponse } from "@osp/core";
import { fromUndiciResponseHeaders } from "./headers.ts";
import { CallerAbortError, ConsumerCancelledError, toOspError } from "./map-error.ts";
import type { RequestBodySource } from "./request-body.ts";
import { ResponseBody, type FlowController } from "./response-body.ts";

type State = "waiting" | "streaming" | "done" | "failed";

/** Reason given to the request body wrapper once the exchange no longer needs it. */
const EXCHANGE_FINISHED = new Error("upstream exchange finished");

/**
 * Drives one exchange: resolves with the response head, then feeds the `ResponseBody`. Aborts
 * on the caller's signal in every phase, including while the request waits for a pooled socket.
 * It is also the body's flow controller: `pause()` makes the next `onData` ask undici to stop
 * reading the socket, `resume()` restarts it.
 */
export class Exchange implements FlowController {
  readonly #request: UpstreamRequest;
  readonly #requestBody: RequestBodySource | null;
  readonly #highWaterMarkBytes: number;
  readonly #resolve: (response: UpstreamResponse) => void;
  readonly #reject: (error: OspError) => void;
  /** undici's abort for this request; set once a connection took it (`onConnect`). */
  #abortRequest: ((reason: Error) => void) | null = null;
  /** undici's resume of a paused response (`onHeaders`). */
  #resumeResponse: (() => void) | null = null;
  #paused = false;
  #aborted = false;
  #state: State = "waiting";
  #body: ResponseBody | null = null;
  #abortReason: CallerAbortError | null = null;
  readonly #onAbort = (): void => this.#callerAborted();

  constructor(
    request: UpstreamRequest,
    requestBody: RequestBodySource | null,
    highWaterMarkBytes: number,
    resolve: (response: UpstreamResponse) => void,
    reject: (error: OspError) => void,
  ) {
    this.#request = request;
    this.#requestBody = requestBody;
    this.#highWaterMarkBytes = highWaterMarkBytes;
    this.#resolve = resolve;
    this.#reject = reject;
    request.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  // ---- FlowController (used by the ResponseBody)

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resumeResponse?.();
  }

  /** Aborts the request once; later reasons are ignored. Before `onConnect` it is a no-op. */
  abort(reason: Error): void {
    const abortRequest = this.#abortRequest;
    if (this.#aborted || abortRequest == null) return;
    this.#aborted = true;
    abortRequest(reason);
  }

  // ---- undici handler

  onConnect(abort: (reason?: Error) => void): void {
    this.#abortRequest = abort;
    if (this.#abortReason != null) this.abort(this.#abortReason);
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Array<Uint8Array | string> | null,
    resume: () => void,
  ): boolean {
    // 1xx informational answers (103 Early Hints) are not the response.
    if (statusCode < 200 || this.#state !== "waiting") return true;
    this.#resumeResponse = resume;
    this.#state = "streaming";
    const method = this.#request.method;
    const bodyless = method === "HEAD" || statusCode === 204 || statusCode === 304;
    const body = bodyless
      ? null
      : new ResponseBody(this, this.#highWaterMarkBytes, () =>
          this.abort(new ConsumerCancelledError()),
        );
    this.#body = body;
    this.#resolve({ status: statusCode, headers: fromUndiciResponseHeaders(rawHeaders), body });
    return !this.#paused;
  }

  onData(chunk: Uint8Array): boolean {
    this.#body?.push(chunk);
    return !this.#paused;
  }

  onComplete(): void {
    if (this.#state !== "streaming") return;
    this.#state = "done";
    this.#finish();
    this.#body?.end();
  }

  onError(error: Error): void {
    const previous = this.#state;
    if (previous === "done" || previous === "failed") return;
    this.#state = "failed";
    this.#finish();
    const mapped = toOspError(
      this.#abortReason ?? error,
      this.#request.origin,
      previous === "waiting" ? "before-response" : "response-body",
    );
    if (previous === "waiting") this.#reject(mapped);
    else this.#body?.fail(mapped);
  }

  #callerAborted(): void {
    if (this.#abortReason != null || this.#state === "done" || this.#state === "failed") return;
    const reason = new CallerAbortError(this.#request.signal.reason);
    this.#abortReason = reason;
    if (this.#abortRequest != null) {
      this.abort(reason);
    } else if (this.#state === "waiting") {
      // Still queued for a socket: answer the caller now; onConnect aborts it later.
      this.onError(reason);
    }
  }

  /** Releases the request body writer and the signal listener. */
  #finish(): void {
    this.#request.signal.removeEventListener("abort", this.#onAbort);
    this.#requestBody?.stop(EXCHANGE_FINISHED);
  }
}
