// startServer: load .env, validate, then serve in this process, as the cluster primary, or as
// one of its workers.
import { startClusterPrimary, startClusterWorker, isOspWorker } from "./cluster.ts";
import { dotenvSetting, resolveServerConfig, type ServerConfigInput } from "./config.ts";
import { loadDotenv } from "./dotenv.ts";
import { startProcessServer, type ServerHandle } from "./server.ts";

/**
 * Starts OSP: the equivalent of the predecessor's `start_server(ProxyServerConfig(...))`, except
 * that it returns once listening. Loads `.env` first (never overriding set variables), validates
 * the whole configuration (throws the core's `ConfigError` listing every problem), then listens.
 *
 * With `threads` > 1 the calling script is re-run in each of N worker processes (node:cluster),
 * where this same call serves; the handle returned in the primary drains them all on `close()`.
 * @public
 */
export const startServer = async (config: ServerConfigInput): Promise<ServerHandle> => {
  const dotenv = dotenvSetting(config);
  if (dotenv !== false) loadDotenv(dotenv);
  const resolved = resolveServerConfig(config);
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
