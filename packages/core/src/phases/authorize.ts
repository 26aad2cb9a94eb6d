// Phase 3, authorize: the `validator` callback through a cache keyed by access key, bucket and
// the request facts `validatorCacheKey` names (default: method and operation), for the bucket's
// `ttl`. Denials are cached like grants (a denied client cannot hammer the validator); errors
// never are. Without a validator every authenticated request is allowed.

import type { AbortSignalLike, CacheStatus, CredsCache } from "@osp/creds-cache";
import type { BucketConfig, ProxyConfig, ValidatorRequest } from "../config.ts";
import { callbackFailure, OspError } from "../errors.ts";
import { isPromiseLike, type MaybePromise } from "../maybe.ts";
import { reportCacheStatus, type SafeObserver } from "../observer.ts";

/** What the authorizer needs. @public */
export interface AuthorizerOptions {
  readonly config: ProxyConfig;
  readonly cache: CredsCache<boolean>;
  readonly observer: SafeObserver;
}

/** One authorization question. @public */
export interface AuthorizationQuestion {
  readonly requestId: string;
  readonly accessKeyId: string;
  readonly bucket: BucketConfig;
  readonly request: ValidatorRequest;
  readonly signal?: AbortSignalLike;
}

/** The authorize phase. Cached answers come back synchronously. @public */
export interface Authorizer {
  /** Whether the validator allows the request (cached). Throws `InternalError` when it fails. */
  isAllowed(question: AuthorizationQuestion): MaybePromise<boolean>;
  /** As `isAllowed`, but a denial throws `AccessDenied`. */
  authorize(question: AuthorizationQuestion): MaybePromise<void>;
}

/** The cache key of a decision: only the facts the validator is declared to depend on. @public */
export const authorizationCacheKey = (
  mode: ProxyConfig["validatorCacheKey"],
  accessKeyId: string,
  request: Pick<ValidatorRequest, "bucket" | "method" | "operation" | "key">,
): string => {
  // Each part with its length in front: parts stay apart whatever characters they hold.
  let cacheKey = `${accessKeyId.length}:${accessKeyId}${request.bucket.length}:${request.bucket}`;
  if (mode !== "bucket") {
    cacheKey += `${request.method.length}:${request.method}${request.operation.length}:${request.operation}`;
  }
  if (mode === "object") {
    const key = request.key ?? "";
    cacheKey += `${key.length}:${key}`;
  }
  return cacheKey;
};

/** Creates the authorize phase. @public */
export const createAuthorizer = (options: AuthorizerOptions): Authorizer => {
  const { config, observer } = options;

  /** The cache event, then the audit event: once per question, whatever the answer. */
  const decided = (
    question: AuthorizationQuestion,
    status: CacheStatus,
    allowed: boolean,
  ): boolean => {
    reportCacheStatus(observer, "authorization", status);
    const { request } = question;
    observer.authorization({
      requestId: question.requestId,
      accessKeyId: question.accessKeyId,
      bucket: question.bucket.name,
      operation: request.operation,
      method: request.method,
      allowed,
      cached: status.result !== "miss",
      ...(request.remoteAddress != null && { remoteAddress: request.remoteAddress }),
    });
    return allowed;
  };

  const isAllowed = (question: AuthorizationQuestion): MaybePromise<boolean> => {
    const validator = config.validator;
    // Documented: no validator configured = every authenticated request is allowed.
    if (validator == null) return true;
    const { accessKeyId, bucket, request } = question;
    const status: CacheStatus = {};
    // read(): a cached decision continues synchronously, without a promise.
    const decision = options.cache.read(
      authorizationCacheKey(config.validatorCacheKey, accessKeyId, request),
      async () => {
        const answer: unknown = await validator(accessKeyId, bucket.name, request);
        if (typeof answer !== "boolean") {
          throw new OspError("InternalError", {
            source: "proxy",
            message: "validator returned a non-boolean",
          });
        }
        return answer;
      },
      { ttlMs: bucket.ttlSeconds * 1000, status, signal: question.signal },
    );
    if (!isPromiseLike(decision)) return decided(question, status, decision);
    return decision.then(
      (allowed) => decided(question, status, allowed),
      (error: unknown) => {
        reportCacheStatus(observer, "authorization", status);
        throw callbackFailure(error, "validator failed");
      },
    );
  };

  const denyUnless = (allowed: boolean): void => {
    if (!allowed) throw new OspError("AccessDenied");
  };

  return {
    isAllowed,
    authorize: (question) => {
      const allowed = isAllowed(question);
      return isPromiseLike(allowed) ? allowed.then(denyUnless) : denyUnless(allowed);
    },
  };
};
