// One request/response exchange as an undici dispatch handler (controller API). undici calls
// these methods from its socket callbacks; none of them may throw.
import type { OspError, UpstreamRequest, UpstreamResponse } from "@osp/core";
import type { Dispatcher } from "undici";
import { fromUndiciResponseHeaders } from "./headers.ts";
import { CallerAbortError, ConsumerCancelledError, toOspError } from "./map-error.ts";
import type { RequestBodySource } from "./request-body.ts";
import { ResponseBody } from "./response-body.ts";

type State = "waiting" | "streaming" | "done" | "failed";

/** Reason given to the request body wrapper once the exchange no longer needs it. */
const EXCHANGE_FINISHED = new Error("upstream exchange finished");

/**
 * Drives one exchange: resolves with the response head, then feeds the `ResponseBody`. Aborts
 * on the caller's signal in every phase, including while the request waits for a pooled socket.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly #request: UpstreamRequest;
  readonly #requestBody: RequestBodySource | null;
  readonly #highWaterMarkBytes: number;
  readonly #resolve: (response: UpstreamResponse) => void;
  readonly #reject: (error: OspError) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #state: State = "waiting";
  #body: ResponseBody | null = null;
  #abortReason: CallerAbortError | null = null;
  readonly #onAbort = (): void => this.#abort();

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

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason != null) controller.abort(this.#abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    // 1xx informational answers (103 Early Hints) are not the response.
    if (statusCode < 200 || this.#state !== "waiting") return;
    this.#state = "streaming";
    const method = this.#request.method;
    const bodyless = method === "HEAD" || statusCode === 204 || statusCode === 304;
    const body = bodyless
      ? null
      : new ResponseBody(controller, this.#highWaterMarkBytes, () =>
          controller.abort(new ConsumerCancelledError()),
        );
    this.#body = body;
    this.#resolve({
      status: statusCode,
      headers: fromUndiciResponseHeaders(
        controller.rawHeaders as Array<Uint8Array | string> | null,
      ),
      body,
    });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    this.#body?.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#state !== "streaming") return;
    this.#state = "done";
    this.#finish();
    this.#body?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
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

  #abort(): void {
    if (this.#abortReason != null || this.#state === "done" || this.#state === "failed") return;
    const reason = new CallerAbortError(this.#request.signal.reason);
    this.#abortReason = reason;
    const controller = this.#controller;
    if (controller != null) {
      controller.abort(reason);
    } else if (this.#state === "waiting") {
      // Still queued for a socket: answer the caller now; onRequestStart aborts it later.
      this.onResponseError(undefined, reason);
    }
  }

  /** Releases the request body writer and the signal listener. */
  #finish(): void {
    this.#request.signal.removeEventListener("abort", this.#onAbort);
    this.#requestBody?.stop(EXCHANGE_FINISHED);
  }
}
