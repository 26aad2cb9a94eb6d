// @osp/core: the OSP proxy pipeline as a runtime-independent library. Explicit named exports
// only: the public surface is exactly this list.

export type {
  AbortSignalLike,
  Body,
  BearerTokenProvider,
  Clock,
  HeaderList,
  ProxyRequest,
  ProxyResponse,
  SyncReadableIterator,
  Transport,
  UpstreamRequest,
  UpstreamResponse,
} from "./ports.ts";
export { toAbortSignal } from "./ports.ts";
export { LightAbortSignal } from "./abort.ts";
export {
  OspError,
  S3_ERRORS,
  escapeXml,
  toS3ErrorXml,
  type ErrorSource,
  type OspErrorOptions,
  type S3ErrorCode,
} from "./errors.ts";
export {
  CONFIG_DEFAULTS,
  ConfigError,
  HmacKeystore,
  parseProxyConfig,
  type BucketConfig,
  type BucketConfigInput,
  type BucketCredentialsConfig,
  type BucketCredsFetcher,
  type HmacFetcher,
  type HmacKeyInput,
  type ParseProxyConfigOptions,
  type ProxyConfig,
  type ProxyConfigInput,
  type UploadEncodings,
  type Validator,
  type ValidatorCacheKey,
  type ValidatorRequest,
} from "./config.ts";
export {
  createProxy,
  type Proxy,
  type ProxyDependencies,
  type RequestCounter,
} from "./create-proxy.ts";
export type {
  AuthorizationEvent,
  CacheEvent,
  PhaseEvent,
  PhaseName,
  ProxyObserver,
  RequestEvent,
  UpstreamErrorEvent,
} from "./observer.ts";
export type {
  BackendCredentials,
  ClientIdentity,
  CopySource,
  FrontAddressing,
  RequestContext,
  RequestTarget,
} from "./context.ts";
export { s3OperationName, type OperationInput } from "./operation.ts";
export { renderListBuckets, type ListedBucket } from "./list-buckets.ts";
export { errorResponse } from "./respond.ts";
export { parseFetchedCredentials } from "./phases/resolve-backend.ts";
export { parseTarget } from "./phases/parse.ts";
export {
  forwardHeaders,
  parseCopySource,
  rewriteCopySource,
  upstreamTarget,
  type ParsedCopySource,
  type UpstreamTarget,
} from "./phases/rewrite.ts";
export { clientResponseHeaders } from "./phases/forward.ts";
