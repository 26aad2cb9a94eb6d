// Graceful shutdown: stop accepting, report not-ready, let in-flight requests finish until a
// deadline, then cut whatever is left. Also the process signal wiring (SIGTERM, SIGINT).
import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import type { ConnectionTracker } from "./listeners.ts";
import { stopListening } from "./listeners.ts";

/** Counts requests in progress and tells when there are none. */
export class InFlightRequests {
  #count = 0;
  #waiters: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  increment(): void {
    this.#count += 1;
  }

  decrement(): void {
    this.#count = Math.max(0, this.#count - 1);
    if (this.#count === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once no request is in progress. */
  whenIdle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Resolves after `ms`, or at once when `ms` is 0; the timer does not keep the process alive. */
const delay = (ms: number): Promise<"deadline"> =>
  new Promise((resolve) => {
    setTimeout(() => resolve("deadline"), ms).unref();
  });

/** What {@link drainListeners} needs. */
export interface DrainTarget {
  servers: ReadonlyArray<HttpServer | Http2SecureServer>;
  tracker: ConnectionTracker;
  inFlight: InFlightRequests;
  timeoutMs: number;
}

/**
 * Stops accepting, waits for in-flight requests until `timeoutMs`, then destroys every
 * connection left. Resolves `"drained"` or `"deadline"`.
 */
export const drainListeners = async ({
  servers,
  tracker,
  inFlight,
  timeoutMs,
}: DrainTarget): Promise<"drained" | "deadline"> => {
  const closed = Promise.all(servers.map((server) => stopListening(server)));
  tracker.drain();
  const outcome = await Promise.race([
    inFlight.whenIdle().then(() => "drained" as const),
    delay(timeoutMs),
  ]);
  // What is left is idle (drained) or out of time (deadline): either way it goes now.
  tracker.destroyAll();
  // A TLS handshake left half-way is not tracked; do not let it hold up the close.
  await Promise.race([closed, delay(1_000)]);
  return outcome;
};

type Closer = () => Promise<void>;

const closers = new Set<Closer>();
let signalsInstalled = false;
let shuttingDown = false;

const onSignal = (signal: NodeJS.Signals): void => {
  if (shuttingDown) {
    // A second signal: the operator does not want to wait for the drain.
    process.exit(signal === "SIGINT" ? 130 : 143);
  }
  shuttingDown = true;
  const pending = [...closers].map((close) => close().catch(() => undefined));
  void Promise.all(pending).then(() => process.exit(0));
};

/**
 * Registers a server's `close` to run on SIGTERM/SIGINT, after which the process exits (a second
 * signal exits at once). Returns the function that unregisters it.
 */
export const closeOnSignals = (close: Closer): (() => void) => {
  closers.add(close);
  if (!signalsInstalled) {
    signalsInstalled = true;
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return () => {
    closers.delete(close);
    if (closers.size === 0 && signalsInstalled && !shuttingDown) {
      signalsInstalled = false;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  };
};
