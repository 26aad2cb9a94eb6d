// Observer events: the proxy's only output besides responses. Apps turn them into logs and
// metrics. No event ever carries a secret, a signature or a token.
import type { CacheStatus } from "@osp/creds-cache";

/** Pipeline phases as reported to the observer. @public */
export type PhaseName =
  | "parse"
  | "authenticate"
  | "authorize"
  | "credentials"
  | "sign"
  | "upstream";

/** @public */
export interface PhaseEvent {
  requestId: string;
  phase: PhaseName;
  durationMs: number;
  ok: boolean;
}

/** @public */
export interface AuthorizationEvent {
  requestId: string;
  accessKeyId: string;
  bucket: string;
  operation: string;
  method: string;
  allowed: boolean;
  /** The decision came from the cache (or a load another request started). */
  cached: boolean;
  remoteAddress?: string;
}

/** @public */
export interface CacheEvent {
  cache: "secrets" | "authorization" | "credentials" | "iam";
  result: "hit" | "negative-hit" | "miss" | "inflight" | "stale";
  refreshStarted?: boolean;
}

/** @public */
export interface UpstreamErrorEvent {
  requestId: string;
  code: string;
  origin: string;
}

/** @public */
export interface RequestEvent {
  requestId: string;
  method: string;
  operation: string;
  bucket?: string;
  status: number;
  errorCode?: string;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  accessKeyId?: string;
  remoteAddress?: string;
}

/**
 * Receives what the proxy does. Every callback is optional; an exception thrown by a callback is
 * swallowed, so a broken logger never breaks a request.
 * @public
 */
export interface ProxyObserver {
  phase?(event: PhaseEvent): void;
  authorization?(event: AuthorizationEvent): void;
  cache?(event: CacheEvent): void;
  upstreamError?(event: UpstreamErrorEvent): void;
  /** Once per request, after the response body finished or failed. */
  request?(event: RequestEvent): void;
  /** Configuration or operational warnings (e.g. `skipSignatureValidation`); never secrets. */
  warn?(message: string, fields?: Record<string, unknown>): void;
}

/** Reports what one cache lookup did (nothing when it did not get as far as the cache). @internal */
export const reportCacheStatus = (
  observer: SafeObserver,
  cache: CacheEvent["cache"],
  status: CacheStatus,
): void => {
  if (status.result == null) return;
  observer.cache({
    cache,
    result: status.result,
    ...(status.refreshStarted != null && { refreshStarted: status.refreshStarted }),
  });
};

/** An observer whose every callback exists and never throws. @internal */
export type SafeObserver = Required<ProxyObserver>;

/** Wraps `observer` so that its callbacks are always safe to call. @internal */
export const safeObserver = (observer: ProxyObserver | undefined): SafeObserver => {
  // Fixed arity (no rest parameters and `apply`): `phase` alone runs six times per request.
  const call =
    <E>(name: Exclude<keyof ProxyObserver, "warn">) =>
    (event: E): void => {
      const callback = observer?.[name] as ((value: E) => void) | undefined;
      if (callback == null) return;
      try {
        callback.call(observer, event);
      } catch {
        // Observers are for logs and metrics: their failures must not change the response.
      }
    };
  return {
    phase: call("phase"),
    authorization: call("authorization"),
    cache: call("cache"),
    upstreamError: call("upstreamError"),
    request: call("request"),
    // Rare: passes on exactly the arguments it was given.
    warn: (...args: Parameters<SafeObserver["warn"]>): void => {
      const callback = observer?.warn;
      if (callback == null) return;
      try {
        callback.apply(observer, args);
      } catch {
        // As above.
      }
    },
  };
};
