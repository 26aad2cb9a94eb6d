// One serving process: listeners → request adapter → the core's proxy → response writer, with
// logs, metrics, health, request counting and graceful shutdown around it. Used directly for
// threads = 1 and inside every worker for threads > 1.
import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { rootCertificates } from "node:tls";
import {
  createProxy,
  LightAbortSignal,
  OspError,
  toS3ErrorXml,
  type Proxy,
  type ProxyObserver,
  type ProxyResponse,
  type Transport,
} from "@osp/core";
import { createIbmIamTokenProvider } from "@osp/ibm-iam";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { createUndiciTransport } from "@osp/transport-undici";
import type { Logger } from "pino";
import {
  ADMIN_PATH_PREFIX,
  adminRoute,
  handleAdminRequest,
  startAdminListener,
  type AdminListener,
  type AdminState,
} from "./admin.ts";
import type { ResolvedServerConfig } from "./config.ts";
import {
  ConnectionTracker,
  createHttpListener,
  createHttpsListener,
  listen,
  type ListenerAddress,
  type RequestHandler,
} from "./listeners.ts";
import {
  createInfoLineWriter,
  createLogger,
  flushLogger,
  jsonField,
  jsonValue,
  redactFields,
  redactQuery,
} from "./logging.ts";
import { createServerMetrics, type ServerMetrics } from "./metrics.ts";
import {
  adaptRequest,
  splitRequestTarget,
  type NodeRequest,
  type NodeResponse,
} from "./request-adapter.ts";
import { createRequestId } from "./request-id.ts";
import { attachRequestCountSource, enableRequestCounting } from "./request-counting.ts";
import { writeProxyResponse, writeSimpleResponse } from "./response-writer.ts";
import { closeOnSignals, drainListeners, InFlightRequests } from "./shutdown.ts";

/** A running server. @public */
export interface ServerHandle {
  http?: ListenerAddress;
  https?: ListenerAddress;
  admin?: ListenerAddress;
  /** The core proxy (in-process mode only). */
  proxy?: Proxy;
  /** Graceful: stop accepting, answer readyz 503, drain in-flight requests until `shutdownTimeoutMs`, then cut. */
  close(): Promise<void>;
}

/** What a worker process adds to a serving process. */
export interface WorkerHooks {
  /** Prometheus text over all workers (asks the primary). */
  clusterMetricsText(): Promise<string>;
}

/** A serving process with its internals, for the cluster worker wiring and tests. */
export interface ProcessServer extends ServerHandle {
  proxy: Proxy;
  metrics: ServerMetrics;
  logger: Logger<never>;
  ready(): boolean;
}

/** Backend exchanges that outlive the drain deadline get this long to close their connections. */
const TRANSPORT_CLOSE_GRACE_MS = 2_000;
/** Status recorded for a request whose client left before the answer's head was sent. */
const CLIENT_CLOSED_STATUS = 499;
/** How long the access line waits for the core's request event after the response closed. */
const ACCESS_EVENT_WAIT_MS = 1_000;

type RequestEvent = Parameters<NonNullable<ProxyObserver["request"]>>[0];

/** Per-request state joining what the listener saw with the core's request event. */
interface Exchange {
  requestId: string;
  method: string;
  path: string;
  query: string;
  httpVersion: string;
  userAgent: string | undefined;
  remoteAddress: string | undefined;
  startedAt: number;
  event?: RequestEvent;
  /** The backend's x-amz-request-id, when it sent one. */
  backendRequestId?: string;
  closed: boolean;
  done: boolean;
  status: number;
  completed: boolean;
  timer?: NodeJS.Timeout;
}

const hostOf = (req: NodeRequest): string => {
  const value =
    req.headers.host ?? (req.headers as Record<string, string | undefined>)[":authority"] ?? "";
  return value.replace(/:\d+$/, "").toLowerCase();
};

const isHttp1 = (req: NodeRequest): boolean => req.httpVersionMajor === 1;

