// Lane (b): OSP itself, as operators run it (the built @osp/node-server, one process), in a
// child process so that its RSS is its own. Clients are SigV4-verified against a static key
// store, a validator authorizes (its decision cached as by default), and every request is
// re-signed for the backend with a static HMAC pair (nginx ignores the signature).
// Options come as JSON in env OSP_BENCH_LANE_OPTIONS (not argv, where `ps` would show the
// keys): { backendPort, bucket, client, backend, logLevel }. Reports { type: "ready", port } via
// IPC and stops on { type: "stop" }.
import { startServer } from "../../dist/index.js";

const options = JSON.parse(process.env.OSP_BENCH_LANE_OPTIONS ?? "{}");

try {
  const handle = await startServer({
    httpPort: 0,
    bindAddress: "127.0.0.1",
    dotenv: false,
    handleSignals: false,
    logLevel: options.logLevel ?? "info",
    shutdownTimeoutMs: 2_000,
    cosMap: {
      [options.bucket]: {
        host: "127.0.0.1",
        port: options.backendPort,
        tls: false,
        addressingStyle: "path",
        region: "us-east-1",
        accessKey: options.backend.accessKeyId,
        secretKey: options.backend.secretAccessKey,
      },
    },
    hmacKeystore: [
      { accessKey: options.client.accessKeyId, secretKey: options.client.secretAccessKey },
    ],
    validator: (accessKeyId, bucket) =>
      accessKeyId === options.client.accessKeyId && bucket === options.bucket,
  });
  process.send?.({ type: "ready", port: handle.http.port });
  const stop = async () => {
    await handle.close().catch(() => {});
    process.exit(0);
  };
  process.on("message", (message) => {
    if (message?.type === "stop") void stop();
    // Between measurements only (started with --expose-gc): an idle RSS without the garbage
    // of earlier phases, so that peak − idle and the per-round peaks compare like with like.
    if (message?.type === "gc") {
      globalThis.gc?.();
      process.send?.({ type: "gc-done" });
    }
  });
  process.on("disconnect", () => void stop());
} catch (error) {
  process.send?.({ type: "error", message: String(error?.message ?? error) });
  process.exit(1);
}
