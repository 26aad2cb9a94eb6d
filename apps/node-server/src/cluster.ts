// threads > 1: node:cluster. The primary forks N workers; each re-runs the program that called
// `startServer` (cluster's default: the same script and arguments), whose `startServer` call then
// serves in that worker. Listening sockets are shared by the cluster module, caches are per
// worker. The primary serves the admin port, sums metrics and request counts over the workers
// (IPC), and turns SIGTERM/SIGINT into a graceful drain of every worker.
import cluster, { type Worker } from "node:cluster";
import { startAdminListener, type AdminListener, type AdminState } from "./admin.ts";
import type { ResolvedServerConfig } from "./config.ts";
import type { ListenerAddress } from "./listeners.ts";
import { createLogger, flushLogger } from "./logging.ts";
import { mergeSnapshots, renderMetrics, type MetricsSnapshot } from "./metrics.ts";
import {
  attachRequestCountSource,
  disableRequestCounting,
  enableRequestCounting,
  resetRequestCount,
} from "./request-counting.ts";
import { startProcessServer, type ServerHandle } from "./server.ts";
import { closeOnSignals } from "./shutdown.ts";

/** Set in the environment of the workers this module forks. */
export const WORKER_ENV = "OSP_CLUSTER_WORKER";

/** How often a worker reports its request count to the primary (when it changed). */
export const COUNT_REPORT_INTERVAL_MS = 250;
const STARTUP_TIMEOUT_MS = 60_000;
const METRICS_TIMEOUT_MS = 2_000;
const RESPAWN_DELAY_MS = 1_000;
/** Added to shutdownTimeoutMs before workers that have not exited are killed. */
const EXIT_GRACE_MS = 5_000;

/** Messages between primary and workers; `osp` tells them apart from anything else on the channel. */
type ClusterMessage =
  | { osp: "ready"; http?: ListenerAddress; https?: ListenerAddress }
  | { osp: "failed"; message: string }
  | { osp: "count"; value: number }
  | { osp: "counting"; action: "enable" | "disable" | "reset" }
  | { osp: "snapshot?"; id: number }
  | { osp: "snapshot"; id: number; snapshot: MetricsSnapshot }
  | { osp: "metrics?"; id: number }
  | { osp: "metrics"; id: number; text: string }
  | { osp: "shutdown" };

const isClusterMessage = (value: unknown): value is ClusterMessage =>
  typeof value === "object" &&
  value != null &&
  typeof (value as { osp?: unknown }).osp === "string";

/** True in a worker forked by this module's primary. */
export const isOspWorker = (): boolean => cluster.isWorker && process.env[WORKER_ENV] === "1";

const send = (target: Worker | NodeJS.Process, message: ClusterMessage): void => {
  try {
    if ("connected" in target && target.connected === false) return;
    (target.send as (message: unknown) => void).call(target, message);
  } catch {
    // The other side is gone; its exit is handled elsewhere.
  }
};

