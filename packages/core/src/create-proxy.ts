// The pipeline: parse → authenticate → authorize → resolve backend → rewrite → sign → forward, in
// code order. Authorization can never run before authentication and nothing is forwarded (and no
// `100 Continue` sent) before both; the order is code, not configuration.

import { createCredsCache, type CacheStats } from "@osp/creds-cache";
import { createSigningKeyCache, nobleCryptoProvider, type CryptoProvider } from "@osp/sigv4";
import { planBody, type BodyPlan } from "./body/plan.ts";
import { countBytes, discardBody } from "./body/streams.ts";
import {
  ConfigError,
  parseProxyConfig,
  type BucketConfig,
  type ProxyConfig,
  type ProxyConfigInput,
  type ValidatorRequest,
} from "./config.ts";
import type { BackendCredentials, ClientIdentity, CopySource, RequestContext } from "./context.ts";
import { OspError } from "./errors.ts";
import { getHeader, queryRecord } from "./http.ts";
import { LightAbortSignal } from "./abort.ts";
import { renderListBuckets } from "./list-buckets.ts";
import { andThen, isPromiseLike, type MaybePromise } from "./maybe.ts";
import { safeObserver, type PhaseName, type ProxyObserver, type RequestEvent } from "./observer.ts";
import { createAuthenticator, toOspError } from "./phases/authenticate.ts";
import { createAuthorizer } from "./phases/authorize.ts";
import {
  clientResponseHeaders,
  sendUpstream,
  streamResponseBody,
  type SendContext,
} from "./phases/forward.ts";
import { assertUnambiguousRequest, parseRequest, type ParsedRequest } from "./phases/parse.ts";
import { createBackendResolver } from "./phases/resolve-backend.ts";
import {
  forwardHeaders,
  hoistedHeaders,
  isPresignParam,
  parseCopySource,
  rewriteCopySource,
  upstreamTarget,
} from "./phases/rewrite.ts";
import { createSigner, type SignInput } from "./phases/sign.ts";
import type {
  AbortSignalLike,
  BearerTokenProvider,
  Clock,
  ProxyRequest,
  ProxyResponse,
  Transport,
  UpstreamRequest,
  UpstreamResponse,
} from "./ports.ts";
import { errorResponse, xmlResponse, type ResponseContext } from "./respond.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What the proxy needs from the outside world. @public */
export interface ProxyDependencies {
  transport: Transport;
  /** Required when any bucket may resolve to an API key. */
  bearerTokens?: BearerTokenProvider;
  /** Default `Date.now`. */
  now?: Clock;
  /** Default `nobleCryptoProvider`; servers inject `nodeCryptoProvider` from `@osp/sigv4/node`. */
  crypto?: CryptoProvider;
  observer?: ProxyObserver;
  /** Default: 16 upper-case hex characters from `crypto.getRandomValues`. */
  createRequestId?: () => string;
  /** Payload bytes per chunk of re-signed aws-chunked bodies; default 65 536 (min 8 192). */
  chunkSizeBytes?: number;
}

/** A signed upstream request with what a bearer-token replay needs. */
interface PreparedExchange {
  readonly plan: BodyPlan;
  readonly signInput: SignInput;
  readonly upstreamRequest: UpstreamRequest;
}

/** Counts requests that passed authorization (opt-in, like the predecessor, plus a reset). @public */
export interface RequestCounter {
  enable(): void;
  disable(): void;
  get(): number;
  reset(): void;
  readonly enabled: boolean;
}

/** A proxy instance. @public */
export interface Proxy {
  /** Handles one request. Never rejects: proxy errors become S3 XML (no body for HEAD). */
  handle(request: ProxyRequest): Promise<ProxyResponse>;
  readonly requestCounter: RequestCounter;
  /** The normalised configuration. */
  readonly config: ProxyConfig;
  cacheStats(): { secrets: CacheStats; authorization: CacheStats; credentials: CacheStats };
}