/** Starts one serving process (no cluster). */
export const startProcessServer = async (
  resolved: ResolvedServerConfig,
  options: { worker?: WorkerHooks } = {},
): Promise<ProcessServer> => {
  const { settings, proxyConfig, warnings } = resolved;
  const logger = createLogger({
    level: settings.logLevel,
    ...(settings.logDestination != null && { destination: settings.logDestination }),
  });
  for (const warning of warnings) logger.warn({ log: "config" }, warning);
  const metrics = createServerMetrics();
  const serverName = proxyConfig.serverName;
  const virtualHostSuffixes = proxyConfig.virtualHostDomains.map((domain) => `.${domain}`);

  const ownTransport = settings.transport == null;
  const transport: Transport =
    settings.transport ??
    createUndiciTransport({
      ...settings.backendTimeouts,
      ...(settings.backendCa != null && { ca: [...rootCertificates, settings.backendCa] }),
    });
  const bearerTokens = createIbmIamTokenProvider({
    ...(settings.iamTokenUrl != null && { tokenUrl: settings.iamTokenUrl }),
    onCacheEvent: (event) => metrics.observeCache("iam", event.result, event.refreshStarted),
  });

  // Open exchanges by request id, in a plain dictionary rather than a Map: on Node 20, one set
  // and one delete per request on a long-lived Map left the deleted values reachable past the
  // next scavenge, so finished exchanges (and all they reference) were promoted to the old
  // generation. Measured at 4 300 small GETs/s: twice the promoted bytes, and an old-generation
  // collection (which pauses every request in flight) every few seconds.
  const exchanges: Record<string, Exchange> = Object.create(null);
  // The access line is built by hand (same shape as pino's): it is written for every request.
  const accessLines = createInfoLineWriter(
    logger,
    { log: "access" },
    { batch: settings.logDestination == null },
  );
  const auditLog = logger.child({ log: "audit" });

  /** The one access line and the request metrics, once the response closed and the core reported. */
  const finish = (exchange: Exchange): void => {
    if (exchange.done) return;
    exchange.done = true;
    if (exchange.timer != null) clearTimeout(exchange.timer);
    delete exchanges[exchange.requestId];
    const event = exchange.event;
    const durationMs = event?.durationMs ?? performance.now() - exchange.startedAt;
    const operation = event?.operation ?? "Unknown";
    metrics.observeRequest({
      operation,
      status: exchange.status,
      durationMs,
      bytesIn: event?.bytesIn ?? 0,
      bytesOut: event?.bytesOut ?? 0,
    });
    if (!accessLines.enabled()) return;
    // Fields every line has first, in one template; optional ones are left out when undefined.
    accessLines.write(
      `,"requestId":${jsonValue(exchange.requestId)},"method":${jsonValue(exchange.method)}` +
        `,"path":${jsonValue(exchange.path)},"query":${jsonValue(redactQuery(exchange.query))}` +
        `,"status":${exchange.status}` +
        jsonField("errorCode", event?.errorCode) +
        `,"operation":${jsonValue(operation)}` +
        jsonField("bucket", event?.bucket) +
        jsonField("accessKeyId", event?.accessKeyId) +
        jsonField("backendRequestId", exchange.backendRequestId) +
        jsonField("remoteAddress", exchange.remoteAddress) +
        jsonField("userAgent", exchange.userAgent) +
        `,"httpVersion":${jsonValue(exchange.httpVersion)}` +
        `,"durationMs":${Math.round(durationMs * 1000) / 1000}` +
        `,"bytesIn":${event?.bytesIn ?? 0},"bytesOut":${event?.bytesOut ?? 0}` +
        (exchange.completed ? "" : `,"aborted":true`),
      "request",
    );
  };

  const observer: ProxyObserver = {
    phase: (event) => metrics.observePhase(event.phase, event.durationMs),
    // One audit line per decision the validator made, and per denial. A grant served from the
    // decision cache repeats an audited decision; the request's access line records it.
    authorization: (event) => {
      if (event.cached && event.allowed) return;
      auditLog.info(
        {
          requestId: event.requestId,
          accessKeyId: event.accessKeyId,
          bucket: event.bucket,
          operation: event.operation,
          method: event.method,
          allowed: event.allowed,
          cached: event.cached,
          remoteAddress: event.remoteAddress,
        },
        event.allowed ? "authorization allowed" : "authorization denied",
      );
    },
    cache: (event) => metrics.observeCache(event.cache, event.result, event.refreshStarted),
    upstreamError: (event) => {
      metrics.observeUpstreamError(event.code);
      logger.warn(
        { log: "upstream", requestId: event.requestId, code: event.code, origin: event.origin },
        "backend exchange failed",
      );
    },
    request: (event) => {
      const exchange = exchanges[event.requestId];
      if (exchange == null) return;
      exchange.event = event;
      if (exchange.closed) finish(exchange);
    },
    warn: (message, fields) =>
      logger.warn({ log: "proxy", ...redactFields(fields ?? {}) }, message),
  };

  const proxy = createProxy(proxyConfig, {
    transport,
    bearerTokens,
    crypto: nodeCryptoProvider,
    observer,
    createRequestId,
  });
  if (settings.requestCounting) enableRequestCounting();
  const detachCounting = attachRequestCountSource(proxy.requestCounter);

  const inFlight = new InFlightRequests();
  const tracker = new ConnectionTracker();
  let listening = false;
  let draining = false;

  const adminState: AdminState = {
    serverName,
    ready: () => listening && !draining,
    draining: () => draining,
    metricsText: async () => {
      if (options.worker != null) {
        try {
          return await options.worker.clusterMetricsText();
        } catch {
          // The primary did not answer in time: this worker's own numbers beat nothing.
        }
      }
      return metrics.render();
    },
  };

  const isVirtualHostRequest = (req: NodeRequest): boolean => {
    if (virtualHostSuffixes.length === 0) return false;
    const host = hostOf(req);
    return virtualHostSuffixes.some(
      (suffix) => host.endsWith(suffix) && host.length > suffix.length,
    );
  };

  const writeInternalError = (
    res: NodeResponse,
    requestId: string,
    isHead: boolean,
    resource: string,
  ): void => {
    if (res.headersSent) {
      if (!res.destroyed) res.destroy();
      return;
    }
    const xml = toS3ErrorXml(new OspError("InternalError", { source: "proxy" }), {
      requestId,
      resource,
    });
    writeSimpleResponse(res, 500, [["Content-Type", "application/xml"]], xml, {
      requestId,
      serverName,
      closeConnection: true,
      isHead,
    });
  };

  const handler: RequestHandler = (req, res) => {
    const requestId = createRequestId();
    const target = req.url ?? "/";
    if (target.startsWith(ADMIN_PATH_PREFIX) && !isVirtualHostRequest(req)) {
      const route = adminRoute(splitRequestTarget(target).path, false) ?? "unknown";
      void handleAdminRequest(req, res, route, adminState, requestId);
      return;
    }
    const socket = isHttp1(req) ? (req.socket as Socket) : undefined;
    inFlight.increment();
    metrics.requestStarted();
    if (socket != null) tracker.requestStarted(socket);
    const clientAbort = new LightAbortSignal();
    const adapted = adaptRequest(req, { requestId, signal: clientAbort, response: res });
    const userAgent = req.headers["user-agent"];
    const exchange: Exchange = {
      requestId,
      method: adapted.request.method,
      path: adapted.request.path,
      query: adapted.request.query,
      httpVersion: req.httpVersion,
      userAgent: typeof userAgent === "string" ? userAgent : undefined,
      remoteAddress: adapted.request.remoteAddress,
      startedAt: performance.now(),
      closed: false,
      done: false,
      status: 0,
      completed: false,
    };
    exchanges[requestId] = exchange;
    res.on("close", () => {
      const completed = res.writableFinished;
      // The client went away: the core aborts the backend exchange.
      if (!completed) clientAbort.abort(new Error("the client closed the connection"));
      inFlight.decrement();
      metrics.requestEnded();
      if (socket != null) tracker.requestEnded(socket);
      exchange.closed = true;
      // 499 (as nginx): the client left before any answer was sent.
      exchange.status = res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS;
      exchange.completed = completed;
      if (exchange.event != null) finish(exchange);
      else {
        exchange.timer = setTimeout(() => finish(exchange), ACCESS_EVENT_WAIT_MS);
        exchange.timer.unref();
      }
    });
    const responseFailed = (error: unknown): void => {
      logger.error(
        {
          log: "server",
          requestId,
          err: {
            name: (error as Error)?.name,
            code: (error as { code?: unknown })?.code,
            message: (error as Error)?.message,
          },
        },
        "response failed",
      );
      writeInternalError(res, requestId, req.method === "HEAD", exchange.path);
    };
    const respond = (response: ProxyResponse): void => {
      let written: void | Promise<void>;
      try {
        // Our id is the response's x-amz-request-id (it is in our logs); a backend's own id is
        // kept for the access line, to correlate with the backend's logs.
        written = writeProxyResponse(req, res, response, {
          requestId,
          serverName,
          closeConnection: draining,
          adapted,
          onBackendRequestId: (value) => (exchange.backendRequestId ??= value),
        });
      } catch (error) {
        responseFailed(error);
        return;
      }
      written?.then(undefined, responseFailed);
    };
    proxy.handle(adapted.request).then(respond, responseFailed);
  };

  const servers: Array<HttpServer | Http2SecureServer> = [];
  const handle: ProcessServer = {
    proxy,
    metrics,
    logger,
    ready: adminState.ready,
    close: async () => {},
  };

  let admin: AdminListener | undefined;
  const bind = async (): Promise<void> => {
    if (settings.httpPort != null) {
      const server = createHttpListener(handler, tracker);
      servers.push(server);
      handle.http = await listen(server, settings.httpPort, settings.bindAddress, "http");
    }
    if (settings.httpsPort != null && settings.tls != null) {
      const server = createHttpsListener(settings.tls, handler, tracker);
      servers.push(server);
      handle.https = await listen(server, settings.httpsPort, settings.bindAddress, "https");
    }
    if (settings.adminPort != null && options.worker == null) {
      admin = await startAdminListener(adminState, settings.adminPort, settings.bindAddress);
      handle.admin = admin.address;
    }
  };

  let closing: Promise<void> | undefined;
  let unregisterSignals: (() => void) | undefined;
  handle.close = () => {
    closing ??= (async () => {
      draining = true;
      logger.info(
        { log: "server", inFlight: inFlight.count, timeoutMs: settings.shutdownTimeoutMs },
        "draining",
      );
      const outcome = await drainListeners({
        servers,
        tracker,
        inFlight,
        timeoutMs: settings.shutdownTimeoutMs,
      });
      await admin?.close();
      if (ownTransport) {
        await Promise.race([
          transport.close?.().catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, TRANSPORT_CLOSE_GRACE_MS).unref()),
        ]);
      }
      for (const requestId in exchanges) finish(exchanges[requestId]!);
      accessLines.flush();
      detachCounting();
      unregisterSignals?.();
      logger.info(
        { log: "server", outcome },
        outcome === "drained" ? "closed" : "closed at the drain deadline",
      );
      await flushLogger(logger);
    })();
    return closing;
  };

  try {
    await bind();
  } catch (error) {
    await handle.close();
    throw error;
  }
  listening = true;
  if (settings.handleSignals) unregisterSignals = closeOnSignals(handle.close);
  logger.info(
    {
      log: "server",
      http: handle.http?.url,
      https: handle.https?.url,
      admin: handle.admin?.url,
      pid: process.pid,
    },
    "listening",
  );
  return handle;
};
