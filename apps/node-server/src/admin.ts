// Health and metrics endpoints. On the main listeners they live under `/-/osp/`, a path no
// bucket can take ("-" cannot start a bucket name); on the optional admin listener they are
// also served at the root (`/healthz`, `/readyz`, `/metrics`).
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import {
  ConnectionTracker,
  createHttpListener,
  listen,
  stopListening,
  type ListenerAddress,
} from "./listeners.ts";
import { createRequestId } from "./request-id.ts";
import { writeSimpleResponse } from "./response-writer.ts";
import { splitRequestTarget, type NodeRequest, type NodeResponse } from "./request-adapter.ts";

/** The reserved path prefix of the admin endpoints on the main listeners. @public */
export const ADMIN_PATH_PREFIX = "/-/osp/";

/** The admin endpoints. @public */
export type AdminRoute = "healthz" | "readyz" | "metrics";

const ROUTES = new Set<string>(["healthz", "readyz", "metrics"]);

/**
 * The admin route a path names: `/-/osp/<route>` anywhere, and `/<route>` too on the admin
 * listener. `undefined` for anything else (on the main listeners, `/-/osp/…` paths that name
 * no route are answered 404 by {@link handleAdminRequest}).
 */
export const adminRoute = (
  path: string,
  onAdminListener: boolean,
): AdminRoute | "unknown" | undefined => {
  if (path.startsWith(ADMIN_PATH_PREFIX)) {
    const name = path.slice(ADMIN_PATH_PREFIX.length);
    return ROUTES.has(name) ? (name as AdminRoute) : "unknown";
  }
  if (onAdminListener) {
    const name = path.slice(1);
    return ROUTES.has(name) ? (name as AdminRoute) : "unknown";
  }
  return undefined;
};

/** What the admin endpoints report. */
export interface AdminState {
  /** Listeners up and not draining. */
  ready(): boolean;
  /** Prometheus text (aggregated over workers where that applies). */
  metricsText(): Promise<string>;
  serverName: string;
  draining(): boolean;
}

/** Answers an admin request. Only GET and HEAD. */
export const handleAdminRequest = async (
  req: NodeRequest,
  res: NodeResponse,
  route: AdminRoute | "unknown",
  state: AdminState,
  requestId: string,
): Promise<void> => {
  const isHead = req.method === "HEAD";
  const options = {
    requestId,
    serverName: state.serverName,
    closeConnection: state.draining(),
    isHead,
  };
  const text = (status: number, body: string, extra: Array<[string, string]> = []) =>
    writeSimpleResponse(
      res,
      status,
      [["Content-Type", "text/plain; charset=utf-8"], ["Cache-Control", "no-store"], ...extra],
      body,
      options,
    );
  // The rest of an unexpected upload is discarded; admin requests carry no body.
  req.resume();
  if (req.method !== "GET" && !isHead) {
    text(405, "method not allowed\n", [["Allow", "GET, HEAD"]]);
    return;
  }
  switch (route) {
    case "healthz":
      text(200, "ok\n");
      return;
    case "readyz":
      if (state.ready()) text(200, "ready\n");
      else text(503, state.draining() ? "draining\n" : "not ready\n");
      return;
    case "metrics": {
      let body: string;
      try {
        body = await state.metricsText();
      } catch {
        text(500, "metrics unavailable\n");
        return;
      }
      writeSimpleResponse(
        res,
        200,
        [
          ["Content-Type", METRICS_CONTENT_TYPE],
          ["Cache-Control", "no-store"],
        ],
        body,
        options,
      );
      return;
    }
    default:
      text(404, "not found\n");
  }
};

/** The admin port's listener: health, readiness and metrics only, nothing proxied. */
export interface AdminListener {
  readonly address: ListenerAddress;
  /** Stops accepting and drops open connections (admin requests are short). */
  close(): Promise<void>;
}

/** Starts the optional admin listener; one code path for the single process and the cluster. */
export const startAdminListener = async (
  state: AdminState,
  port: number,
  bindAddress: string,
): Promise<AdminListener> => {
  const tracker = new ConnectionTracker();
  const server = createHttpListener((req, res) => {
    const route = adminRoute(splitRequestTarget(req.url ?? "/").path, true) ?? "unknown";
    void handleAdminRequest(req, res, route, state, createRequestId());
  }, tracker);
  const address = await listen(server, port, bindAddress, "http");
  return {
    address,
    close: async () => {
      const closed = stopListening(server);
      tracker.destroyAll();
      await closed;
    },
  };
};
