import type { ServerConfigInput, ServerHandle } from "@osp/node-server";
import { startServer } from "@osp/node-server";

/** OSP running in this process for a test file, with its JSON log lines kept for diagnosis. */
export interface RunningOsp {
  handle: ServerHandle;
  httpUrl: string;
  httpsUrl?: string;
  /** The last log lines (at most 2000), newest last. */
  logs: string[];
  close(): Promise<void>;
}

const MAX_LOG_LINES = 2_000;

/**
 * startServer() on loopback, ephemeral port(s), in process (threads 1), no .env loading.
 * The caller's config wins over these defaults (e.g. to add an HTTPS listener).
 */
export async function startOsp(config: ServerConfigInput): Promise<RunningOsp> {
  const logs: string[] = [];
  const handle = await startServer({
    httpPort: 0,
    bindAddress: "127.0.0.1",
    dotenv: false,
    threads: 1,
    logLevel: "info",
    logDestination: {
      write(line: string) {
        logs.push(line.trimEnd());
        if (logs.length > MAX_LOG_LINES) logs.shift();
      },
    },
    ...config,
  });
  const httpUrl = handle.http?.url;
  if (httpUrl == null && handle.https == null) throw new Error("startServer returned no listener");
  return {
    handle,
    httpUrl: httpUrl ?? "",
    ...(handle.https != null ? { httpsUrl: handle.https.url } : {}),
    logs,
    close: () => handle.close(),
  };
}
