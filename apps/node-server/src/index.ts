export { createServer, startServer, type OspServer } from "./start.ts";
export type { ServerHandle } from "./server.ts";
export {
  resolveServerConfig,
  SERVER_DEFAULTS,
  type BackendTimeouts,
  type ResolvedServerConfig,
  type ServerConfigInput,
  type ServerSettings,
  type TlsMaterial,
} from "./config.ts";
export {
  disableRequestCounting,
  enableRequestCounting,
  getRequestCount,
  isRequestCountingEnabled,
  resetRequestCount,
} from "./request-counting.ts";
export {
  hasRequestBody,
  requestHeaderList,
  splitRequestTarget,
  toProxyRequest,
  type NodeRequest,
  type NodeResponse,
  type ToProxyRequestOptions,
} from "./request-adapter.ts";
export { ADMIN_PATH_PREFIX, type AdminRoute } from "./admin.ts";
export {
  createServerMetrics,
  DURATION_BUCKETS_SECONDS,
  mergeSnapshots,
  METRICS_CONTENT_TYPE,
  renderMetrics,
  type HistogramValue,
  type MetricsSnapshot,
  type ServerMetrics,
} from "./metrics.ts";
export { LOG_LEVELS, redactQuery, type LogLevel } from "./logging.ts";
export { loadDotenv, parseDotenv, type DotenvResult } from "./dotenv.ts";
export { createRequestId } from "./request-id.ts";
export type { ListenerAddress } from "./listeners.ts";
