// createServer / startServer: load .env, validate, then serve in this process, as the cluster
// primary, or as one of its workers.
import { startClusterPrimary, startClusterWorker, isOspWorker } from "./cluster.ts";
import {
  dotenvSetting,
  resolveServerConfig,
  type ResolvedServerConfig,
  type ServerConfigInput,
} from "./config.ts";
import { loadDotenv } from "./dotenv.ts";
import { startProcessServer, type ServerHandle } from "./server.ts";

/** A validated server, not listening yet (see {@link createServer}). @public */
export interface OspServer {
  /** The configuration as resolved (defaults applied, seed spellings mapped, `.env` read). */
  readonly config: ResolvedServerConfig;
  /** Binds the listeners (or starts the workers) and resolves once they accept connections. */
  listen(): Promise<ServerHandle>;
}

/**
 * Creates OSP without listening: loads `.env` (never overriding set variables) and validates the
 * whole configuration now, throwing the core's `ConfigError` that lists every problem, so a bad
 * configuration fails before any port is taken. `listen()` then starts it; it may be called once.
 * @public
 */
export const createServer = (config: ServerConfigInput): OspServer => {
  const dotenv = dotenvSetting(config);
  if (dotenv !== false) loadDotenv(dotenv);
  const resolved = resolveServerConfig(config);
  let started: Promise<ServerHandle> | undefined;
  return {
    config: resolved,
    listen: () => {
      if (started != null) {
        return Promise.reject(new Error("listen() was already called on this server"));
      }
      started = listenWith(resolved);
      return started;
    },
  };
};

const listenWith = async (resolved: ResolvedServerConfig): Promise<ServerHandle> => {
  if (isOspWorker()) return startClusterWorker(resolved);
  if (resolved.settings.threads > 1) return startClusterPrimary(resolved);
  const server = await startProcessServer(resolved);
  return {
    ...(server.http != null && { http: server.http }),
    ...(server.https != null && { https: server.https }),
    ...(server.admin != null && { admin: server.admin }),
    proxy: server.proxy,
    close: server.close,
  };
};

/**
 * Starts OSP: the equivalent of the predecessor's `start_server(ProxyServerConfig(...))`, except
 * that it returns once listening. `createServer(config).listen()` in one call: loads `.env`,
 * validates the whole configuration (rejects with the core's `ConfigError` listing every
 * problem), then listens.
 *
 * With `threads` > 1 the calling script is re-run in each of N worker processes (node:cluster),
 * where this same call serves; the handle returned in the primary drains them all on `close()`.
 * @public
 */
export const startServer = async (config: ServerConfigInput): Promise<ServerHandle> =>
  createServer(config).listen();