/** Serves in a worker: the in-process server plus the IPC wiring. */
export const startClusterWorker = async (resolved: ResolvedServerConfig): Promise<ServerHandle> => {
  let nextQueryId = 0;
  const pendingText = new Map<number, (text: string) => void>();
  const clusterMetricsText = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = (nextQueryId += 1);
      const timer = setTimeout(() => {
        pendingText.delete(id);
        reject(new Error("the primary did not answer"));
      }, METRICS_TIMEOUT_MS);
      pendingText.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      send(process, { osp: "metrics?", id });
    });

  let server;
  try {
    server = await startProcessServer(resolved, { worker: { clusterMetricsText } });
  } catch (error) {
    send(process, { osp: "failed", message: (error as Error).message });
    throw error;
  }
  const running = server;

  let reported = -1;
  const reporter = setInterval(() => {
    const value = running.proxy.requestCounter.get();
    if (value === reported) return;
    reported = value;
    send(process, { osp: "count", value });
  }, COUNT_REPORT_INTERVAL_MS);
  reporter.unref();

  const shutdown = (): void => {
    clearInterval(reporter);
    void running.close().finally(() => {
      send(process, { osp: "count", value: running.proxy.requestCounter.get() });
      process.exit(0);
    });
  };

  process.on("message", (message: unknown) => {
    if (!isClusterMessage(message)) return;
    switch (message.osp) {
      case "shutdown":
        shutdown();
        return;
      case "counting":
        if (message.action === "enable") enableRequestCounting();
        else if (message.action === "disable") disableRequestCounting();
        else {
          resetRequestCount();
          reported = 0;
        }
        return;
      case "snapshot?":
        send(process, { osp: "snapshot", id: message.id, snapshot: running.metrics.snapshot() });
        return;
      case "metrics":
        pendingText.get(message.id)?.(message.text);
        pendingText.delete(message.id);
        return;
      default:
    }
  });
  // The primary died: no one will tell us to stop, and the shared listeners are gone anyway.
  process.once("disconnect", shutdown);

  send(process, {
    osp: "ready",
    ...(running.http != null && { http: running.http }),
    ...(running.https != null && { https: running.https }),
  });
  return {
    ...(running.http != null && { http: running.http }),
    ...(running.https != null && { https: running.https }),
    proxy: running.proxy,
    close: running.close,
  };
};

/** State of one worker as the primary sees it. */
interface WorkerState {
  worker: Worker;
  ready: boolean;
  requestCount: number;
}