// One forced token refresh per API key in this window: a genuine backend 403 (a denied object)
// must not turn every request into an IAM round trip.
const FORCED_REFRESH_INTERVAL_MS = 30_000;
const MAX_REFRESH_MEMORY = 1_000;

// Random bytes are drawn in batches: one getRandomValues call per 512 request ids.
const ID_BYTES = 8;
const idPool = new Uint8Array(ID_BYTES * 512);
let idOffset = idPool.length;
const HEX = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, "0").toUpperCase(),
);

/** 16 upper-case hex characters from the web crypto RNG. @internal */
export const randomRequestId = (): string => {
  if (idOffset >= idPool.length) {
    crypto.getRandomValues(idPool);
    idOffset = 0;
  }
  let id = "";
  for (let index = idOffset; index < idOffset + ID_BYTES; index += 1) id += HEX[idPool[index]!]!;
  idOffset += ID_BYTES;
  return id;
};

/** The counter and its increment, which stays private to the pipeline. */
const createRequestCounter = (): { counter: RequestCounter; increment: () => void } => {
  let enabled = false;
  let count = 0;
  const counter: RequestCounter = {
    enable: () => void (enabled = true),
    disable: () => void (enabled = false),
    get: () => count,
    reset: () => void (count = 0),
    get enabled() {
      return enabled;
    },
  };
  return { counter, increment: () => void (enabled && count++) };
};

const isExpectContinue = (headers: ProxyRequest["headers"]): boolean =>
  getHeader(headers, "expect")?.trim().toLowerCase() === "100-continue";

/**
 * Creates a proxy from a configuration and its ports. Throws {@link ConfigError} for an invalid
 * configuration (every problem named with its bucket and field).
 * @public
 */
