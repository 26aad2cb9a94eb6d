// Parsing and lifetime of an IAM token answer. IAM sends `expiration` (absolute, Unix seconds)
// and `expires_in` (relative seconds); the absolute one is preferred because it does not depend
// on how long the answer took to arrive.
import { malformedAnswer } from "./map-error.ts";
import type { OspError } from "@osp/core";

/** A token with the moment the cache must stop serving it. */
export interface IssuedToken {
  readonly accessToken: string;
  /** Epoch ms after which the token is not served any more (refresh margin already applied). */
  readonly cacheUntilMs: number;
}

/** Lifetime bounds applied to whatever IAM announces. */
export interface LifetimePolicy {
  /** Stop serving a token this long before IAM's `expiration`. */
  readonly refreshMarginMs: number;
  /** Shortest time a token is cached, even when its expiration is already inside the margin. */
  readonly minCacheMs: number;
  /** Longest time a token is cached, whatever expiration IAM announces. */
  readonly maxCacheMs: number;
}

const isPositiveNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value > 0;

/**
 * Validates an IAM answer and computes how long to cache the token:
 * `expiration × 1000 − refreshMarginMs`, clamped to `[now + minCacheMs, now + maxCacheMs]`. The
 * lower clamp matters when IAM's clock runs ahead of ours or a token is short-lived: without it
 * every request would exchange the key again (a stampede on IAM); with it the token is reused for
 * a few seconds and a backend 401 still forces a refresh.
 */
export const parseTokenAnswer = (
  bodyText: string,
  nowMs: number,
  policy: LifetimePolicy,
): IssuedToken | OspError => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return malformedAnswer("not JSON");
  }
  if (typeof parsed !== "object" || parsed == null || Array.isArray(parsed)) {
    return malformedAnswer("not a JSON object");
  }
  const {
    access_token: accessToken,
    expiration,
    expires_in: expiresInSeconds,
  } = parsed as Record<string, unknown>;
  if (typeof accessToken !== "string" || accessToken === "") {
    return malformedAnswer("access_token missing or not a string");
  }
  let expiresAtMs: number;
  if (isPositiveNumber(expiration)) expiresAtMs = expiration * 1000;
  else if (isPositiveNumber(expiresInSeconds)) expiresAtMs = nowMs + expiresInSeconds * 1000;
  else return malformedAnswer("expiration and expires_in missing or not positive numbers");
  const cacheUntilMs = Math.min(
    Math.max(expiresAtMs - policy.refreshMarginMs, nowMs + policy.minCacheMs),
    nowMs + policy.maxCacheMs,
  );
  return { accessToken, cacheUntilMs };
};