/** The cluster primary: forks, supervises and drains the workers. */
export const startClusterPrimary = async (
  resolved: ResolvedServerConfig,
): Promise<ServerHandle> => {
  const { settings } = resolved;
  const logger = createLogger({
    level: settings.logLevel,
    ...(settings.logDestination != null && { destination: settings.logDestination }),
  });
  const workers = new Map<number, WorkerState>();
  let draining = false;
  let started = false;
  // Counts of workers that exited, so that restarts do not make the total go backwards.
  let exitedCount = 0;
  let addresses: { http?: ListenerAddress; https?: ListenerAddress } = {};

  let nextQueryId = 0;
  const pendingSnapshots = new Map<
    number,
    { wanted: number; snapshots: MetricsSnapshot[]; done: () => void }
  >();

  const gatherSnapshots = (): Promise<MetricsSnapshot[]> =>
    new Promise((resolve) => {
      const targets = [...workers.values()].filter(
        (state) => state.ready && state.worker.isConnected(),
      );
      const id = (nextQueryId += 1);
      const snapshots: MetricsSnapshot[] = [];
      const done = () => {
        clearTimeout(timer);
        pendingSnapshots.delete(id);
        resolve(snapshots);
      };
      const timer = setTimeout(done, METRICS_TIMEOUT_MS);
      pendingSnapshots.set(id, { wanted: targets.length, snapshots, done });
      if (targets.length === 0) done();
      for (const state of targets) send(state.worker, { osp: "snapshot?", id });
    });
  const clusterMetricsText = async (): Promise<string> =>
    renderMetrics(mergeSnapshots(await gatherSnapshots()));

  const broadcast = (message: ClusterMessage): void => {
    for (const state of workers.values()) send(state.worker, message);
  };

  const detachCounting = attachRequestCountSource({
    enable: () => broadcast({ osp: "counting", action: "enable" }),
    disable: () => broadcast({ osp: "counting", action: "disable" }),
    reset: () => {
      exitedCount = 0;
      for (const state of workers.values()) state.requestCount = 0;
      broadcast({ osp: "counting", action: "reset" });
    },
    get: () => [...workers.values()].reduce((sum, state) => sum + state.requestCount, exitedCount),
  });
  if (settings.requestCounting) enableRequestCounting();

  let startupFailed: ((error: Error) => void) | undefined;
  let startupProgress: (() => void) | undefined;

  const fork = (index: number): void => {
    const worker = cluster.fork({ [WORKER_ENV]: "1", OSP_WORKER_INDEX: String(index) });
    const state: WorkerState = { worker, ready: false, requestCount: 0 };
    workers.set(worker.id, state);
    worker.on("message", (message: unknown) => {
      if (!isClusterMessage(message)) return;
      switch (message.osp) {
        case "ready":
          state.ready = true;
          if (!addresses.http && !addresses.https) {
            addresses = {
              ...(message.http != null && { http: message.http }),
              ...(message.https != null && { https: message.https }),
            };
          }
          startupProgress?.();
          return;
        case "failed":
          startupFailed?.(new Error(`worker ${index} failed to start: ${message.message}`));
          return;
        case "count":
          state.requestCount = message.value;
          return;
        case "snapshot": {
          const pending = pendingSnapshots.get(message.id);
          if (pending == null) return;
          pending.snapshots.push(message.snapshot);
          if (pending.snapshots.length >= pending.wanted) pending.done();
          return;
        }
        case "metrics?":
          void clusterMetricsText().then((text) =>
            send(worker, { osp: "metrics", id: message.id, text }),
          );
          return;
        default:
      }
    });
    worker.on("exit", (code, signal) => {
      workers.delete(worker.id);
      exitedCount += state.requestCount;
      if (draining) return;
      if (!started) {
        startupFailed?.(
          new Error(`worker ${index} exited during start-up (code ${code ?? signal})`),
        );
        return;
      }
      logger.error(
        { log: "cluster", worker: index, code, signal },
        "worker exited; starting a new one",
      );
      setTimeout(() => {
        if (!draining) fork(index);
      }, RESPAWN_DELAY_MS).unref();
    });
  };

  const stopWorkers = async (timeoutMs: number): Promise<void> => {
    const exits = [...workers.values()].map(
      (state) =>
        new Promise<void>((resolve) => {
          if (state.worker.isDead()) {
            resolve();
            return;
          }
          state.worker.once("exit", () => resolve());
        }),
    );
    broadcast({ osp: "shutdown" });
    const deadline = setTimeout(() => {
      for (const state of workers.values()) state.worker.process.kill("SIGKILL");
    }, timeoutMs + EXIT_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(deadline);
  };

  logger.info({ log: "cluster", threads: settings.threads }, "starting workers");
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`workers did not start within ${STARTUP_TIMEOUT_MS} ms`)),
        STARTUP_TIMEOUT_MS,
      );
      startupFailed = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      startupProgress = () => {
        if ([...workers.values()].filter((state) => state.ready).length >= settings.threads) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (let index = 0; index < settings.threads; index += 1) fork(index);
    });
  } catch (error) {
    draining = true;
    await stopWorkers(0);
    detachCounting();
    throw error;
  }
  started = true;
  startupFailed = undefined;

  const adminState: AdminState = {
    serverName: resolved.proxyConfig.serverName,
    ready: () =>
      !draining && workers.size > 0 && [...workers.values()].every((state) => state.ready),
    draining: () => draining,
    metricsText: clusterMetricsText,
  };
  let admin: AdminListener | undefined;
  const handle: ServerHandle = { ...addresses, close: async () => {} };
  if (settings.adminPort != null) {
    admin = await startAdminListener(adminState, settings.adminPort, settings.bindAddress);
    handle.admin = admin.address;
  }

  let closing: Promise<void> | undefined;
  let unregisterSignals: (() => void) | undefined;
  handle.close = () => {
    closing ??= (async () => {
      draining = true;
      logger.info({ log: "cluster", workers: workers.size }, "draining workers");
      await stopWorkers(settings.shutdownTimeoutMs);
      await admin?.close();
      detachCounting();
      unregisterSignals?.();
      logger.info({ log: "cluster" }, "closed");
      await flushLogger(logger);
    })();
    return closing;
  };
  if (settings.handleSignals) unregisterSignals = closeOnSignals(handle.close);
  logger.info(
    {
      log: "cluster",
      http: handle.http?.url,
      https: handle.https?.url,
      admin: handle.admin?.url,
      threads: settings.threads,
    },
    "listening",
  );
  return handle;
};