export const createProxy = (
  input: ProxyConfigInput | ProxyConfig,
  deps: ProxyDependencies,
): Proxy => {
  const observer = safeObserver(deps.observer);
  const config = isParsedConfig(input)
    ? input
    : parseProxyConfig(input, { onWarning: (message) => observer.warn(message) });
  if (deps.transport == null || typeof deps.transport.send !== "function") {
    throw new ConfigError(["deps.transport: a Transport with send() is required"]);
  }
  const apiKeyBuckets = [...config.buckets.values()].filter(
    (bucket) => bucket.credentials.kind === "api-key",
  );
  if (deps.bearerTokens == null && apiKeyBuckets.length > 0) {
    throw new ConfigError(
      apiKeyBuckets.map(
        (bucket) =>
          `cosMap["${bucket.name}"].apiKey: needs a bearer token provider (deps.bearerTokens)`,
      ),
    );
  }
  if (config.skipSignatureValidation) {
    observer.warn(
      "skipSignatureValidation is true: client signatures are NOT verified (development only)",
    );
  }
  if (config.validator == null) {
    observer.warn("no validator configured: every authenticated request is allowed");
  }

  const now = deps.now ?? Date.now;
  const crypto = deps.crypto ?? nobleCryptoProvider;
  const createRequestId = deps.createRequestId ?? randomRequestId;
  // One signing-key cache per side: sigv4 remembers each cache's last key, and a cache shared by
  // the client's (verify) and the backend's (sign) secrets would alternate and miss it every time.
  const clientKeyCache = createSigningKeyCache({ crypto });
  const backendKeyCache = createSigningKeyCache({ crypto });
  const secretsCache = createCredsCache<string | null>({
    ttlMs: config.secretsCacheTtlMs,
    negativeTtlMs: config.negativeCacheTtlMs,
    now,
  });
  const authorizationCache = createCredsCache<boolean>({ ttlMs: 0, now });
  const credentialsCache = createCredsCache<BackendCredentials>({ ttlMs: 0, now });
  const authenticator = createAuthenticator({
    config,
    now,
    crypto,
    signingKeyCache: clientKeyCache,
    secretsCache,
    observer,
  });
  const authorizer = createAuthorizer({ config, cache: authorizationCache, observer });
  const resolver = createBackendResolver({ config, cache: credentialsCache, observer });
  const signer = createSigner({
    crypto,
    signingKeyCache: backendKeyCache,
    now,
    verifyTls: config.verifyTls,
    ...(deps.bearerTokens != null && { bearerTokens: deps.bearerTokens }),
  });
  const { counter: requestCounter, increment: countRequest } = createRequestCounter();
  const forcedRefreshAt = new Map<string, number>();
  // Creation dates of listed buckets: the proxy does not know the backend's, so a fixed value.
  const listedBucketDateMs = 0;

  const phaseDone = (requestId: string, phase: PhaseName, startedAt: number, ok: boolean) =>
    observer.phase({ requestId, phase, durationMs: Math.max(0, now() - startedAt), ok });

  /**
   * Runs a phase and reports its duration. A synchronous result is passed through as it is (no
   * promise, no extra microtask): most phases finish without waiting on a cache hit.
   */
  const timed = <T>(
    requestId: string,
    phase: PhaseName,
    run: () => T | PromiseLike<T>,
  ): T | Promise<T> => {
    const startedAt = now();
    let result: T | PromiseLike<T>;
    try {
      result = run();
    } catch (error) {
      phaseDone(requestId, phase, startedAt, false);
      throw error;
    }
    if (!isPromiseLike(result)) {
      phaseDone(requestId, phase, startedAt, true);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        phaseDone(requestId, phase, startedAt, true);
        return value;
      },
      (error: unknown) => {
        phaseDone(requestId, phase, startedAt, false);
        throw error;
      },
    );
  };

  /** {@link timed} for a phase that never waits. */
  const timedSync = <T>(requestId: string, phase: PhaseName, run: () => T): T => {
    const startedAt = now();
    let result: T;
    try {
      result = run();
    } catch (error) {
      phaseDone(requestId, phase, startedAt, false);
      throw error;
    }
    phaseDone(requestId, phase, startedAt, true);
    return result;
  };

  const validatorRequest = (
    context: RequestContext,
    bucket: string,
    key: string | undefined,
  ): ValidatorRequest => {
    const query = queryRecord(context.query.filter((param) => !isPresignParam(param.name)));
    const request: Mutable<ValidatorRequest> = {
      method: context.raw.method,
      bucket,
      operation: context.operation,
      query,
    };
    // Optional fields are absent, never undefined; set one by one (no spread objects).
    if (key != null) request.key = key;
    if (context.request.remoteAddress != null)
      request.remoteAddress = context.request.remoteAddress;
    return request;
  };

  const listBuckets = async (
    context: RequestContext,
    identity: ClientIdentity,
    responseContext: ResponseContext,
  ) => {
    if (context.raw.method !== "GET" && context.raw.method !== "HEAD")
      throw new OspError("MethodNotAllowed");
    const buckets = [...config.buckets.values()];
    const allowed = await timed(context.requestId, "authorize", () =>
      Promise.all(
        buckets.map((bucket) =>
          authorizer.isAllowed({
            requestId: context.requestId,
            accessKeyId: identity.accessKeyId,
            bucket,
            request: {
              ...validatorRequest(context, bucket.name, undefined),
              operation: "ListBuckets",
            },
            ...(context.request.signal != null && { signal: context.request.signal }),
          }),
        ),
      ),
    );
    countRequest();
    const visible = buckets
      .filter((_, index) => allowed[index])
      .map((bucket) => ({ name: bucket.name, creationDateMs: listedBucketDateMs }));
    return xmlResponse(200, renderListBuckets(identity.accessKeyId, visible), responseContext);
  };

  /** CopyObject/UploadPartCopy: the source must be a served bucket on the same backend, readable by the caller. */
  const authorizeCopySource = async (
    context: RequestContext,
    identity: ClientIdentity,
    bucket: BucketConfig,
    value: string | undefined,
  ): Promise<CopySource | undefined> => {
    // The parse phase's one copy source: the header, or a presigned URL's query parameter (which
    // becomes a header upstream).
    if (value == null) return undefined;
    const source = parseCopySource(value);
    const sourceBucket = resolver.bucket(source.bucket);
    if (
      sourceBucket.host !== bucket.host ||
      sourceBucket.port !== bucket.port ||
      sourceBucket.tls !== bucket.tls
    ) {
      throw new OspError("InvalidRequest", {
        message: "x-amz-copy-source names a bucket on another backend.",
      });
    }
    await authorizer.authorize({
      requestId: context.requestId,
      accessKeyId: identity.accessKeyId,
      bucket: sourceBucket,
      request: {
        method: "GET",
        bucket: sourceBucket.name,
        key: source.key,
        operation: "GetObject",
        query: source.versionId != null ? { versionId: source.versionId } : {},
        ...(context.request.remoteAddress != null && {
          remoteAddress: context.request.remoteAddress,
        }),
      },
      ...(context.request.signal != null && { signal: context.request.signal }),
    });
    return { bucket: sourceBucket, key: source.key };
  };

  const shouldForceRefresh = (apiKey: string): boolean => {
    const last = forcedRefreshAt.get(apiKey);
    const at = now();
    if (last != null && at - last < FORCED_REFRESH_INTERVAL_MS) return false;
    if (forcedRefreshAt.size >= MAX_REFRESH_MEMORY) forcedRefreshAt.clear();
    forcedRefreshAt.set(apiKey, at);
    return true;
  };

  // Each step below continues synchronously when the previous one had its answer at hand (static
  // keys, cached decisions and credentials): a small GET waits only on the backend.

  /** Phases 1 and 2: parse, authenticate. */
  const pipeline = (
    request: ProxyRequest,
    requestId: string,
    startedAt: number,
    upstreamAbort: LightAbortSignal,
    track: (context: RequestContext) => void,
  ): MaybePromise<ProxyResponse> => {
    const parsed = timedSync(requestId, "parse", () => parseRequest(request, config));
    const context: RequestContext = {
      requestId,
      request,
      startedAt,
      raw: parsed.raw,
      query: parsed.query,
      target: parsed.target,
      operation: parsed.operation,
      bytesIn: 0,
      bytesOut: 0,
      upstreamAbort,
    };
    track(context);
    return andThen(
      timed(requestId, "authenticate", () =>
        authenticator.authenticate(parsed.raw, request.signal),
      ),
      (identity) => authorizeRequest(context, parsed, identity),
    );
  };

  /** Phases 3 and 4: authorize (ListBuckets answers here), resolve the backend's credentials. */
  const authorizeRequest = (
    context: RequestContext,
    parsed: ParsedRequest,
    identity: ClientIdentity,
  ): MaybePromise<ProxyResponse> => {
    const { requestId, request } = context;
    context.identity = identity;
    // The operation name, the copy source and the hoisted headers follow the parse phase's reading
    // of the authentication form; a verified signature must agree with it.
    if (identity.verified && identity.presigned !== parsed.presigned) {
      throw new OspError("InvalidRequest", {
        message: "The request's authentication form is ambiguous.",
      });
    }
    assertUnambiguousRequest(parsed);

    const target = parsed.target;
    if (target.kind === "service") {
      return listBuckets(context, identity, {
        requestId,
        method: parsed.raw.method,
        serverName: config.serverName,
        resource: request.path,
      });
    }
    // Unknown buckets are refused before the validator runs: attacker-chosen names never reach it
    // or its cache.
    const authorizedBucket = timed(requestId, "authorize", () => {
      const found = resolver.bucket(target.bucket);
      // Nothing to ask (no validator, no copy source): answered at once, without building the
      // validator's request.
      if (config.validator == null && parsed.copySource == null) return found;
      return authorizeBucket(context, parsed, identity, found, target.key);
    });
    return andThen(authorizedBucket, (bucket) => {
      context.bucket = bucket;
      countRequest();
      return andThen(
        timed(requestId, "credentials", () =>
          resolver.credentials(identity.accessKeyId, bucket, request.signal),
        ),
        (backend) => signRequestFor(context, parsed, identity, bucket, backend, target.rawKeyPath),
      );
    });
  };

  /** The validator's decision on the bucket, then the copy source's checks. */
  const authorizeBucket = (
    context: RequestContext,
    parsed: ParsedRequest,
    identity: ClientIdentity,
    found: BucketConfig,
    key: string | undefined,
  ): MaybePromise<BucketConfig> => {
    const decision = authorizer.authorize({
      requestId: context.requestId,
      accessKeyId: identity.accessKeyId,
      bucket: found,
      request: validatorRequest(context, found.name, key),
      signal: context.request.signal,
    });
    return andThen(decision, () => {
      if (parsed.copySource == null) return found;
      return authorizeCopySource(context, identity, found, parsed.copySource).then((copySource) => {
        if (copySource != null) context.copySource = copySource;
        return found;
      });
    });
  };

  /** Phases 5 and 6: rewrite the request for the backend, sign it. */
  const signRequestFor = (
    context: RequestContext,
    parsed: ParsedRequest,
    identity: ClientIdentity,
    bucket: BucketConfig,
    backend: BackendCredentials,
    rawKeyPath: string,
  ): MaybePromise<ProxyResponse> => {
    const { requestId, request, upstreamAbort } = context;
    context.backend = backend;

    // Only now may the client send its body.
    if (isExpectContinue(request.headers)) request.sendContinue?.();

    const clientBody =
      request.body == null
        ? null
        : countBytes(request.body, (byteLength) => (context.bytesIn += byteLength));
    const upstreamTargetValue = upstreamTarget(bucket, rawKeyPath, parsed.query);
    let headers = forwardHeaders(parsed.raw.headers, identity.signedHeaders);
    // The parse phase's reading of the form, as for the operation name and the copy source.
    if (parsed.presigned) headers = [...headers, ...hoistedHeaders(parsed.query, headers)];
    if (context.copySource != null) {
      const copySource = context.copySource;
      headers = headers.map(([name, value]) =>
        name === "x-amz-copy-source" && copySource.bucket.backendBucket !== copySource.bucket.name
          ? [name, rewriteCopySource(parseCopySource(value), copySource.bucket)]
          : [name, value],
      );
    }
    // Exactly the authorized copy source goes upstream, or none: an unsigned header listed in
    // `Connection` (possible only without signature checks) must not turn a CopyObject into a
    // PutObject with the body.
    let forwardedCopySources = 0;
    for (const [name] of headers) if (name === "x-amz-copy-source") forwardedCopySources++;
    if (forwardedCopySources !== (context.copySource != null ? 1 : 0)) {
      throw new OspError("InvalidRequest", {
        message: "x-amz-copy-source cannot be forwarded as it was authorized.",
      });
    }

    const prepared = timed(requestId, "sign", () => {
      const plan = planBody({
        method: parsed.raw.method,
        body: clientBody,
        headers: parsed.raw.headers,
        payloadHash: identity.payloadHash,
        payloadMode: identity.payloadMode,
        ...(identity.chunkSigning != null && { chunkSigning: identity.chunkSigning }),
        backend: backend.kind,
        uploadEncodings: bucket.uploadEncodings,
        crypto,
        ...(deps.chunkSizeBytes != null && { chunkSizeBytes: deps.chunkSizeBytes }),
      });
      const signInput: SignInput = {
        method: parsed.raw.method,
        bucket,
        backend,
        target: upstreamTargetValue,
        headers,
        plan,
        signal: sharesClientSignal(request) ? request.signal : upstreamAbort,
      };
      return andThen(signer.sign(signInput), (signed): PreparedExchange => {
        // Failures of the proxy's own checks while the body streams are recorded and abort upstream.
        const upstreamRequest =
          signed.body == null ? signed : { ...signed, body: guardBody(signed.body, context) };
        return { plan, signInput, upstreamRequest };
      });
    });
    return andThen(prepared, (exchange) => forward(context, exchange, backend, bucket));
  };

  /**
   * Sends upstream and reports the "upstream" phase; `onResponse` runs in the same reaction as
   * the transport's answer (no `timed` wrapper and no extra `.then`).
   */
  const sendTimed = <T>(
    requestId: string,
    upstreamRequest: UpstreamRequest,
    sendContext: SendContext,
    onResponse: (response: UpstreamResponse) => T | PromiseLike<T>,
  ): Promise<T> => {
    const startedAt = now();
    return sendUpstream(
      upstreamRequest,
      sendContext,
      (response) => {
        phaseDone(requestId, "upstream", startedAt, true);
        return onResponse(response);
      },
      () => phaseDone(requestId, "upstream", startedAt, false),
    );
  };

  /** Phase 7: the backend exchange (one replay with a fresh bearer token after a 401/403). */
  const forward = (
    context: RequestContext,
    exchange: PreparedExchange,
    backend: BackendCredentials,
    bucket: BucketConfig,
  ): Promise<ProxyResponse> => {
    const { requestId, request } = context;
    const sendContext: SendContext = {
      requestId,
      transport: deps.transport,
      observer,
      bodyError: () => context.bodyError,
      ...(request.signal != null && { clientSignal: request.signal }),
    };
    const toClient = (response: UpstreamResponse): ProxyResponse => ({
      status: response.status,
      headers: clientResponseHeaders(response.headers, config.serverName),
      body: response.body,
    });
    if (backend.kind !== "bearer") {
      return sendTimed(requestId, exchange.upstreamRequest, sendContext, toClient);
    }
    return sendTimed(requestId, exchange.upstreamRequest, sendContext, async (response) => {
      if (
        (response.status !== 401 && response.status !== 403) ||
        !shouldForceRefresh(backend.apiKey)
      ) {
        return toClient(response);
      }
      if (exchange.plan.kind === "none") {
        // Nothing was streamed: the request can be replayed once with a fresh token.
        await discardBody(response.body);
        const retried = await timed(requestId, "sign", () =>
          signer.sign({ ...exchange.signInput, forceRefresh: true }),
        );
        return sendTimed(requestId, retried, sendContext, toClient);
      }
      // A streamed body cannot be replayed: refresh for the next request only.
      deps.bearerTokens?.getToken(backend.apiKey, { forceRefresh: true }).catch(() => {
        observer.warn("bearer token refresh after a backend 401/403 failed", {
          bucket: bucket.name,
        });
      });
      return toClient(response);
    });
  };

  /** Records the proxy's own body failures (checks) and aborts the upstream request with them. */
  const guardBody = (
    source: AsyncIterable<Uint8Array>,
    context: RequestContext,
  ): AsyncIterable<Uint8Array> => ({
    [Symbol.asyncIterator]: () => {
      const iterator = source[Symbol.asyncIterator]();
      const fail = (error: unknown): never => {
        const failure = toOspError(error);
        context.bodyError ??= failure;
        context.upstreamAbort.abort(failure);
        throw failure;
      };
      return {
        next: async () => {
          try {
            return await iterator.next();
          } catch (error) {
            return fail(error);
          }
        },
        return: async (value?: unknown) => {
          await iterator.return?.(value);
          return { done: true, value: undefined };
        },
      };
    },
  });

  const handle = (request: ProxyRequest): Promise<ProxyResponse> => {
    const requestId = request.requestId ?? safeRequestId(createRequestId);
    const startedAt = now();
    const upstreamAbort = new LightAbortSignal();
    const onClientAbort = () => upstreamAbort.abort(request.signal?.reason);
    const linked = !sharesClientSignal(request);
    if (linked) {
      if (request.signal?.aborted === true) onClientAbort();
      request.signal?.addEventListener("abort", onClientAbort, { once: true });
    }
    let context: RequestContext | undefined;
    const method = request.method.toUpperCase();

    const report = (status: number, errorCode: string | undefined) => {
      if (linked) request.signal?.removeEventListener("abort", onClientAbort);
      const target = context?.target;
      const event: RequestEvent = {
        requestId,
        method,
        operation: context?.operation ?? "Unknown",
        status,
        durationMs: Math.max(0, now() - startedAt),
        bytesIn: context?.bytesIn ?? 0,
        bytesOut: context?.bytesOut ?? 0,
      };
      // Optional fields are absent, never undefined; set one by one (no spread objects).
      if (target?.kind === "bucket") event.bucket = target.bucket;
      if (errorCode != null) event.errorCode = errorCode;
      const accessKeyId = context?.identity?.accessKeyId;
      if (accessKeyId != null && accessKeyId !== "") event.accessKeyId = accessKeyId;
      if (request.remoteAddress != null) event.remoteAddress = request.remoteAddress;
      observer.request(event);
    };

    /** The answer, reported now (no body) or once its body has been sent. */
    const answer = (response: ProxyResponse, errorCode: string | undefined): ProxyResponse => {
      if (response.body == null) {
        report(response.status, errorCode);
        return response;
      }
      const finalStatus = response.status;
      return {
        status: finalStatus,
        headers: response.headers,
        body: streamResponseBody(
          response.body,
          (byteLength) => {
            if (context != null) context.bytesOut += byteLength;
          },
          (failure) => {
            if (failure != null) upstreamAbort.abort(failure);
            report(finalStatus, errorCode ?? (failure != null ? "InternalError" : undefined));
          },
        ),
      };
    };
    const succeeded = (response: ProxyResponse): ProxyResponse => answer(response, undefined);
    const failed = (error: unknown): ProxyResponse => {
      const failure = toOspError(error);
      if (failure.source !== "client") {
        observer.warn(`request failed: ${failure.code}`, {
          requestId,
          code: failure.code,
          message: failure.message,
        });
      }
      const response = errorResponse(failure, {
        requestId,
        method,
        serverName: config.serverName,
        resource: request.path,
      });
      return answer(response, failure.code);
    };

    let pending: MaybePromise<ProxyResponse>;
    try {
      pending = pipeline(
        request,
        requestId,
        startedAt,
        upstreamAbort,
        (value) => (context = value),
      );
    } catch (error) {
      return Promise.resolve(failed(error));
    }
    return isPromiseLike(pending)
      ? pending.then(succeeded, failed)
      : Promise.resolve(succeeded(pending));
  };

  return {
    handle,
    requestCounter,
    config,
    cacheStats: () => ({
      secrets: secretsCache.stats(),
      authorization: authorizationCache.stats(),
      credentials: credentialsCache.stats(),
    }),
  };
};

const safeRequestId = (create: () => string): string => {
  try {
    const id = create();
    if (typeof id === "string" && id !== "") return id;
  } catch {
    // Fall back to our own id below.
  }
  return randomRequestId();
};

/**
 * Whether the upstream exchange uses the client's own signal. The proxy aborts an exchange the
 * client still wants only when its check of the request body fails (a failed or abandoned
 * response body has ended the exchange in the transport already); without a body the client's
 * signal is all the transport needs. That saves an AbortSignal and a listener per request, each
 * a few microseconds in Node.
 */
const sharesClientSignal = (
  request: ProxyRequest,
): request is ProxyRequest & { readonly signal: AbortSignalLike } =>
  request.signal != null && request.body == null;

const isParsedConfig = (value: unknown): value is ProxyConfig =>
  typeof value === "object" &&
  value != null &&
  (value as { buckets?: unknown }).buckets instanceof Map;
